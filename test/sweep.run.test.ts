// A small real sweep end to end through the command line (2 activations × 2 depths × 2 seeds, one
// epoch on 1,000 images): the folder's files valid per their schemas, trials.jsonl's rows, report,
// serve and eval reading it, the refusals, and resume after SIGINT without retraining finished trials.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readJobs, readMetrics, readRunConfig, readSummary } from "../src/runFormat.js";
import { startServer } from "../src/serve/server.js";
import { analyzeSweep } from "../src/report/sweepAnalysis.js";
import { readSweepFile, readTrialRows, type TrialRow } from "../src/sweepFormat.js";
import { runCli, startCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("sweep-run");
after(() => scratch.remove());

const GRID = ["--activations", "relu,tanh", "--layers", "2,3", "--seeds", "0,1", "--epochs", "1", "--train-limit", "1000"];
const TRIALS = ["relu_L2_H64", "relu_L3_H64", "tanh_L2_H64", "tanh_L3_H64"];
let dir: string;

before(async () => {
  dir = join(scratch.path, "full");
  const result = await runCli(["sweep", ...GRID, "--logdir", dir, "--workers", "2"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /4 trials \(4 finished\), 8 of 8 jobs ended/);
  // Plain progress lines off a terminal: each ended job with the counts, the rate and an ETA.
  assert.match(result.stderr, /tanh_L3_H64\/seed1 finished \(test acc [\d.]+%\); jobs \d\/8; trials \d done, \d running, \d queued, 0 failed; [\d.]+ jobs\/min; ETA/);
});

function safetensors(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const trial of TRIALS) for (const name of readdirSync(join(root, trial)).filter((n) => n.endsWith(".safetensors"))) files.set(`${trial}/${name}`, readFileSync(join(root, trial, name)));
  return files;
}

test("the sweep folder: sweep.json and trials.jsonl valid per their schemas, one run folder per trial in the run format", () => {
  const sweep = readSweepFile(join(dir, "sweep.json"));
  assert.deepEqual(sweep.trials.map((t) => [t.id, t.state]), TRIALS.map((id) => [id, "finished"]));
  assert.deepEqual(sweep.grid.seeds, [0, 1]);
  assert.match(sweep.data.sha256, /^[0-9a-f]{64}$/);
  const rows = readTrialRows(join(dir, "trials.jsonl"));
  assert.equal(rows.length, 8);
  assert.deepEqual(new Set(rows.map((r) => `${r.trial}/${r.seed}`)).size, 8, "no row twice");
  for (const trial of TRIALS) {
    const config = readRunConfig(join(dir, trial, "config.json"));
    assert.equal(config.models.length, 1);
    assert.deepEqual(config.seeds, [0, 1]);
    assert.equal(config.trainLimit, 1000);
    assert.equal(readSummary(join(dir, trial, "summary.json")).status, "finished");
    assert.deepEqual(readJobs(join(dir, trial, "jobs.json")), Object.fromEntries([0, 1].map((s) => [`${config.models[0].model}_seed${s}`, "finished"])));
    // Each row is what the trial's own metrics say.
    const metrics = readMetrics(join(dir, trial, "metrics.jsonl"));
    for (const seed of [0, 1]) {
      const row = rows.find((r) => r.trial === trial && r.seed === seed)!;
      const record = metrics.find((m) => m.seed === seed)!;
      assert.equal(row.final_test_acc, record.test_acc);
      assert.equal(row.final_train_loss, record.train_loss);
      assert.equal(row.epoch_first_50, record.test_acc >= 0.5 ? 1 : null);
      const layers = record.diagnostics!.layers;
      assert.equal(row.grad_norm_ratio, layers[0].grad_norm / layers[layers.length - 1].grad_norm);
      assert.equal(row.settings.layers, config.models[0].config.hiddenSizes.length + 1);
    }
  }
});

test("actlab report <sweep>: figures, and sentences computed from the rows", async () => {
  const result = await runCli(["report", dir]);
  assert.equal(result.code, 0, result.stderr);
  for (const id of ["sweep_accuracy", "sweep_heatmap", "sweep_first50", "sweep_gradratio"]) assert.ok(existsSync(join(dir, "figures", `${id}.png`)), id);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  const rows = readTrialRows(join(dir, "trials.jsonl"));
  const mean = (activation: string, layers: number) => {
    const mine = rows.filter((r: TrialRow) => r.settings.activation === activation && r.settings.layers === layers);
    return mine.reduce((a, r) => a + r.final_test_acc, 0) / mine.length;
  };
  const [best, worst] = mean("relu", 3) > mean("tanh", 3) ? ["relu", "tanh"] : ["tanh", "relu"];
  const sentence = `At 3 layers the best is ${best} (${(100 * mean(best, 3)).toFixed(1)}%) and the worst ${worst} (${(100 * mean(worst, 3)).toFixed(1)}%).`;
  assert.ok(result.stdout.includes(sentence), `${sentence}\n${result.stdout}`);
  assert.ok(html.includes(sentence));
  // Every activation is said to hold up or to break, with the depth and the numbers.
  for (const activation of ["relu", "tanh"]) {
    const drop = mean(activation, 2) - mean(activation, 3);
    if (drop > 0.05) assert.match(result.stdout, new RegExp(`${activation} breaks at 3 layers: final test accuracy falls from ${(100 * mean(activation, 2)).toFixed(1)}% at 2 layers`));
    else assert.match(result.stdout, new RegExp(`Hold up with depth[^\\n]*${activation}`));
  }
});

test("the analysis' sentences follow the numbers: a line that falls to chance breaks there, one that holds is said to", () => {
  const grid = readSweepFile(join(dir, "sweep.json")).grid;
  const row = (activation: string, layers: number, acc: number) => ({
    trial: `${activation}_L${layers}`, seed: 0, status: "finished" as const, epochs: 1, final_test_acc: acc, best_test_acc: acc, final_train_loss: 1,
    epoch_first_50: acc >= 0.5 ? 1 : null, grad_norm_ratio: layers === 3 && activation === "tanh" ? 1e-3 : 1, seconds: 1,
    settings: {
      activation, layers, hidden: 64, init: "pytorch" as const, norm: "none" as const, optimizer: "sgd" as const, lr: 0.01, momentum: null, weightDecay: null, betas: null, eps: null,
      batchSize: 64, epochs: 1, leakySlope: 0.01, trainLimit: null,
    },
  });
  const analysis = analyzeSweep(grid, [row("relu", 2, 0.9), row("relu", 3, 0.88), row("tanh", 2, 0.9), row("tanh", 3, 0.11)]);
  assert.deepEqual(analysis.holdUp, ["relu"]);
  assert.deepEqual(analysis.sentences, [
    "Hold up with depth (final test accuracy at 3 layers within 5 points of their best, after 1 epoch): relu.",
    "tanh breaks at 3 layers: final test accuracy falls from 90.0% at 2 layers to 11.0% (chance level).",
    "At 3 layers the best is relu (88.0%) and the worst tanh (11.0%).",
    "At 3 layers no seed of tanh passed 50% test accuracy within 1 epoch.",
    "Gradients vanish at the deepest depth for tanh: the first layer's gradient norm is over 100 times smaller than the last layer's.",
  ]);
});

test("serve, report and eval read a trial's folder as any run", async () => {
  const server = await startServer({ logdir: dir, port: 0 });
  try {
    const listing = await (await fetch(`http://127.0.0.1:${server.port}/api/runs`)).json() as { runs: Array<{ name: string; status: string; seeds: number[] }> };
    assert.deepEqual(listing.runs.map((r) => r.name).sort(), TRIALS);
    assert.ok(listing.runs.every((r) => r.status === "finished" && r.seeds.length === 2));
    // The sweep view's API: the folder served is the sweep ("."), with the report's sentences and charts.
    const sweeps = await (await fetch(`http://127.0.0.1:${server.port}/api/sweeps`)).json() as { sweeps: Array<{ name: string; trials: number; states: Record<string, number> }> };
    assert.deepEqual(sweeps.sweeps.map((s) => [s.name, s.trials, s.states]), [[".", 4, { finished: 4 }]]);
    const answer = await (await fetch(`http://127.0.0.1:${server.port}/api/sweep?sweep=.`)).json() as { sentences: string[]; charts: Array<{ id: string }>; jobsDone: number; warnings: string[] };
    const rows = readTrialRows(join(dir, "trials.jsonl"));
    assert.deepEqual(answer.sentences, analyzeSweep(readSweepFile(join(dir, "sweep.json")).grid, rows).sentences);
    assert.deepEqual(answer.charts.map((c) => c.id), ["sweep_accuracy", "sweep_heatmap", "sweep_first50", "sweep_gradratio"]);
    assert.equal(answer.jobsDone, 8);
    assert.deepEqual(answer.warnings, []);
    for (const [query, status] of [["sweep=..%2Fx", 403], ["sweep=relu_L2_H64", 404], ["", 400]] as const) {
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/api/sweep?${query}`)).status, status, query);
    }
  } finally {
    await server.close();
  }
  // A log folder holding the sweep lists it by its folder, and its trials as runs below it.
  const parent = await startServer({ logdir: scratch.path, port: 0 });
  try {
    const sweeps = await (await fetch(`http://127.0.0.1:${parent.port}/api/sweeps`)).json() as { sweeps: Array<{ name: string }> };
    assert.ok(sweeps.sweeps.some((s) => s.name === "full"), JSON.stringify(sweeps));
    const runs = await (await fetch(`http://127.0.0.1:${parent.port}/api/runs`)).json() as { runs: Array<{ name: string }> };
    assert.ok(TRIALS.every((t) => runs.runs.some((r) => r.name === `full/${t}`)));
  } finally {
    await parent.close();
  }
  const report = await runCli(["report", join(dir, "relu_L2_H64")]);
  assert.equal(report.code, 0, report.stderr);
  const evaluated = await runCli(["eval", join(dir, "tanh_L3_H64", "tanh_seed1.safetensors"), "--json"]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const rows = readTrialRows(join(dir, "trials.jsonl"));
  const row = rows.find((r) => r.trial === "tanh_L3_H64" && r.seed === 1)!;
  assert.ok(evaluated.stdout.includes(String(row.final_test_acc)) || Math.abs(JSON.parse(evaluated.stdout).accuracy - row.final_test_acc) < 1e-12, evaluated.stdout);
});

test("refusals: exit 2 before any work, naming the flag, the folder's sweep and what differs", async () => {
  const same = await runCli(["sweep", ...GRID, "--logdir", dir]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, new RegExp(`already holds this sweep; continue it with actlab sweep --resume ${dir}`));
  const different = await runCli(["sweep", ...GRID, "--lr", "0.01,0.1", "--logdir", dir]);
  assert.equal(different.code, 2);
  assert.match(different.stderr, /already holds a different sweep \(lr: \[0\.01,0\.1\] asked, \[null\] in the folder\)/);
  const fresh = join(scratch.path, "never");
  const bad = await runCli(["sweep", "--activations", "relu,swish", "--lr", "0.1,x", "--logdir", fresh]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--activations: unknown activation "swish"/);
  assert.match(bad.stderr, /--lr must be a positive finite number; got "x"/);
  assert.equal(existsSync(fresh), false, "nothing is created for a refused grid");
  const mixed = await runCli(["sweep", "--resume", dir, "--lr", "0.5"]);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /--resume takes the grid from the folder's sweep.json; drop --lr/);
  const nothing = await runCli(["sweep", "--activations", "relu"]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /--logdir is needed/);
  const preset = await runCli(["sweep", "width", "--logdir", fresh]);
  assert.equal(preset.code, 2);
  assert.match(preset.stderr, /preset must be one of depth; got "width"/);
});

test("SIGINT, then --resume: finished trials are not retrained, and every weight is bit-identical to the uninterrupted sweep", async () => {
  const interrupted = join(scratch.path, "interrupted");
  const run = startCli(["sweep", ...GRID, "--logdir", interrupted, "--workers", "1"]);
  await run.waitForStderr(/relu_L2_H64\/seed0 finished/);
  run.child.kill("SIGINT");
  const result = await run.done;
  assert.equal(result.code, 130, result.stderr);
  assert.ok(result.stderr.includes(`interrupted; continue with:\n  actlab sweep --resume ${interrupted}\n`), result.stderr);
  const before = readSweepFile(join(interrupted, "sweep.json"));
  assert.ok(before.trials.some((t) => t.state === "queued"), "it stopped before the end");
  assert.ok(!before.trials.some((t) => t.state === "running"), "a stopped trial waits as queued");
  const rowsBefore = readTrialRows(join(interrupted, "trials.jsonl"));
  assert.ok(rowsBefore.length >= 1 && rowsBefore.length < 8, `${rowsBefore.length} rows`);
  const kept = new Map([...safetensors(interrupted).keys()].map((file) => [file, statSync(join(interrupted, file)).mtimeMs]));

  const resumed = await runCli(["sweep", "--resume", interrupted]);
  assert.equal(resumed.code, 0, resumed.stderr);
  for (const [file, mtime] of kept) assert.equal(statSync(join(interrupted, file)).mtimeMs, mtime, `${file} was written again`);
  const rows = readTrialRows(join(interrupted, "trials.jsonl"));
  assert.equal(rows.length, 8);
  assert.deepEqual(rows.slice(0, rowsBefore.length), rowsBefore, "rows already written are kept as they were");
  assert.ok(readSweepFile(join(interrupted, "sweep.json")).trials.every((t) => t.state === "finished"));
  const reference = safetensors(dir);
  const ours = safetensors(interrupted);
  assert.deepEqual([...ours.keys()].sort(), [...reference.keys()].sort());
  for (const [file, bytes] of reference) assert.ok(bytes.equals(ours.get(file)!), `${file} differs from the uninterrupted sweep's`);
  // Resuming a finished sweep trains nothing and changes nothing.
  const again = await runCli(["sweep", "--resume", interrupted]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readTrialRows(join(interrupted, "trials.jsonl")).length, 8);
});
