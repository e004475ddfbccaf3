// The dashboard's server: its JSON API against a small run trained here, the files it refuses to
// serve (every traversal form, symlinks out), files it skips with a warning instead of failing, its
// default address, and the `actlab serve` command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, test } from "node:test";
import { Command } from "commander";
import { compile } from "vega-lite";
import { registerServe } from "../src/cli/commands/serve.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { activationCurve, grid } from "../src/engine/curves.js";
import { InputError } from "../src/errors.js";
import { readEventDir } from "../src/log/eventReader.js";
import { makeHistogram } from "../src/log/histogram.js";
import type { ConfigResponse, CurvesResponse, HistogramsResponse, JsonFileResponse, MetricsResponse, RunsResponse } from "../src/serve/apiTypes.js";
import { bucketIntervals, rebin, sharedEdges } from "../src/serve/histogramBins.js";
import { activationRows, curveRows, depthRows, heatRows, overlayRows, unitRows } from "../src/serve/page/chartData.js";
import { activationSpec, depthSpec, heatmapSpec, metricSpec, overlaySpec, unitsSpec } from "../src/serve/page/charts.js";
import { defaultViewState, formatViewState, parseViewState } from "../src/serve/page/viewState.js";
import { startServer, type DashboardServer } from "../src/serve/server.js";
import { runExperiments } from "../src/train/experiment.js";
import { smallRunSpec } from "./support/smallRun.js";

const repoRoot = new URL("../../", import.meta.url).pathname;
let work: string;
let logdir: string;
let outside: string;
let server: DashboardServer;

/** A raw GET: the path goes out exactly as written (fetch would normalise `..` away). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  const { port } = server;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => { body += chunk; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function api<T>(path: string): Promise<T> {
  const res = await get(path);
  assert.equal(res.status, 200, `${path}: ${res.body}`);
  return JSON.parse(res.body) as T;
}

function fileRecords(run: string): unknown[] {
  return readFileSync(join(logdir, run, "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "actlab-serve-"));
  logdir = join(work, "runs");
  outside = join(work, "outside");
  mkdirSync(logdir);
  mkdirSync(outside);
  await runExperiments([smallRunSpec(logdir, "alpha", [0, 1], ["tanh", "relu"])], { data: loadMnist(), workers: 0 });
  cpSync(join(logdir, "alpha"), join(logdir, "group", "nested"), { recursive: true });
  mkdirSync(join(logdir, "not-a-run"));
  writeFileSync(join(logdir, "not-a-run", "notes.txt"), "no metrics here\n");
  writeFileSync(join(outside, "secret.txt"), "outside the log directory\n");
  cpSync(join(logdir, "alpha", "metrics.jsonl"), join(outside, "metrics.jsonl"));
  symlinkSync(outside, join(logdir, "link-out"));
  symlinkSync(join(outside, "secret.txt"), join(logdir, "alpha", "leak.txt"));
  server = await startServer({ logdir, port: 0 });
});

after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

test("listing: every folder with a metrics.jsonl, nested ones too, never through a symlink", async () => {
  const listing = await api<RunsResponse>("/api/runs");
  assert.deepEqual(listing.runs.map((r) => r.name), ["alpha", "group/nested"]);
  const alpha = listing.runs[0];
  assert.deepEqual(alpha.models, ["tanh", "relu"]);
  assert.deepEqual(alpha.seeds, [0, 1]);
  assert.equal(alpha.epochs, 2);
  assert.equal(alpha.layers, 4);
  assert.equal(alpha.status, "finished");
  assert.equal(alpha.experiment, "alpha");
  assert.deepEqual(alpha.warnings, []);
  assert.deepEqual(listing.warnings, []);
});

test("metrics, config and summary: the run's own files, as written", async () => {
  const metrics = await api<MetricsResponse>("/api/metrics?run=alpha");
  assert.equal(metrics.records.length, 2 * 2 * 2);
  assert.deepEqual(metrics.records, fileRecords("alpha"));
  assert.equal(metrics.records[0].diagnostics?.layers.length, 4);
  assert.equal(metrics.records[0].diagnostics?.hidden.length, 3);
  assert.deepEqual(metrics.warnings, []);
  for (const file of ["config", "summary"]) {
    const answer = await api<JsonFileResponse>(`/api/${file}?run=alpha`);
    assert.deepEqual(answer.value, JSON.parse(readFileSync(join(logdir, "alpha", `${file}.json`), "utf8")));
  }
  const nested = await api<MetricsResponse>(`/api/metrics?run=${encodeURIComponent("group/nested")}`);
  assert.equal(nested.records.length, 8);
});

test("histograms: raw buckets as the event files hold them, for every layer and epoch", async () => {
  const raw = await api<HistogramsResponse>("/api/histograms?run=alpha&kind=weight&layer=2&model=tanh&seed=1");
  assert.equal(raw.series.length, 1);
  const [series] = raw.series;
  assert.equal(series.tag, "weight/tanh_seed1/2");
  assert.deepEqual(series.steps.map((s) => s.step), [0, 1]);
  // Independently decoded with the strict reader.
  const decoded = readEventDir(join(logdir, "alpha")).flatMap((f) => (f.ok ? f.events : []))
    .flatMap((e) => e.histograms.filter((h) => h.tag === "weight/tanh_seed1/2").map((h) => ({ step: e.step, h })));
  assert.equal(decoded.length, 2);
  for (const { step, h } of decoded) {
    const served = series.steps.find((s) => s.step === step)!;
    assert.deepEqual(served.bucketLimit, h.bucketLimit);
    assert.deepEqual(served.bucket, h.bucket);
    assert.equal(served.bucket!.reduce((a, b) => a + b, 0), 32 * 32);
  }
  for (const layer of [1, 4]) {
    const answer = await api<HistogramsResponse>(`/api/histograms?run=alpha&kind=grad_weight&layer=${layer}`);
    assert.deepEqual(answer.series.map((s) => s.tag), [`grad_weight/tanh_seed0/${layer}`, `grad_weight/relu_seed0/${layer}`]);
    for (const s of answer.series) assert.deepEqual(s.steps.map((st) => st.step), [0, 1]);
  }
});

test("histograms rebinned: counts conserved, and they match the checkpoint's own weights", async () => {
  const bins = 16;
  const answer = await api<HistogramsResponse>(`/api/histograms?run=alpha&kind=weight&layer=2&model=relu&seed=0&bins=${bins}&scale=linear`);
  assert.equal(answer.edges!.length, bins + 1);
  const last = answer.series[0].steps.find((s) => s.step === 1)!;
  assert.ok(Math.abs(last.counts!.reduce((a, b) => a + b, 0) - 32 * 32) < 1e-6);
  // The final epoch's histogram is of the weights the checkpoint holds: count them straight into the same bins.
  const weights = readSafetensors(join(logdir, "alpha", "relu_seed0.safetensors")).tensors.get("layers.2.weight")!.data as Float32Array;
  const edges = answer.edges!;
  const direct = new Array<number>(bins).fill(0);
  for (const w of weights) direct[Math.min(bins - 1, Math.floor(((w - edges[0]) / (edges[bins] - edges[0])) * bins))]++;
  // Each exponential bucket (10% wide) is spread evenly over the bins it touches: a few values move across an edge.
  last.counts!.forEach((c, k) => assert.ok(Math.abs(c - direct[k]) <= 0.03 * weights.length, `bin ${k}: ${c} vs ${direct[k]}`));
});

test("rebinning on log10|x|: a vanishing gradient sits where its magnitude is", () => {
  const values = new Float32Array(2000);
  values.fill(1e-6, 0, 500);
  values.fill(-1e-6, 500, 1000);
  values.fill(1e-2, 1000);
  const intervals = bucketIntervals(makeHistogram(values), "log");
  const edges = sharedEdges(intervals, 10, "log");
  const counts = rebin(intervals, edges);
  assert.ok(Math.abs(counts.reduce((a, b) => a + b, 0) - 2000) < 1e-9);
  const centre = (k: number) => (edges[k] + edges[k + 1]) / 2;
  const massNear = (x: number) => counts.reduce((sum, c, k) => sum + (Math.abs(centre(k) - x) <= 0.5 ? c : 0), 0);
  assert.ok(massNear(-6) >= 999, `mass near 1e-6: ${massNear(-6)}`);
  assert.ok(massNear(-2) >= 999, `mass near 1e-2: ${massNear(-2)}`);
});

test("activation curves are the training kernels' values and derivatives", async () => {
  const answer = await api<CurvesResponse>("/api/activations/curves?name=tanh&name=relu&from=-2&to=2&points=5&slope=0.01");
  assert.deepEqual(answer.x, [-2, -1, 0, 1, 2]);
  for (const curve of answer.curves) {
    const kernel = activationCurve(curve.name as "tanh" | "relu", grid(-2, 2, 5), 0.01);
    assert.deepEqual(curve.y, Array.from(kernel.y));
    assert.deepEqual(curve.dydx, Array.from(kernel.dydx));
  }
  const tanh = answer.curves.find((c) => c.name === "tanh")!;
  answer.x.forEach((x, i) => {
    assert.ok(Math.abs(tanh.y[i] - Math.tanh(x)) < 1e-6);
    assert.ok(Math.abs(tanh.dydx[i] - (1 - Math.tanh(x) ** 2)) < 1e-5);
  });
  assert.deepEqual(answer.curves.find((c) => c.name === "relu")!.y, [0, 0, 0, 1, 2]);
  const bad = await get("/api/activations/curves?name=swish");
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).error, /unknown activation "swish".*sigmoid, tanh, relu/);
  assert.equal((await get("/api/activations/curves?name=relu&from=3&to=1")).status, 400);
});

test("path traversal is refused in every form, and a symlink cannot lead out", async () => {
  const ok = await get("/files/alpha/config.json");
  assert.equal(ok.status, 200);
  assert.equal(ok.body, readFileSync(join(logdir, "alpha", "config.json"), "utf8"));
  assert.match(ok.type, /^text\/plain/);
  const refused = [
    "/files/../package.json", "/files/alpha/../../package.json", "/files/%2e%2e/package.json", "/files/%2E%2E/%2E%2E/package.json",
    "/files/..%2fpackage.json", "/files/%2e%2e%2f%2e%2e%2fpackage.json", "/files/alpha/..%5c..%5cpackage.json",
    "/files//etc/passwd", "/files/%2fetc%2fpasswd", "/files/alpha/%00", "/app/../../../package.json", "/app/%2e%2e/server.js",
    "/files/link-out/secret.txt", "/files/alpha/leak.txt",
    "/api/metrics?run=..", "/api/metrics?run=%2e%2e", "/api/metrics?run=../alpha", "/api/metrics?run=/etc",
    "/api/metrics?run=link-out", "/api/config?run=alpha/../..", "/api/histograms?run=..&layer=1",
  ];
  for (const path of refused) {
    const res = await get(path);
    assert.equal(res.status, 403, `${path} answered ${res.status}: ${res.body}`);
    assert.doesNotMatch(res.body, /outside the log directory|"name": "actlab"/);
  }
  for (const path of ["/files/alpha", "/files/alpha/nope.json", "/api/metrics?run=not-a-run", "/api/metrics?run=nope", "/app/nope.js", "/etc/passwd", "//etc/passwd"]) {
    assert.equal((await get(path)).status, 404, path);
  }
  assert.equal((await get(`http://127.0.0.1:${server.port}/files/alpha/config.json`)).status, 400);
});

test("a malformed metrics line, config and event file are skipped with warnings, not failures", async () => {
  const dir = join(logdir, "broken");
  cpSync(join(logdir, "alpha"), dir, { recursive: true, filter: (src) => !src.endsWith("leak.txt") });
  const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n");
  lines.splice(2, 0, "{\"model\": \"tanh\", oops");
  writeFileSync(join(dir, "metrics.jsonl"), lines.join("\n") + "{\"model\": \"relu\", \"seed\"");
  writeFileSync(join(dir, "config.json"), "{ not json");
  const eventFile = readdirSync(dir).find((f) => f.includes("tfevents"))!;
  const bytes = readFileSync(join(dir, eventFile));
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(join(dir, "events.out.tfevents.9999999999.corrupt"), bytes);

  const listing = await api<RunsResponse>("/api/runs");
  const broken = listing.runs.find((r) => r.name === "broken")!;
  assert.deepEqual(broken.models, ["tanh", "relu"]);
  assert.ok(broken.warnings.some((w) => /broken\/metrics.jsonl: line 3 is not valid JSON/.test(w)), broken.warnings.join("\n"));
  assert.ok(broken.warnings.some((w) => /broken\/config.json is not valid JSON/.test(w)));
  assert.deepEqual(listing.runs.find((r) => r.name === "alpha")!.warnings, []);

  const metrics = await api<MetricsResponse>("/api/metrics?run=broken");
  assert.deepEqual(metrics.records, fileRecords("alpha"));
  assert.deepEqual(metrics.warnings, ["broken/metrics.jsonl: line 3 is not valid JSON; skipped"]);
  assert.equal((await api<JsonFileResponse>("/api/config?run=broken")).value, null);

  const histograms = await api<HistogramsResponse>("/api/histograms?run=broken&layer=1&bins=8&scale=log");
  assert.ok(histograms.warnings.some((w) => /corrupt event file: broken\/events.out.tfevents.9999999999.corrupt.*CRC mismatch/.test(w)), histograms.warnings.join("\n"));
  assert.deepEqual(histograms.series.map((s) => s.steps.length), [2, 2]);
  const page = await get("/");
  assert.equal(page.status, 200);
});

test("a run still being written: new epochs show up, a half-written line or record waits", async () => {
  const dir = join(logdir, "live");
  mkdirSync(dir);
  cpSync(join(logdir, "alpha", "config.json"), join(dir, "config.json"));
  const all = readFileSync(join(logdir, "alpha", "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "");
  writeFileSync(join(dir, "metrics.jsonl"), all.slice(0, 2).join("\n") + "\n" + all[2].slice(0, 30));
  const eventFile = readdirSync(join(logdir, "alpha")).find((f) => f.includes("tfevents"))!;
  const events = readFileSync(join(logdir, "alpha", eventFile));
  const cut = Math.floor(events.length * 0.6);
  writeFileSync(join(dir, eventFile), events.subarray(0, cut));

  const before = (await api<RunsResponse>("/api/runs")).runs.find((r) => r.name === "live")!;
  const halfWritten = await api<MetricsResponse>("/api/metrics?run=live");
  assert.equal(halfWritten.records.length, 2);
  assert.deepEqual(halfWritten.warnings, []);
  const partial = await api<HistogramsResponse>("/api/histograms?run=live&kind=weight&layer=4&model=relu&seed=1");
  assert.deepEqual(partial.warnings, []);
  // relu seed 1 trained last, so the cut file lacks at least its last epoch.
  const partialSteps = partial.series[0].steps;
  assert.ok(partialSteps.length < 2);

  appendFileSync(join(dir, "metrics.jsonl"), all[2].slice(30) + "\n" + all.slice(3).join("\n") + "\n");
  appendFileSync(join(dir, eventFile), events.subarray(cut));
  const afterListing = (await api<RunsResponse>("/api/runs")).runs.find((r) => r.name === "live")!;
  assert.notEqual(afterListing.version, before.version);
  assert.equal((await api<MetricsResponse>("/api/metrics?run=live")).records.length, 8);
  const full = await api<HistogramsResponse>("/api/histograms?run=live&kind=weight&layer=4&model=relu&seed=1");
  const reference = await api<HistogramsResponse>("/api/histograms?run=alpha&kind=weight&layer=4&model=relu&seed=1");
  assert.deepEqual(full.series.map((s) => s.steps), reference.series.map((s) => s.steps));
  assert.equal(full.series[0].steps.length, 2);
  assert.deepEqual(partialSteps, full.series[0].steps.slice(0, partialSteps.length));
});

test("binds 127.0.0.1 unless told otherwise, and refuses other Host names there", async () => {
  assert.equal(server.host, "127.0.0.1");
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
  if (external) {
    await assert.rejects(fetch(`http://${external.address}:${server.port}/api/runs`), "reachable from a non-loopback address");
  }
  assert.equal((await get("/api/runs", { host: "attacker.example:80" })).status, 403);
  const program = new Command();
  registerServe(program, () => undefined);
  const serve = program.commands.find((c) => c.name() === "serve")!;
  assert.equal(serve.options.find((o) => o.long === "--host")!.defaultValue, "127.0.0.1");
  assert.equal(serve.options.find((o) => o.long === "--port")!.defaultValue, "6006");
});

test("a port in use or a missing log directory is a clear InputError", async () => {
  await assert.rejects(startServer({ logdir, port: server.port }), (error: unknown) =>
    error instanceof InputError && /--port \d+: the port is already in use/.test(error.message));
  await assert.rejects(startServer({ logdir: join(work, "nowhere"), port: 0 }), (error: unknown) =>
    error instanceof InputError && /log directory .*nowhere does not exist/.test(error.message));
});

function runCli(args: string[], untilOutput?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string; url?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "dist/src/cli/main.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let url: string | undefined;
    child.stdout.on("data", async (chunk) => {
      stdout += chunk;
      const match = untilOutput && url === undefined ? untilOutput.exec(stdout) : null;
      if (match) {
        url = match[1];
        const listing = (await (await fetch(`${url}api/runs`)).json()) as RunsResponse;
        assert.ok(listing.runs.some((r) => r.name === "alpha"));
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, url }));
  });
}

test("actlab serve: serves until Ctrl-C, then exits 0; bad flags and a busy port exit 2", async () => {
  const served = await runCli(["serve", logdir, "--port", "0"], /(http:\/\/127\.0\.0\.1:\d+\/)/);
  assert.ok(served.url, served.stdout + served.stderr);
  assert.equal(served.code, 0, served.stderr);
  const badPort = await runCli(["serve", logdir, "--port", "70000"]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be a whole number from 0 to 65535/);
  const busy = await runCli(["serve", logdir, "--port", String(server.port)]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, /already in use/);
});

test("the page and its modules are served; the view state round-trips through the URL", async () => {
  const page = await get("/");
  assert.match(page.type, /^text\/html/);
  assert.match(page.body, /src="\/app\/app.js"/);
  for (const asset of ["/app/app.js", "/app/viewState.js", "/vendor/vega.min.js", "/vendor/vega-lite.min.js", "/style.css"]) {
    assert.equal((await get(asset)).status, 200, asset);
  }
  assert.equal(formatViewState(defaultViewState()), "");
  const state = { ...defaultViewState(), runs: ["a/b", "c d"], models: ["relu"], seed: 1, layer: 3, epoch: 2, hist: "weight" as const, scale: "linear" as const, act: [], from: -3, to: 4, slope: 0.2 };
  assert.deepEqual(parseViewState(formatViewState(state)), state);
  assert.deepEqual(parseViewState("?layer=x&epoch=-1&from=5&to=1&scale=bogus"), defaultViewState());
});

test("every chart's Vega-Lite spec compiles, with the rows it was given", async () => {
  const metrics = await api<MetricsResponse>("/api/metrics?run=alpha");
  const data = [{ run: "alpha", records: metrics.records }];
  const all = () => true;
  const labels = ["tanh", "relu"];
  const hist = await api<HistogramsResponse>("/api/histograms?run=alpha&layer=1&bins=20&scale=log");
  const curves = await api<CurvesResponse>("/api/activations/curves?name=tanh&name=relu");
  const heat = heatRows(hist);
  assert.deepEqual([...heat.keys()], labels);
  const specs = [
    metricSpec(curveRows(data, all), "test_acc", labels, true),
    depthSpec(depthRows(data, all, 2), labels),
    unitsSpec(unitRows(data, all, 2), labels),
    overlaySpec(overlayRows(hist, 2), labels, "grad_weight", "log"),
    heatmapSpec(heat.get("tanh")!, "tanh", hist.edges!, "grad_weight", "log", 1),
    activationSpec(activationRows(curves), ["tanh", "relu"]),
  ];
  for (const spec of specs) {
    const compiled = compile(spec as never).spec as { data: { name: string; values?: unknown[] }[] };
    const rows = compiled.data.find((d) => d.name === "rows")!;
    assert.ok(rows.values!.length > 0);
  }
  // Relu defines dead units and tanh saturated ones; each hidden layer has one row per seed.
  const units = unitRows(data, all, 2);
  assert.equal(units.filter((u) => u.label === "relu" && u.measure === "dead").length, 3 * 2);
  assert.equal(units.filter((u) => u.label === "tanh" && u.measure === "saturated").length, 3 * 2);
});

describe("run formats in the dashboard (issue 9: wrong-shape files, a killed writer, one run folder served)", () => {
  let own: string;
  let dashboard: DashboardServer;
  const lines = () => readFileSync(join(logdir, "alpha", "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "");
  const json = async <T>(path: string, at = dashboard): Promise<T> => {
    const res = await fetch(new URL(path, at.url));
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };

  before(async () => {
    own = mkdtempSync(join(tmpdir(), "actlab-serve-format-"));
    for (const run of ["good", "shapes", "killed"]) cpSync(join(logdir, "alpha"), join(own, run), { recursive: true });
    const config = JSON.parse(readFileSync(join(own, "shapes", "config.json"), "utf8")) as Record<string, unknown>;
    const summary = JSON.parse(readFileSync(join(own, "shapes", "summary.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(own, "shapes", "config.json"), JSON.stringify({ ...config, models: 5 }));
    writeFileSync(join(own, "shapes", "summary.json"), JSON.stringify({ ...summary, rows: [1, "two"] }));
    const [first, ...rest] = lines();
    const huge = JSON.stringify({ ...JSON.parse(first), epoch: 1e9 });
    const badLayer = JSON.stringify({ ...JSON.parse(first), diagnostics: { layers: [{ layer: "1" }], hidden: [] } });
    writeFileSync(join(own, "shapes", "metrics.jsonl"), [first, "null", huge, badLayer, ...rest].join("\n") + "\n");
    dashboard = await startServer({ logdir: own, port: 0 });
  });
  after(async () => {
    await dashboard?.close();
    rmSync(own, { recursive: true, force: true });
  });

  it("a config.json of {models: 5}, summary rows that are not objects, metrics lines of null or epoch 1e9: skipped with warnings naming file and field", async () => {
    const runs = await json<RunsResponse>("/api/runs");
    const shapes = runs.runs.find((r) => r.name === "shapes")!;
    assert.equal(shapes.epochs, 2, "the epoch-1e9 line is not counted");
    assert.equal(shapes.status, "incomplete", "an unreadable summary.json gives no status");
    assert.equal(shapes.experiment, null);
    assert.deepEqual(shapes.models, ["tanh", "relu"], "from the metrics lines that are valid");
    const expected = [
      /^shapes\/metrics\.jsonl: line 2 is not a valid metrics record \(\(top\): .*\); skipped$/,
      /^shapes\/metrics\.jsonl: line 3 is not a valid metrics record \(epoch: .*\); skipped$/,
      /^shapes\/metrics\.jsonl: line 4 is not a valid metrics record \(diagnostics\.layers\[0\]\.layer: .*\); skipped$/,
      /^shapes\/config\.json is not a valid run configuration \(models: .*\); skipped$/,
      /^shapes\/summary\.json is not a valid run summary \(rows\[0\]: .*\); skipped$/,
    ];
    assert.equal(shapes.warnings.length, expected.length, shapes.warnings.join("\n"));
    expected.forEach((pattern, i) => assert.match(shapes.warnings[i], pattern));
    const metrics = await json<MetricsResponse>("/api/metrics?run=shapes");
    assert.deepEqual(metrics.records, lines().map((l) => JSON.parse(l)));
    for (const file of ["config", "summary"]) {
      const answer = await json<JsonFileResponse>(`/api/${file}?run=shapes`);
      assert.equal(answer.value, null);
      assert.equal(answer.warnings.length, 1);
    }
    assert.deepEqual(runs.runs.find((r) => r.name === "good")!.warnings, []);
  });

  it("a run whose writer was SIGKILLed is not 'training' forever: the lock owner's pid is checked", async () => {
    const dir = join(own, "killed");
    // A real writer: another process takes the run's lock with the trainer's own lock code, then is killed.
    const lockModule = new URL("../src/train/runLock.js", import.meta.url).href;
    const holder = spawn(process.execPath, ["--input-type=module", "-e",
      `const { lockRunDirectory } = await import(${JSON.stringify(lockModule)}); lockRunDirectory(${JSON.stringify(dir)}, () => {}); console.log("locked"); setInterval(() => {}, 1000);`],
    { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on("data", (chunk: Buffer) => { if (chunk.toString().includes("locked")) resolve(); });
      holder.on("exit", (code) => reject(new Error(`the lock holder exited with ${code}`)));
    });
    const status = async () => (await json<RunsResponse>("/api/runs")).runs.find((r) => r.name === "killed")!.status;
    assert.equal(await status(), "training");
    const exited = new Promise((resolve) => holder.on("exit", resolve));
    holder.kill("SIGKILL");
    await exited;
    assert.ok(readdirSync(dir).includes(".lock"), "SIGKILL leaves the lock folder behind");
    assert.equal(await status(), "finished", "summary.json's status once the lock's owner is gone");
  });

  it("serving a run folder itself shows it as a log folder of that one run", async () => {
    const single = await startServer({ logdir: join(own, "good"), port: 0 });
    try {
      const runs = await json<RunsResponse>("/api/runs", single);
      assert.deepEqual(runs.runs.map((r) => [r.name, r.epochs, r.status]), [["good", 2, "finished"]]);
      assert.deepEqual(runs.warnings, []);
      const metrics = await json<MetricsResponse>("/api/metrics?run=good", single);
      assert.equal(metrics.records.length, 8);
      const histograms = await json<HistogramsResponse>("/api/histograms?run=good&layer=1", single);
      assert.equal(histograms.series.length, 2);
      assert.ok(histograms.series.every((s) => s.steps.length === 2));
      const other = await fetch(new URL("/api/metrics?run=alpha", single.url));
      assert.equal(other.status, 404);
    } finally {
      await single.close();
    }
  });
});

test("config answers carry the run's settings, shared and per model (issue 11)", async () => {
  const alpha = await api<ConfigResponse>("/api/config?run=alpha");
  assert.ok(alpha.settings);
  assert.deepEqual(alpha.settings.shared.slice(0, 3), [{ name: "optimiser", value: "sgd" }, { name: "lr", value: "0.01" }, { name: "momentum", value: "0.9" }]);
  assert.ok(alpha.settings.shared.some((s) => s.name === "init" && s.value === "pytorch"));
  assert.deepEqual(alpha.settings.perModel, { names: [], rows: [] });
  const dir = join(logdir, "preset-like");
  cpSync(join(logdir, "alpha"), dir, { recursive: true });
  try {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    config.models[1].settings = { init: "kaiming-normal" };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const answer = await api<ConfigResponse>("/api/config?run=preset-like");
    assert.deepEqual(answer.value, config, "the file as written");
    assert.deepEqual(answer.settings?.perModel, { names: ["init"], rows: [{ model: "tanh", values: ["pytorch"] }, { model: "relu", values: ["kaiming-normal"] }] });
    assert.ok(!answer.settings?.shared.some((s) => s.name === "init"));
    config.models[1].settings = { init: "bogus" };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const bad = await api<ConfigResponse>("/api/config?run=preset-like");
    assert.equal(bad.settings, null);
    assert.ok(bad.warnings.some((w) => /preset-like\/config.json is not a valid run configuration \(models\[1\]\.settings\.init/.test(w)), bad.warnings.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
