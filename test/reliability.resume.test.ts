// Interruption and resume: Ctrl-C (once or twice), SIGKILL at random moments, and a stop at an exact
// step. Each interrupted run is resumed to the end and compared with the same run uninterrupted:
// checkpoint bytes identical, metrics.jsonl identical but for the fields that measure time.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseJsonLines } from "../src/checkpoint/atomicFile.js";
import { loadModelCheckpoint, loadResumeState } from "../src/checkpoint/modelCheckpoint.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { readEventDir } from "../src/log/eventReader.js";
import { mlpConfig } from "../src/model.js";
import { runExperiments, type ExperimentSpec } from "../src/train/experiment.js";
import { StopFlag } from "../src/train/pool.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { filesUnder, metricsWithoutTimes, runCli, startCli } from "./support/cliProcess.js";
import { seededRandom, temporaryDir } from "./support/scratch.js";

// Enough work per epoch (about 0.2 s with the fast kernels) that a signal sent on the first epoch's line
// lands while tanh is still training, not in the gap before relu starts.
const TRAIN = ["train", "--activations", "tanh,relu", "--epochs", "3", "--train-limit", "20000", "--seeds", "0", "--workers", "1"];
const MODELS = ["tanh", "relu"];
const FIRST_EPOCH_LINE = /train\/tanh epoch 1:/;

const scratch = temporaryDir("resume");
const reference = join(scratch.path, "reference");

before(async () => {
  const result = await runCli([...TRAIN, "--logdir", reference]);
  assert.equal(result.code, 0, result.stderr);
});
after(() => scratch.remove());

/** Resumes `dir` to the end and checks it against the uninterrupted reference run. */
async function resumeAndCompare(dir: string, what: string): Promise<void> {
  const resumed = await runCli(["train", "--resume", dir, "--workers", "1"]);
  assert.equal(resumed.code, 0, `${what}: resume failed:\n${resumed.stderr}`);
  for (const model of MODELS) {
    assert.deepEqual(readFileSync(join(dir, `${model}.safetensors`)), readFileSync(join(reference, `${model}.safetensors`)),
      `${what}: ${model}.safetensors differs from the uninterrupted run`);
  }
  assert.deepEqual(metricsWithoutTimes(dir), metricsWithoutTimes(reference), `${what}: metrics.jsonl differs`);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8")), { tanh: "finished", relu: "finished" }, what);
  assert.equal(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).status, "finished", what);
  assert.deepEqual(readdirSync(join(dir, "resume")), [], `${what}: resumable states left after the run finished`);
  assert.deepEqual(filesUnder(dir).filter((f) => f.endsWith(".tmp")), [], `${what}: temporary files left behind`);
}

/** Every file a run directory holds must parse, whatever moment the process died at. */
function assertEveryFileParses(dir: string, what: string): void {
  for (const file of filesUnder(dir)) {
    const path = join(dir, file);
    const name = file.split("/").pop()!;
    if (name.endsWith(".tmp")) continue; // a writer's private temporary, never read (removed on the next open)
    if (file.startsWith("resume/")) {
      assert.doesNotThrow(() => loadResumeState(path), `${what}: ${file}`);
    } else if (name.endsWith(".safetensors")) {
      assert.doesNotThrow(() => loadModelCheckpoint(path), `${what}: ${file}`);
      assert.doesNotThrow(() => readSafetensors(path), `${what}: ${file}`);
    } else if (name.endsWith(".json") || name === ".lock.owner") {
      assert.doesNotThrow(() => JSON.parse(readFileSync(path, "utf8")), `${what}: ${file}`);
    } else if (name === "metrics.jsonl") {
      // Only a final line without its newline may be cut short; every complete line parses.
      const records = parseJsonLines(readFileSync(path, "utf8"), path) as Array<{ model: string; epoch: number }>;
      for (const r of records) assert.ok(MODELS.includes(r.model) && r.epoch >= 1 && r.epoch <= 3, `${what}: odd record ${JSON.stringify(r)}`);
    }
  }
  // Event files: every CRC checks; a final record cut short by the kill is the only damage allowed.
  for (const file of readEventDir(dir, { allowTruncatedTail: true })) {
    assert.ok(file.ok, `${what}: ${file.path}: ${file.ok ? "" : file.error.message}`);
  }
}

describe("interrupting a run from the command line", () => {
  test("SIGINT after the first epoch: exit 130 with the resume command; the resumed run is bit-identical", async () => {
    const dir = join(scratch.path, "sigint");
    const run = startCli([...TRAIN, "--logdir", dir]);
    await run.waitForStderr(FIRST_EPOCH_LINE);
    run.child.kill("SIGINT");
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /SIGINT: finishing the current step and saving a resumable checkpoint/);
    assert.ok(result.stderr.includes(`interrupted; continue with:\n  actlab train --resume ${dir}\n`), result.stderr);
    // It really stopped early: relu never finished, and what stopped left a resumable state.
    assert.equal(existsSync(join(dir, "relu.safetensors")), false);
    const jobs = JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8")) as Record<string, string>;
    assert.notEqual(jobs.relu, "finished");
    assert.ok(readdirSync(join(dir, "resume")).length >= 1, "no resumable state was written");
    assert.equal(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).status, "interrupted");
    assert.equal(existsSync(join(dir, ".lock")), false, "the lock is released on exit");
    assertEveryFileParses(dir, "after SIGINT");
    await resumeAndCompare(dir, "SIGINT");
  });

  test("a second signal exits at once, leaving every file whole and the run resumable", async () => {
    const dir = join(scratch.path, "twice");
    const run = startCli([...TRAIN, "--logdir", dir]);
    await run.waitForStderr(FIRST_EPOCH_LINE);
    // Two different signals, sent back to back: a second SIGINT sent while the first is still pending
    // would be merged into it by the kernel, and one sent later would race the orderly stop. Both
    // go to the same handler, which counts signals whatever their kind.
    run.child.kill("SIGINT");
    run.child.kill("SIGTERM");
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    // The kernel may deliver the two pending signals in either order; each is named as it is counted.
    const first = /(SIGINT|SIGTERM): finishing the current step/.exec(result.stderr);
    assert.ok(first, result.stderr);
    const other = first[1] === "SIGINT" ? "SIGTERM" : "SIGINT";
    assert.match(result.stderr, new RegExp(`second signal \\(${other}\\): exiting now`));
    assert.doesNotMatch(result.stderr, /continue with/, "the second signal must not wait for the orderly stop");
    assertEveryFileParses(dir, "after two SIGINTs");
    await resumeAndCompare(dir, "two SIGINTs");
  });

  test("SIGKILL at random moments never leaves a half-written file, and --resume finishes the run bit-identically", async () => {
    // Reproduce a failure with ACTLAB_KILL_SEED=<the seed in its message>.
    const seed = Number(process.env.ACTLAB_KILL_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    for (let trial = 0; trial < 2; trial++) {
      // The first kill comes at once, in tanh's second epoch: jobs.json cannot know of tanh yet,
      // so the resume must find its job from the state saved at the end of epoch 1.
      const delayMs = trial === 0 ? 0 : Math.floor(random() * 700);
      const what = `SIGKILL trial ${trial}, ${delayMs} ms after the first epoch line (ACTLAB_KILL_SEED=${seed})`;
      const dir = join(scratch.path, `kill${trial}`);
      const run = startCli([...TRAIN, "--logdir", dir]);
      await run.waitForStderr(FIRST_EPOCH_LINE);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      run.child.kill("SIGKILL");
      const result = await run.done;
      // Killed, or (a late kill) finished first: either way every file must be whole.
      assert.ok(result.signal === "SIGKILL" || result.code === 0, `${what}: exit ${result.code}, signal ${result.signal}\n${result.stderr}`);
      assertEveryFileParses(dir, what);
      if (trial === 0) {
        const jobs = existsSync(join(dir, "jobs.json")) ? JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8")) : {};
        assert.deepEqual(jobs, {}, `${what}: jobs.json`);
        assert.deepEqual(readdirSync(join(dir, "resume")), ["tanh.safetensors"], what);
      }
      await resumeAndCompare(dir, what);
    }
  });
});

describe("stopping at an exact step (library, one thread)", () => {
  const data = loadMnist();
  const spec = (dir: string): ExperimentSpec => ({
    name: "exact", dir, seeds: [3], trainLimit: 1000,
    settings: { ...DEFAULT_SETTINGS, epochs: 2, batchSize: 50 },
    models: [{ model: "silu", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 4, activation: "silu" }) }],
  });
  const stepsPerEpoch = 20;

  /** Runs with a stop raised after `steps` step events (every step emits one), then resumes. */
  async function stopAfter(steps: number, dir: string) {
    const stopFlag = new StopFlag();
    let seen = 0;
    const [first] = await runExperiments([spec(dir)], {
      data, workers: 0, stopFlag, stepEventIntervalMs: 0,
      onEvent: (_, event) => { if (event.type === "step" && ++seen === steps) stopFlag.raise(); },
    });
    assert.equal(first.status, "interrupted");
    const { state } = loadResumeState(join(dir, "resume", "silu.safetensors"));
    const [second] = await runExperiments([spec(dir)], { data, workers: 0, resume: true });
    assert.equal(second.status, "finished");
    return state;
  }

  test("mid-epoch and at an epoch's last step: the state records the position, and resuming matches the uninterrupted run", async () => {
    const whole = join(scratch.path, "exact-whole");
    const [uninterrupted] = await runExperiments([spec(whole)], { data, workers: 0 });
    assert.equal(uninterrupted.status, "finished");
    for (const [steps, epoch, step] of [[7, 0, 7], [stepsPerEpoch, 1, 0], [stepsPerEpoch + 13, 1, 13]] as const) {
      const dir = join(scratch.path, `exact-${steps}`);
      const state = await stopAfter(steps, dir);
      // A stop at an epoch's last step lets the epoch end (evaluation, logs) and resumes at the next one.
      assert.deepEqual([state.epoch, state.step], [epoch, step], `stop after ${steps} steps`);
      assert.equal(state.history.length, epoch);
      assert.deepEqual(readFileSync(join(dir, "silu.safetensors")), readFileSync(join(whole, "silu.safetensors")), `stop after ${steps} steps: weights`);
      assert.deepEqual(metricsWithoutTimes(dir), metricsWithoutTimes(whole), `stop after ${steps} steps: metrics`);
    }
  });
});
