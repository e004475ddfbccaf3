// The queued sweep against a real redis-server and real `actlab worker` processes: the weights are
// those of the local pool, bit for bit, and nothing is lost or counted twice when a worker is killed
// mid-trial, when a job is delivered twice, when Redis restarts, or when the coordinator is killed
// and started again. A worker with other MNIST data refuses the job and the coordinator says so.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { defaultMnistDir, loadMnist, type MnistData } from "../src/data/mnist.js";
import { QUEUE_NAME, queueJobId, queueKeys } from "../src/sweep/queueProtocol.js";
import { queueRunner } from "../src/sweep/queueRunner.js";
import { runExperiments, type ExperimentSpec } from "../src/train/experiment.js";
import type { TrainEvent } from "../src/train/trainer.js";
import { metricsWithoutTimes, runCli, startCli, type RunningCli } from "./support/cliProcess.js";
import { COORDINATOR_ACTIVATIONS, queueSpec } from "./support/queueCoordinator.js";
import { startRedis, type RedisServer } from "./support/redisServer.js";
import { temporaryDir } from "./support/scratch.js";

const COORDINATOR = fileURLToPath(new URL("./support/queueCoordinator.js", import.meta.url));
// Short locks, so a dead worker's job moves within seconds (production keeps BullMQ's 30 s). Every
// worker of the tests uses them: BullMQ's fleet-wide stalled check runs at most once per the
// interval of the worker that ran it last.
const FAST_RECOVERY = ["--lock-ms", "1500", "--stalled-check-ms", "500"];

const scratch = temporaryDir("queue");
const children = new Set<ChildProcess>();
let redis: RedisServer;
let client: Redis;
let data: MnistData;

before(async () => {
  redis = await startRedis(scratch.fresh());
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  client.on("error", () => undefined);
  data = loadMnist({ shared: true });
});

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  client.disconnect();
  await redis.stop();
  scratch.remove();
});

function track<T extends { child: ChildProcess }>(running: T): T {
  children.add(running.child);
  running.child.once("exit", () => children.delete(running.child));
  return running;
}

async function startWorker(extra: string[] = []): Promise<RunningCli> {
  const worker = track(startCli(["worker", "--queue", redis.url, "--workers", "1", ...FAST_RECOVERY, ...extra]));
  await worker.waitForStderr(/waiting for jobs/);
  return worker;
}

async function stopWorker(worker: RunningCli): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
  await worker.done;
}

/** The same jobs trained by the local pool: the weights every queued run must reproduce. */
const references = new Map<string, string>();
async function reference(activations: string[], epochs: number): Promise<string> {
  const key = `${activations.join(",")}/${epochs}`;
  if (!references.has(key)) {
    const spec = queueSpec(scratch.fresh(), "sweep", activations, epochs);
    await runExperiments([spec], { data, workers: 1 });
    references.set(key, spec.dir);
  }
  return references.get(key)!;
}

async function assertSameAsLocal(spec: ExperimentSpec, epochs: number, what: string): Promise<void> {
  const models = spec.models.map((m) => m.model);
  const ref = await reference(models, epochs);
  for (const model of models) {
    assert.deepEqual(readFileSync(join(spec.dir, `${model}.safetensors`)), readFileSync(join(ref, `${model}.safetensors`)),
      `${what}: ${model}'s final weights differ from the local pool's`);
  }
  // One line per epoch, in order, none twice: exactly the local run's lines (times aside), each
  // model's in order (jobs on several workers interleave).
  const byModel = (dir: string) => models.map((m) => metricsWithoutTimes(dir).filter((line) => JSON.parse(line).model === m));
  assert.deepEqual(byModel(spec.dir), byModel(ref), `${what}: metrics.jsonl differs from the local pool's`);
  assert.deepEqual(JSON.parse(readFileSync(join(spec.dir, "jobs.json"), "utf8")), Object.fromEntries(models.map((m) => [m, "finished"])), what);
}

/** Runs `spec` through the queue in this process (the coordinator), calling `onEvent` as it goes. */
function coordinate(spec: ExperimentSpec, sweepId: string, onEvent: (event: TrainEvent) => void = () => undefined, notes: string[] = []) {
  return runExperiments([spec], {
    data, onEvent: (_s, event) => onEvent(event),
    runner: queueRunner(redis.url, { sweepId, pollMs: 300, onNote: (note) => notes.push(note) }),
  });
}

function notifications(sweepId: string, jobId: string): Promise<number> {
  return client.xrange(queueKeys.events(sweepId), "-", "+").then((entries) => entries.filter(([, f]) => f[1] === jobId).length);
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("queued sweeps on a real redis-server", { timeout: Number(process.env.QUEUE_TEST_TIMEOUT ?? 240_000) }, () => {
  test("two worker processes train the local pool's weights; events arrive in order, once; Redis is left clean", async () => {
    const workers = [await startWorker(), await startWorker()];
    const spec = queueSpec(scratch.fresh(), "sweep", ["tanh", "relu"], 2);
    const seen: string[] = [];
    const [result] = await coordinate(spec, "plain", (e) => seen.push(e.type === "epoch" ? `${e.record.model} epoch ${e.record.epoch}` : `${"model" in e ? e.model : ""} ${e.type}`));
    assert.equal(result.status, "finished");
    await assertSameAsLocal(spec, 2, "plain");
    for (const model of ["tanh", "relu"]) {
      assert.deepEqual(seen.filter((s) => s.startsWith(`${model} `)), [`${model} start`, `${model} epoch 1`, `${model} epoch 2`, `${model} end`]);
    }
    assert.deepEqual(await client.keys("actlab:job:*"), [], "the coordinator deletes what it has written to the run folder");
    await Promise.all(workers.map(stopWorker));
  });

  test("a worker killed mid-trial: another continues from the last epoch's state in Redis, same weights", async () => {
    const epochs = 12;
    const first = await startWorker();
    const spec = queueSpec(scratch.fresh(), "sweep", ["tanh"], epochs);
    let second: Promise<RunningCli> | undefined;
    const [result] = await coordinate(spec, "killed", (event) => {
      if (event.type === "epoch" && !second) {
        first.child.kill("SIGKILL");
        second = startWorker();
      }
    });
    assert.equal(result.status, "finished");
    assert.equal((await first.done).signal, "SIGKILL");
    const taker = await second!;
    assert.match(await taker.waitForStderr(/took/), /took \S+ from epoch ([1-9]|1[01])\b/, "the second worker did not continue from a saved epoch");
    await assertSameAsLocal(spec, epochs, "worker killed");
    await stopWorker(taker);
  });

  test("a worker stopped with SIGTERM puts its job back with its state; the next worker ends bit-identical", async () => {
    const epochs = 12;
    const leaving = await startWorker();
    const spec = queueSpec(scratch.fresh(), "sweep", ["tanh"], epochs);
    let next: Promise<RunningCli> | undefined;
    const [result] = await coordinate(spec, "leaving", (event) => {
      if (event.type === "epoch" && !next) {
        leaving.child.kill("SIGTERM");
        next = leaving.done.then(() => startWorker());
      }
    });
    assert.equal(result.status, "finished");
    const left = await leaving.done;
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stderr, /put \S+ back \(this worker is stopping\)/);
    const taker = await next!;
    assert.match(await taker.waitForStderr(/took/), /took \S+ from epoch \d+/, "the next worker started the trial over");
    await assertSameAsLocal(spec, epochs, "worker stopped");
    await stopWorker(taker);
  });

  test("a job delivered twice (a frozen worker wakes after its job moved on): no metrics line twice", async () => {
    const epochs = 12;
    const frozen = await startWorker();
    const spec = queueSpec(scratch.fresh(), "sweep", ["relu"], epochs);
    const jobId = queueJobId("twice", { model: "relu", seed: 0, config: spec.models[0].config, settings: spec.settings, trainLimit: spec.trainLimit });
    let second: RunningCli | undefined;
    let wakeAt = Infinity;
    let woken = false;
    const [result] = await coordinate(spec, "twice", (event) => {
      if (event.type !== "epoch") return;
      if (!second) {
        frozen.child.kill("SIGSTOP");
        second = track(startCli(["worker", "--queue", redis.url, "--workers", "1", ...FAST_RECOVERY]));
        void second.waitForStderr(/took .* from epoch \d+/).then((text) => { wakeAt = Number(/from epoch (\d+)/.exec(text)![1]) + 2; });
      } else if (event.record.epoch >= wakeAt && !woken) {
        // The second worker has delivered epochs past the first one's state: the first wakes and
        // trains on from that state, writing those epochs again while the sweep still runs.
        woken = true;
        frozen.child.kill("SIGCONT");
      }
    });
    assert.equal(result.status, "finished");
    assert.ok(woken, `the frozen worker was never woken (the job moved at epoch ${wakeAt - 2})`);
    // Both workers delivered epochs of the job: more notifications than one delivery makes.
    await waitFor(async () => (await notifications("twice", jobId)) > epochs + 1, "the job's second delivery");
    await assertSameAsLocal(spec, epochs, "delivered twice");
    await Promise.all([stopWorker(frozen), stopWorker(second!)]);
  });

  test("Redis restarted mid-sweep: both sides say so, reconnect with backoff, and lose no trial", async () => {
    const epochs = 6;
    const worker = await startWorker();
    const spec = queueSpec(scratch.fresh(), "sweep", ["tanh", "relu"], epochs);
    const notes: string[] = [];
    let restart: Promise<void> | undefined;
    const [result] = await coordinate(spec, "restart", (event) => {
      if (event.type === "epoch" && !restart) {
        restart = redis.stop().then(() => new Promise((r) => setTimeout(r, 1500))).then(() => redis.start());
      }
    }, notes);
    await restart;
    assert.equal(result.status, "finished");
    await assertSameAsLocal(spec, epochs, "Redis restarted");
    assert.ok(notes.some((n) => /Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable from the sweep's coordinator \(.*\); retrying with backoff/.test(n)), notes.join("\n"));
    assert.ok(notes.some((n) => /is back/.test(n)), notes.join("\n"));
    await stopWorker(worker);
    assert.match((await worker.done).stderr, /actlab worker: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable \(.*\); retrying with backoff/);
  });

  test("the coordinator killed: started again with resume it reattaches, enqueues nothing twice, and finishes", async () => {
    const epochs = 8;
    const worker = await startWorker();
    const logdir = scratch.fresh();
    const args = [COORDINATOR, redis.url, "reattach", logdir, String(epochs)];
    const coordinator = (extra: string[]) => {
      const child = spawn(process.execPath, [...args, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
      children.add(child);
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
      const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stderr })));
      return { child, done, stderr: () => stderr };
    };
    const first = coordinator([]);
    await waitFor(() => /epoch tanh 1/.test(first.stderr()), "the first coordinator's first epoch");
    first.child.kill("SIGKILL");
    await first.done;
    // The worker trains on while no coordinator watches; a second one collects what it left.
    await new Promise((r) => setTimeout(r, 500));
    const second = await coordinator(["resume"]).done;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /done finished/);
    await assertSameAsLocal(queueSpec(logdir, "sweep", COORDINATOR_ACTIVATIONS, epochs), epochs, "coordinator killed");
    const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
    const jobs = await queue.getJobs(["completed", "active", "waiting", "delayed", "failed", "prioritized"]);
    assert.equal(jobs.filter((j) => j.id!.startsWith("reattach.")).length, COORDINATOR_ACTIVATIONS.length, "a job was enqueued twice");
    await queue.close();
    await stopWorker(worker);
  });

  test("a worker with other MNIST data refuses the job, once, and the coordinator reports why", async () => {
    const dir = scratch.fresh();
    const source = defaultMnistDir();
    for (const name of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"]) symlinkSync(join(source, name), join(dir, name));
    const labels = Buffer.from(readFileSync(join(source, "t10k-labels-idx1-ubyte")));
    labels[8] = (labels[8] + 1) % 10; // one test label changed: other data, same shape
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), labels);
    const worker = await startWorker(["--data", dir]);
    const spec = queueSpec(scratch.fresh(), "sweep", ["relu"], 2);
    await assert.rejects(coordinate(spec, "otherdata"), /relu_seed0\.\w+: worker \S+ refused it: its MNIST .* has sha256 \w+…, the sweep's has \w+…/);
    const stderr = await worker.waitForStderr(/failed/);
    assert.equal(stderr.match(/took|refused/g)?.length ?? 0, 1, `tried more than once:\n${stderr}`);
    await stopWorker(worker);
  });

  test("actlab worker refuses a missing or malformed --queue with exit 2", async () => {
    for (const [args, message] of [
      [[], /--queue is required/],
      [["--queue", "http://127.0.0.1:6379"], /"http:" is not supported; expected redis:\/\//],
      [["--queue", "redis://127.0.0.1:6379/99"], /database "99" is not a number from 0 to 15/],
      [["--queue", "not a url"], /is not a URL/],
    ] as const) {
      const result = await runCli(["worker", ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
