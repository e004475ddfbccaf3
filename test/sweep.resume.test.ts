// Sweep resume beyond Ctrl-C: a coordinator SIGKILLed mid-sweep, a row lost between a trial's
// jobs.json and trials.jsonl (rebuilt from the trial's metrics), and a resume on other data refused.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../src/errors.js";
import { loadMnist } from "../src/data/mnist.js";
import { buildGrid, rawFromFlag } from "../src/sweep/grid.js";
import { runSweep, loadSweepSpec } from "../src/sweep/sweep.js";
import { SHAPE, SWEEP_RUN, TRAINING } from "../src/cli/flagTable.js";
import { readSweepFile, readTrialRows } from "../src/sweepFormat.js";
import { runCli, startCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";
import { localRunner, type JobRunner } from "../src/train/pool.js";

const scratch = temporaryDir("sweep-resume");
after(() => scratch.remove());
const data = loadMnist();

const grid = buildGrid([{
  activations: rawFromFlag(SWEEP_RUN.activations, "relu,tanh"), layers: rawFromFlag(SHAPE.layers, "2,3"),
  seeds: rawFromFlag(TRAINING.seeds, "0,1"), epochs: rawFromFlag(TRAINING.epochs, "2"), "train-limit": rawFromFlag(TRAINING.trainLimit, "500"),
}]);

function weights(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const trial of readSweepFile(join(dir, "sweep.json")).trials) {
    for (const name of readdirSync(join(dir, trial.id)).filter((n) => n.endsWith(".safetensors"))) files.set(`${trial.id}/${name}`, readFileSync(join(dir, trial.id, name)));
  }
  return files;
}

let reference: string;

test("a row lost before trials.jsonl got it is rebuilt from the trial's metrics on resume, once", async () => {
  reference = join(scratch.path, "reference");
  await runSweep({ name: "sweep", dir: reference, grid }, { data, workers: 0 });
  const rows = readTrialRows(join(reference, "trials.jsonl"));
  assert.equal(rows.length, 8);
  const copy = join(scratch.path, "lost");
  await runSweep({ name: "sweep", dir: copy, grid }, { data, workers: 0 });
  const text = readFileSync(join(copy, "trials.jsonl"), "utf8").split("\n").filter(Boolean);
  writeFileSync(join(copy, "trials.jsonl"), [...text.slice(0, 5), ...text.slice(6)].map((l) => `${l}\n`).join(""));
  const result = await runSweep(loadSweepSpec(copy), { data, workers: 0, resume: true });
  assert.equal(result.status, "finished");
  const rebuilt = readTrialRows(join(copy, "trials.jsonl"));
  assert.equal(rebuilt.length, 8);
  const key = (r: { trial: string; seed: number }) => `${r.trial}/${r.seed}`;
  const strip = ({ seconds: _s, ...r }: (typeof rows)[number]) => r;
  assert.deepEqual(rebuilt.map(strip).sort((a, b) => key(a).localeCompare(key(b))), rows.map(strip).sort((a, b) => key(a).localeCompare(key(b))));
});

test("resume on other data is refused before any work, naming what differs", async () => {
  const dir = join(scratch.path, "lost");
  const file = JSON.parse(readFileSync(join(dir, "sweep.json"), "utf8"));
  file.data.files["t10k-labels-idx1-ubyte"].sha256 = "0".repeat(64);
  file.data.sha256 = "1".repeat(64);
  writeFileSync(join(dir, "sweep.json"), JSON.stringify(file));
  await assert.rejects(runSweep(loadSweepSpec(dir), { data, workers: 0, resume: true }), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /are not the sweep's \(t10k-labels-idx1-ubyte: content differs/);
    return true;
  });
});

test("the coordinator SIGKILLed mid-sweep: --resume finishes it, every weight bit-identical", async () => {
  const dir = join(scratch.path, "killed");
  const args = ["--activations", "relu,tanh", "--layers", "2,3", "--seeds", "0,1", "--epochs", "2", "--train-limit", "500"];
  const run = startCli(["sweep", ...args, "--logdir", dir, "--workers", "1"]);
  await run.waitForStderr(/relu_L2_H64\/seed1 finished/);
  run.child.kill("SIGKILL");
  const killed = await run.done;
  assert.ok(killed.signal === "SIGKILL" || killed.code === 0, killed.stderr);
  const resumed = await runCli(["sweep", "--resume", dir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const rows = readTrialRows(join(dir, "trials.jsonl"));
  assert.equal(new Set(rows.map((r) => `${r.trial}/${r.seed}`)).size, 8);
  assert.equal(rows.length, 8, "no row twice");
  const ours = weights(dir);
  const theirs = weights(reference);
  assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
  for (const [file, bytes] of theirs) assert.ok(bytes.equals(ours.get(file)!), `${file} differs`);
});

test("a runner that fails leaves its running trials 'failed' in sweep.json; --resume retries them", async () => {
  const dir = join(scratch.path, "failing");
  // A runner (the contract's JobRunner) that starts the first job, then loses its worker.
  const failing: JobRunner = async (jobs, _data, _stop, onEvent) => {
    const { job } = jobs[0];
    onEvent(0, { type: "start", model: job.model, seed: job.seed, parameterCount: 0, stepsPerEpoch: 1, epochs: job.settings.epochs, startEpoch: 0 });
    throw new Error("worker lost");
  };
  await assert.rejects(runSweep({ name: "sweep", dir, grid }, { data, runner: failing }), /worker lost/);
  const states = readSweepFile(join(dir, "sweep.json")).trials.map((t) => t.state);
  assert.deepEqual(states, ["failed", "queued", "queued", "queued"]);
  const result = await runSweep(loadSweepSpec(dir), { data, runner: localRunner(0), resume: true });
  assert.equal(result.status, "finished");
  assert.ok(result.file.trials.every((t) => t.state === "finished"));
  const ours = weights(dir);
  for (const [file, bytes] of weights(reference)) assert.ok(bytes.equals(ours.get(file)!), `${file} differs`);
});
