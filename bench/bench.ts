// npm run bench [-- --vs-pytorch] [-- --whole-experiment] [-- --sweep] [-- --browser] [--steps 500] [--rounds 3] [--epochs 30]
//
// Prints actlab's kernel and training figures as tables (every product per width against the core's
// measured ceiling; cost per sample against width and depth, plotted into bench/scaling.png) and
// writes bench/results.json. With
// --vs-pytorch it runs bench/pytorch_reference.py in the same session, alternating rounds with
// actlab's so that both see the same machine, and prints the ratios. With --whole-experiment it
// times `actlab experiment seed` against the notebook's whole run in PyTorch (minutes).
import { writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadMnist } from "../src/data/mnist.js";
import { Kernels } from "../src/engine/kernels.js";
import { defaultWorkerCount } from "../src/train/pool.js";
import { NORM_NAMES } from "../src/norms.js";
import type { ActivationName } from "../src/activations.js";
import { checkAllocation, measureTraining, NOTEBOOK_ACTIVATIONS, type NetName, type TrainingFigures } from "./measure.js";
import { runActlab } from "./processes.js";
import { measureCeiling, measureShapes, type ShapeFigure } from "./shapes.js";
import { EXTRA_NETS, flopsPerSample, formatScaling, measureNet, netLabel, netShares, SCALING_NETS, scalingPlot, stepsFor, type ScalingRow } from "./scaling.js";
import { benchSweeps, formatSweepFigures } from "./sweepBench.js";
import { pytorchUnavailable, runPytorch, type PytorchRecord, type PytorchRun } from "./pytorch.js";

const RESULTS = fileURLToPath(new URL("../../bench/results.json", import.meta.url));
const SCALING_PNG = fileURLToPath(new URL("../../bench/scaling.png", import.meta.url));
const SCALING_SVG = fileURLToPath(new URL("../../bench/scaling.svg", import.meta.url));

const { values: flags } = parseArgs({
  options: {
    "vs-pytorch": { type: "boolean", default: false },
    "whole-experiment": { type: "boolean", default: false },
    steps: { type: "string", default: "500" },
    warmup: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    epochs: { type: "string", default: "30" },
    workers: { type: "string" },
    "skip-scaling": { type: "boolean", default: false },
    "scaling-gflop": { type: "string", default: "25" },
    sweep: { type: "boolean", default: false },
    browser: { type: "boolean", default: false },
  },
});
const scalingGflop = positiveInteger(flags["scaling-gflop"], "--scaling-gflop");
const steps = positiveInteger(flags.steps, "--steps");
const warmup = positiveInteger(flags.warmup, "--warmup");
const rounds = positiveInteger(flags.rounds, "--rounds");
const epochs = positiveInteger(flags.epochs, "--epochs");
const workers = flags.workers === undefined ? defaultWorkerCount() : positiveInteger(flags.workers, "--workers");

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${flag} must be a positive integer, got ${text}`);
    process.exit(2);
  }
  return value;
}

const MODELS: Array<[NetName, ActivationName]> = (["shallow", "deeper"] as NetName[]).flatMap(
  (net) => NOTEBOOK_ACTIVATIONS.map((activation): [NetName, ActivationName] => [net, activation]),
);

const fmt = (value: number, digits = 0) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pad = (text: string, width: number) => text.padStart(width);

function machine() {
  const model = cpus()[0]?.model ?? "unknown CPU";
  const ghz = Number(/@\s*([\d.]+)\s*GHz/.exec(model)?.[1] ?? NaN);
  return { cpu: model, cores: cpus().length, nominalGHz: ghz, node: process.versions.node, v8: process.versions.v8, platform: `${process.platform} ${process.arch}` };
}

/** --browser: Chromium's samples/s against Node's for the notebook's nets (bench/browser.ts), printed only. */
async function browserMain(): Promise<void> {
  const { measureBrowser } = await import("./browser.js");
  const figures = await measureBrowser(rounds);
  console.log(`Training in Chromium (the Train page's worker) vs Node, one thread, samples/s (best of ${rounds})`);
  console.log(`  ${"net".padEnd(8)}${"activation".padEnd(12)}${pad("Node", 10)}${pad("Chromium", 10)}${pad("ratio", 8)}`);
  for (const f of figures) {
    console.log(`  ${f.net.padEnd(8)}${f.activation.padEnd(12)}${pad(fmt(f.nodeSamplesPerSecond), 10)}${pad(fmt(f.chromiumSamplesPerSecond), 10)}${pad(`${fmt(100 * f.ratio)}%`, 8)}`);
  }
  const total = figures.reduce((s, f) => s + f.chromiumSamplesPerSecond, 0) / figures.reduce((s, f) => s + f.nodeSamplesPerSecond, 0);
  console.log(`  overall: Chromium reaches ${fmt(100 * total)}% of Node's samples/s`);
}

async function main(): Promise<void> {
  if (flags.browser) {
    await browserMain();
    return;
  }
  const host = machine();
  const fma = new Kernels().fusedMultiplyAdd;
  console.log(`actlab benchmark: ${host.cpu}, ${host.cores} cores, Node ${host.node}`);
  console.log(`kernels: WebAssembly SIMD${fma ? " + relaxed SIMD (fused multiply-add)" : " (separate multiply and add: build with relaxed SIMD for FMA)"}\n`);
  if (flags.sweep) {
    // Only the sweep figure: trials per minute on the local pool (bench/sweepBench.ts).
    const figures = await benchSweeps(loadMnist({ shared: true }), workers, rounds);
    console.log(formatSweepFigures(figures));
    return;
  }

  // Kernels ----------------------------------------------------------------------------------
  const data = loadMnist();
  const ceilingBefore = measureCeiling();
  const kernels: ShapeFigure[] = measureShapes(data);
  const ceiling = Math.max(ceilingBefore, measureCeiling());
  console.log(`GEMM kernels, one thread (fastest of many calls), against this core's ceiling: ${fmt(ceiling, 1)} GFLOP/s ` +
    `(independent ${fma ? "fused multiply-adds" : "multiply-adds"} on 4 lanes, operands in registers, measured now)`);
  const shapeWidth = Math.max(...kernels.map((k) => k.product.length));
  console.log(`  ${"width".padStart(5)}  ${"product".padEnd(shapeWidth)}  ${pad("µs", 9)}  ${pad("GFLOP/s", 8)}  ${pad("ceiling", 7)}`);
  for (const k of kernels) {
    console.log(`  ${pad(String(k.width), 5)}  ${k.product.padEnd(shapeWidth)}  ${pad(fmt(k.us, 1), 9)}  ${pad(fmt(k.gflops, 1), 8)}  ${pad(fmt((100 * k.gflops) / ceiling) + "%", 7)}`);
  }
  console.log("  (the sparse first layer counts only its nonzero pixels' multiply-adds, the work it does)\n");

  // Training and evaluation, alternating rounds with PyTorch ------------------------------------
  const unavailable = flags["vs-pytorch"] ? pytorchUnavailable() : "not asked (--vs-pytorch)";
  if (flags["vs-pytorch"] && unavailable) console.log(`PyTorch: ${unavailable}; actlab's figures only.\n`);
  const ours = new Map<string, TrainingFigures[]>();
  const theirs = new Map<string, PytorchRecord[]>();
  let pytorchInfo: PytorchRun["summary"] | undefined;
  const key = (net: string, activation: string) => `${net}:${activation}`;
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`round ${round + 1}/${rounds}: actlab…`);
    for (const [net, activation] of MODELS) {
      const figures = measureTraining(data, net, activation, steps, warmup, round);
      ours.set(key(net, activation), [...(ours.get(key(net, activation)) ?? []), figures]);
    }
    if (!unavailable) {
      process.stderr.write(" PyTorch…");
      const run = await runPytorch(["--models", MODELS.map(([n, a]) => key(n, a)).join(","), "--steps", String(steps),
        "--warmup", String(warmup), "--eval-repeats", "3", "--seed", String(round)]);
      pytorchInfo = run.summary;
      for (const record of run.records) theirs.set(key(record.net, record.activation), [...(theirs.get(key(record.net, record.activation)) ?? []), record]);
    }
    process.stderr.write("\n");
  }

  const rows = MODELS.map(([net, activation]) => {
    const mine = ours.get(key(net, activation)) ?? [];
    const best = mine.reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
    const evalMs = Math.min(...mine.map((f) => f.evalMs));
    const reference = theirs.get(key(net, activation));
    const pytorch = reference && {
      samplesPerSecond: Math.max(...reference.map((r) => r.samples_per_s)),
      evalMs: Math.min(...reference.map((r) => r.eval_ms)),
      rounds: reference.map((r) => ({ samplesPerSecond: r.samples_per_s, evalMs: r.eval_ms })),
    };
    return {
      net, activation,
      actlab: { samplesPerSecond: best.samplesPerSecond, msPerStep: best.msPerStep, bestStepUs: best.bestStepUs, evalMs, rounds: mine },
      pytorch,
      ratio: pytorch ? best.samplesPerSecond / pytorch.samplesPerSecond : undefined,
      evalRatio: pytorch ? pytorch.evalMs / evalMs : undefined,
    };
  });

  console.log(`Training, batch 64, one model on one thread (best of ${rounds} rounds of ${steps} steps, loading included); evaluation of the 10,000 test images (fastest)`);
  const header = `  ${"net".padEnd(8)}${"activation".padEnd(12)}${pad("samples/s", 10)}${pad("ms/step", 9)}${pad("eval ms", 9)}`;
  console.log(header + (pytorchInfo ? ` │${pad("PyTorch/s", 10)}${pad("eval ms", 9)} │${pad("speed", 7)}${pad("eval", 7)}` : ""));
  for (const row of rows) {
    let line = `  ${row.net.padEnd(8)}${row.activation.padEnd(12)}${pad(fmt(row.actlab.samplesPerSecond), 10)}` +
      `${pad(fmt(row.actlab.msPerStep, 3), 9)}${pad(fmt(row.actlab.evalMs, 1), 9)}`;
    if (row.pytorch) {
      line += ` │${pad(fmt(row.pytorch.samplesPerSecond), 10)}${pad(fmt(row.pytorch.evalMs, 1), 9)} │` +
        `${pad(fmt(row.ratio ?? NaN, 2) + "×", 7)}${pad(fmt(row.evalRatio ?? NaN, 2) + "×", 7)}`;
    }
    console.log(line);
  }
  if (pytorchInfo) console.log(`  PyTorch ${pytorchInfo.torch}, ${pytorchInfo.threads} thread, BLAS: ${pytorchInfo.blas.join(", ") || "unknown"}; ratios > 1 favour actlab`);
  const allocation = await Promise.all((["shallow", "deeper"] as NetName[]).map((net) => checkAllocation(data, net, "tanh", 5000)));
  const collections = allocation.reduce((n, a) => n + a.garbageCollections, 0);
  const heapPerStep = Math.max(...allocation.map((a) => a.heapBytesPerStep));
  console.log(`  allocation: ${collections} garbage collections in 2 × 5,000 training steps (heap used grew ${fmt(heapPerStep, 1)} bytes per step, ` +
    "the clock and counters included; a step that allocated would set off collections)");

  // What --norm costs on the deeper net: the three settings alternate within each round.
  const normRounds = new Map<string, TrainingFigures[]>(NORM_NAMES.map((norm) => [norm, []]));
  for (let round = 0; round < rounds; round++) {
    for (const norm of NORM_NAMES) normRounds.get(norm)!.push(measureTraining(data, "deeper", "sigmoid", steps, warmup, round, norm));
  }
  const normCost = NORM_NAMES.map((norm) => {
    const mine = normRounds.get(norm)!;
    return { norm, msPerStep: Math.min(...mine.map((f) => f.msPerStep)), bestStepUs: Math.min(...mine.map((f) => f.bestStepUs)) };
  });
  console.log(`--norm on the deeper net (10 × 48, sigmoid, batch 64; best of ${rounds} rounds, and the fastest single step)`);
  for (const row of normCost) {
    const over = (value: number, base: number) => `${value >= base ? "+" : ""}${fmt(100 * (value / base - 1), 1)}%`;
    console.log(`  ${row.norm.padEnd(6)}${pad(fmt(row.msPerStep, 3), 8)} ms/step ${pad(over(row.msPerStep, normCost[0].msPerStep), 7)}` +
      `${pad(fmt(row.bestStepUs, 0), 8)} µs fastest step ${pad(over(row.bestStepUs, normCost[0].bestStepUs), 7)}`);
  }
  console.log("");
  const benchRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`  peak RSS of this benchmark process: ${fmt(benchRssMb)} MB\n`);

  // Cost against width and depth --------------------------------------------------------------
  let scaling: ScalingRow[] | undefined;
  let rss3x2048: number | undefined;
  if (!flags["skip-scaling"]) {
    const nets = [...SCALING_NETS, ...EXTRA_NETS];
    const steps = nets.map((net) => stepsFor(net, scalingGflop));
    scaling = nets.map((net) => ({ net: netLabel(net), layers: net.layers, width: net.width, sweep: net.sweep,
      mflopPerSample: flopsPerSample(net) / 1e6, actlab: 0, actlabFirst: 0,
      rounds: { actlab: [], actlab2: [], actlabFirst: [], actlab2First: [], pytorch1: [], pytorch2: [] } }));
    for (let round = 0; round < rounds; round++) {
      process.stderr.write(`scaling round ${round + 1}/${rounds}: actlab…`);
      nets.forEach((net, i) => {
        const row = scaling![i];
        const one = measureNet(data, net, steps[i], round);
        row.rounds.actlab.push(one.later);
        row.rounds.actlabFirst.push(one.first);
        if (netShares(net)) {
          const two = measureNet(data, net, steps[i], round, 2);
          row.rounds.actlab2.push(two.later);
          row.rounds.actlab2First.push(two.first);
        }
      });
      if (!unavailable) {
        for (const threads of [1, 2] as const) {
          process.stderr.write(` PyTorch ${threads}t…`);
          // Untimed steps first, as many as actlab's warm-up (PyTorch keeps nothing per image: no first pass).
          const run = await runPytorch(["--models", nets.map((n) => `${netLabel(n)}:relu`).join(","), "--steps-list", steps.join(","),
            "--warmup", String(Math.max(...steps)), "--no-eval", "--threads", String(threads), "--seed", String(round)]);
          for (const record of run.records) {
            const row = scaling.find((r) => r.net === record.net);
            row?.rounds[threads === 1 ? "pytorch1" : "pytorch2"].push(record.samples_per_s);
          }
        }
      }
      process.stderr.write("\n");
    }
    const best = (values: number[]) => (values.length ? Math.max(...values) : undefined);
    for (const row of scaling) {
      row.actlab = best(row.rounds.actlab)!;
      row.actlabFirst = best(row.rounds.actlabFirst)!;
      row.actlab2 = best(row.rounds.actlab2);
      row.actlab2First = best(row.rounds.actlab2First);
      row.pytorch1 = best(row.rounds.pytorch1);
      row.pytorch2 = best(row.rounds.pytorch2);
    }
    for (const line of formatScaling(scaling, rounds)) console.log(line);
    const plot = await scalingPlot(scaling);
    writeFileSync(SCALING_SVG, plot.svg);
    writeFileSync(SCALING_PNG, plot.png);
    // Memory: one 3 × 2048 model training in a process of its own (the trainer, one worker), for
    // three epochs: from the second epoch's end on, a resumable state is copied into handed-back
    // buffers, and what an epoch's end leaves for the collector shows.
    const logdir = mkdtempSync(join(tmpdir(), "actlab-bench-rss-"));
    try {
      const run = await runActlab(["train", "--layers", "3", "--hidden", "2048", "--activations", "relu", "--epochs", "3",
        "--train-limit", "6400", "--workers", "1", "--logdir", logdir]);
      rss3x2048 = run.peakRssMb;
      console.log(`  peak RSS of \`actlab train --layers 3 --hidden 2048 --workers 1\` (6,400 images, three epochs): ${fmt(rss3x2048)} MB`);
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
    console.log(`  plot: ${SCALING_PNG}\n`);
  }

  // The whole experiment ---------------------------------------------------------------------
  let whole: Record<string, unknown> | undefined;
  if (flags["whole-experiment"]) {
    const logdir = mkdtempSync(join(tmpdir(), "actlab-bench-"));
    try {
      process.stderr.write(`actlab experiment seed --epochs ${epochs} --workers ${workers}…\n`);
      const mine = await runActlab(["experiment", "seed", "--epochs", String(epochs), "--workers", String(workers), "--logdir", logdir]);
      const summaries = ["05_shallow_mlp", "05_deeper_mlp"].map((dir) => JSON.parse(readFileSync(join(logdir, dir, "summary.json"), "utf8")) as unknown);
      let reference: PytorchRun | undefined;
      if (!unavailable) {
        process.stderr.write(`pytorch_reference.py --whole-experiment --epochs ${epochs}…\n`);
        reference = await runPytorch(["--whole-experiment", "--epochs", String(epochs)]);
      }
      whole = {
        epochs, workers,
        actlab: { wallSeconds: mine.wallSeconds, peakRssMb: mine.peakRssMb, summaries },
        pytorch: reference && {
          wallSeconds: reference.wallSeconds, peakRssMb: reference.peakRssMb, totalSeconds: reference.summary.total_s,
          final: reference.records.filter((r) => r.epoch === epochs).map((r) => ({ net: r.net, activation: r.activation, test_acc: r.test_acc, train_loss: r.train_loss })),
        },
        ratio: reference ? reference.wallSeconds / mine.wallSeconds : undefined,
      };
      console.log(`Whole experiment (the notebook's 6 models, ${epochs} epochs, evaluation included; wall time of the process)`);
      console.log(`  actlab experiment seed, ${workers} worker${workers === 1 ? "" : "s"}: ${fmt(mine.wallSeconds, 1)} s, peak RSS ${fmt(mine.peakRssMb)} MB`);
      if (reference) {
        console.log(`  PyTorch, one model after another:  ${fmt(reference.wallSeconds, 1)} s, peak RSS ${fmt(reference.peakRssMb)} MB`);
        console.log(`  actlab takes ${fmt(100 * mine.wallSeconds / reference.wallSeconds, 0)}% of PyTorch's time (${fmt(reference.wallSeconds / mine.wallSeconds, 2)}× faster)\n`);
      }
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
  }

  const results = {
    date: new Date().toISOString(),
    machine: host,
    kernels: { fusedMultiplyAdd: fma, ceilingGflops: ceiling, shapes: kernels },
    scaling, rss3x2048Mb: rss3x2048,
    settings: { steps, warmup, rounds, batch: 64, testBatch: 256 },
    pytorch: pytorchInfo,
    training: rows,
    norm: normCost,
    allocation,
    benchPeakRssMb: benchRssMb,
    wholeExperiment: whole,
  };
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
}

await main();
