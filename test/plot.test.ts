// Activation plots and the comparison table: the SVG has one line per curve with every point, the
// PNG decodes to the size asked for, and the measured ranges are the known mathematical ones.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Command } from "commander";
import { ACTIVATION_NAMES, ACTIVATIONS } from "../src/activations.js";
import { registerPlot } from "../src/cli/commands/plot.js";
import { activationCurve, grid } from "../src/engine/curves.js";
import { InputError } from "../src/errors.js";
import { activationPlotSpec, CURVE_LABELS, plotActivations } from "../src/plot/activationPlot.js";
import { activationTable, formatActivationTable } from "../src/plot/activationTable.js";
import { readPng } from "../src/plot/png.js";
import { renderPng, svgSize } from "../src/plot/render.js";

interface LinePath {
  label: string;
  points: Array<[number, number]>;
}

/** The line marks of a vega SVG, with the points of each path's `d` (both "M x,y L x,y" and "Mx,yLx,y"). */
function linePaths(svg: string): LinePath[] {
  const paths = svg.match(/<path\b[^>]*aria-roledescription="line mark"[^>]*>/g) ?? [];
  return paths.map((tag) => {
    const d = /\sd="([^"]*)"/.exec(tag)![1];
    const commands = [...d.matchAll(/([A-Za-z])\s*([^A-Za-z]*)/g)];
    const points = commands.map(([, command, args]) => {
      assert.ok(command === "M" || command === "L", `a line path uses only M and L, found ${command} in ${d.slice(0, 60)}`);
      const numbers = args.trim().split(/[\s,]+/).map(Number);
      assert.equal(numbers.length, 2, `each ${command} has one x,y pair`);
      assert.ok(numbers.every(Number.isFinite));
      return numbers as [number, number];
    });
    return { label: /aria-label="([^"]*)"/.exec(tag)?.[1] ?? "", points };
  });
}

const temp = mkdtempSync(join(tmpdir(), "actlab-plot-"));
after(() => rmSync(temp, { recursive: true, force: true }));

describe("activation plot", () => {
  it("has one path per curve, two per activation, each with every point, in the order asked", async () => {
    const names = ["sigmoid", "relu", "tanh"] as const;
    const points = 137;
    const { svg } = await plotActivations([...names], { from: -4, to: 3, points });
    const paths = linePaths(svg);
    assert.equal(paths.length, 2 * names.length);
    const x = grid(-4, 3, points);
    paths.forEach((path, i) => {
      assert.equal(path.points.length, points, `path ${i} has ${path.points.length} points`);
      const name = names[Math.floor(i / 2)];
      const derivative = i % 2 === 1;
      // The label names the curve and its first datum: f(−4) or f'(−4) as the kernels compute it.
      const label = /x: (\S+); y: (\S+); curve: (.+)$/.exec(path.label.replaceAll("−", "-"));
      assert.ok(label, `label "${path.label}"`);
      assert.equal(label[3], derivative ? CURVE_LABELS.derivative : CURVE_LABELS.value);
      assert.equal(Number(label[1]), -4);
      const curve = activationCurve(name, x);
      const expected = derivative ? curve.dydx[0] : curve.y[0];
      assert.ok(Math.abs(Number(label[2]) - expected) <= 1e-9 + 1e-9 * Math.abs(expected), `${name} ${label[3]} at −4: ${label[2]} vs ${expected}`);
      // x pixels increase strictly: every point is drawn, none merged or dropped.
      for (let k = 1; k < points; k++) assert.ok(path.points[k][0] > path.points[k - 1][0]);
    });
    // relu's f' is a step: its path sits at exactly two heights.
    assert.equal(new Set(paths[3].points.map(([, y]) => y)).size, 2);
  });

  it("plots the backward kernel's output as f', not a second formula", () => {
    const spec = activationPlotSpec(["gelu"], { points: 50 }) as unknown as { data: { values: Array<{ curve: string; y: number }> } };
    const curve = activationCurve("gelu", grid(-5, 5, 50));
    const plotted = spec.data.values.filter((v) => v.curve === CURVE_LABELS.derivative).map((v) => v.y);
    assert.deepEqual(plotted, Array.from(curve.dydx));
  });

  it("draws every activation in the catalogue when none is named", async () => {
    const { svg } = await plotActivations([], { points: 20 });
    assert.equal(linePaths(svg).length, 2 * ACTIVATION_NAMES.length);
  });

  it("renders a PNG that decodes to the stated size", async () => {
    const { svg, png } = await plotActivations(["softsign", "elu"], { png: true, width: 640 });
    const { width, height } = svgSize(svg);
    const image = readPng(png!);
    assert.equal(image.width, 640);
    assert.equal(image.height, Math.round((height * 640) / width));
    assert.equal(image.bitDepth, 8);
    assert.equal(image.colorType, 6);
    // Not a blank canvas: some rows differ from the first (white) one.
    const rowBytes = 1 + 4 * image.width;
    const firstRow = image.scanlines.subarray(1, rowBytes);
    let differing = 0;
    for (let r = 1; r < image.height; r++) {
      if (Buffer.compare(Buffer.from(image.scanlines.subarray(r * rowBytes + 1, (r + 1) * rowBytes)), Buffer.from(firstRow)) !== 0) differing++;
    }
    assert.ok(differing > image.height / 4, `${differing} of ${image.height} rows drawn`);
    // Without a width, the PNG is twice the SVG's size.
    const doubled = readPng(renderPng(svg));
    assert.deepEqual([doubled.width, doubled.height], [2 * width, 2 * height]);
  });

  it("refuses unknown names, an empty interval and too few points with InputError", () => {
    assert.throws(() => activationPlotSpec(["sigmod"]), (e: Error) => e instanceof InputError && /did you mean "sigmoid"/.test(e.message) && e.message.includes(ACTIVATION_NAMES.join(", ")));
    assert.throws(() => activationPlotSpec(["relu", "relu"]), InputError);
    assert.throws(() => activationPlotSpec(["relu"], { from: 1, to: 1 }), (e: Error) => e instanceof InputError && /from < to/.test(e.message));
    assert.throws(() => activationPlotSpec(["relu"], { points: 1 }), InputError);
  });
});

describe("actlab plot (command)", () => {
  async function runPlot(args: string[]): Promise<{ code: number | undefined; stdout: string }> {
    const program = new Command().exitOverride();
    let code: number | undefined;
    registerPlot(program, (c) => { code = c; });
    program.commands.forEach((c) => c.exitOverride());
    const write = process.stdout.write;
    let stdout = "";
    process.stdout.write = ((chunk: string) => { stdout += chunk; return true; }) as typeof process.stdout.write;
    try {
      await program.parseAsync(["plot", ...args], { from: "user" });
    } finally {
      process.stdout.write = write;
    }
    return { code, stdout };
  }

  it("writes an SVG with negative --from and comma-separated names", async () => {
    const out = join(temp, "nested", "two.svg");
    const { code, stdout } = await runPlot(["tanh,relu", "--out", out, "--from", "-2", "--to", "2", "--points", "30"]);
    assert.equal(code, 0);
    assert.match(stdout, /wrote .*two\.svg/);
    const paths = linePaths(readFileSync(out, "utf8"));
    assert.deepEqual(paths.map((p) => p.points.length), [30, 30, 30, 30]);
  });

  it("rejects another extension, --from ≥ --to and a bad name as InputError", async () => {
    await assert.rejects(runPlot(["--out", join(temp, "x.jpg")]), (e: Error) => e instanceof InputError && /\.svg or \.png/.test(e.message));
    await assert.rejects(runPlot(["--from", "3", "--to", "-3", "--out", join(temp, "x.svg")]), (e: Error) => e instanceof InputError && /--from/.test(e.message));
    await assert.rejects(runPlot(["nope"]), (e: Error) => e instanceof InputError && /valid names/.test(e.message));
  });

  it("prints the table as JSON with --table --json", async () => {
    const { code, stdout } = await runPlot(["--table", "--json", "relu"]);
    assert.equal(code, 0);
    const rows = JSON.parse(stdout) as Array<{ name: string; output: { high: unknown; text: string } }>;
    assert.deepEqual(rows.map((r) => r.name), ["relu"]);
    assert.equal(rows[0].output.high, "Infinity");
    assert.equal(rows[0].output.text, "[0, ∞)");
  });
});

describe("activation table (ranges measured from the kernels)", () => {
  const rows = new Map(activationTable().map((r) => [r.name, r]));

  it("sigmoid: output (0, 1), derivative (0, 0.25] peaking at exactly 0.25", () => {
    const sigmoid = rows.get("sigmoid")!;
    assert.equal(sigmoid.output.text, "(0, 1)");
    assert.deepEqual([sigmoid.output.low, sigmoid.output.high, sigmoid.output.lowClosed, sigmoid.output.highClosed], [0, 1, false, false]);
    assert.equal(sigmoid.derivative.high, 0.25);
    assert.equal(sigmoid.derivative.highClosed, true);
    assert.equal(sigmoid.derivative.text, "(0, 0.25]");
    assert.equal(sigmoid.symmetry, "point-symmetric about (0, 0.5)");
  });

  it("relu: output [0, ∞), derivative only 0 and 1", () => {
    const relu = rows.get("relu")!;
    assert.equal(relu.output.text, "[0, ∞)");
    assert.equal(relu.output.high, Infinity);
    assert.deepEqual(relu.derivative.values, [0, 1]);
    assert.equal(relu.derivative.text, "{0, 1}");
  });

  it("tanh: output (−1, 1), odd, derivative (0, 1]", () => {
    const tanh = rows.get("tanh")!;
    assert.equal(tanh.output.text, "(−1, 1)");
    assert.equal(tanh.symmetry, "odd");
    assert.equal(tanh.derivative.text, "(0, 1]");
  });

  it("measures interior extrema: gelu's minimum is x·Φ(x) at its stationary point, −0.16997", () => {
    const gelu = rows.get("gelu")!;
    assert.ok(gelu.output.lowClosed);
    assert.ok(Math.abs(gelu.output.low - -0.169971) < 1e-4, `${gelu.output.low}`);
    assert.equal(gelu.output.text, "[−0.17, ∞)");
  });

  it("bounded and clipped ranges: sin is [−1, 1] (periodic, not growing), relu6 reaches 6, gaussian is even", () => {
    assert.equal(rows.get("sin")!.output.text, "[−1, 1]");
    assert.equal(rows.get("sin")!.symmetry, "odd");
    assert.equal(rows.get("relu6")!.output.text, "[0, 6]");
    assert.equal(rows.get("relu6")!.derivative.text, "{0, 1}");
    assert.equal(rows.get("hardsigmoid")!.derivative.text, "{0, 0.167}");
    assert.equal(rows.get("gaussian")!.output.text, "(0, 1]");
    assert.equal(rows.get("gaussian")!.symmetry, "even");
    assert.equal(rows.get("logsigmoid")!.output.text, "(−∞, 0)");
  });

  it("agrees with the catalogue on where each derivative vanishes", () => {
    for (const name of ACTIVATION_NAMES) {
      const { negative, positive } = rows.get(name)!.derivative.limits;
      const measured = negative === 0 && positive === 0 ? "both sides" : negative === 0 ? "negative side" : positive === 0 ? "positive side" : "no";
      assert.equal(measured, ACTIVATIONS[name].saturates, name);
    }
  });

  it("formats one line per activation under a header", () => {
    const text = formatActivationTable([...rows.values()]);
    const lines = text.split("\n");
    assert.equal(lines.length, 2 + ACTIVATION_NAMES.length);
    assert.match(lines[0], /^activation\s+expression\s+output range/);
    assert.match(lines.find((l) => l.startsWith("sigmoid"))!, /\(0, 1\)\s+no\s+.*\(0, 0\.25\]\s+both sides\s+no$/);
  });
});
