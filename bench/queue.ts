// The queue's overhead: trials per minute for one small sweep on the local worker pool, and through
// BullMQ on a local redis-server with one worker process (all cores) and with two (half each).
// Run: node dist/bench/queue.js [--rounds 2] (needs /usr/bin/redis-server). The machine is shared,
// so the three setups alternate round by round and each one's best round is reported.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../src/data/mnist.js";
import { mlpConfig } from "../src/model.js";
import { queueRunner } from "../src/sweep/queueRunner.js";
import { runExperiments, type ExperimentSpec } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { startRedis } from "../test/support/redisServer.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 2;
const cores = availableParallelism();
const ACTIVATIONS = ["sigmoid", "tanh", "relu", "gelu"];
const SEEDS = [0, 1, 2, 3];
const TRIALS = ACTIVATIONS.length * SEEDS.length;

/** The sweep: 4 activations × 4 seeds, 3 Linear layers of width 64, 3 epochs on 10,000 images. */
function sweep(dir: string): ExperimentSpec {
  return {
    name: "bench", dir, seeds: SEEDS, trainLimit: 10_000, settings: { ...DEFAULT_SETTINGS, epochs: 3 },
    models: ACTIVATIONS.map((activation) => ({ model: activation, config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 64, numHiddenLayers: 3, activation }) })),
  };
}

function startWorker(url: string, threads: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, "worker", "--queue", url, "--workers", String(threads)], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let text = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("waiting for jobs")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}):\n${text}`)));
  });
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "actlab-queue-bench-"));
  const redis = await startRedis(scratch);
  const data = loadMnist({ shared: true });
  const setups: Array<{ name: string; threads: number[] }> = [
    { name: "local pool", threads: [] },
    { name: "Redis, 1 worker process", threads: [cores] },
    { name: "Redis, 2 worker processes", threads: [Math.ceil(cores / 2), Math.floor(cores / 2) || 1] },
  ];
  const best = new Map<string, number>();
  let run = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const setup of setups) {
        // Workers are started (data loaded) before the clock starts: they are long-lived in a fleet.
        const workers = await Promise.all(setup.threads.map((n) => startWorker(redis.url, n)));
        const dir = join(scratch, `run${run++}`);
        const started = performance.now();
        await runExperiments([sweep(dir)], setup.threads.length === 0
          ? { data, workers: cores }
          : { data, runner: queueRunner(redis.url, { sweepId: `bench${run}`, onNote: () => undefined }) });
        const perMinute = TRIALS / ((performance.now() - started) / 60_000);
        process.stderr.write(`round ${round + 1}: ${setup.name}: ${perMinute.toFixed(1)} trials/min\n`);
        best.set(setup.name, Math.max(best.get(setup.name) ?? 0, perMinute));
        for (const worker of workers) worker.kill("SIGTERM");
        await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
      }
    }
  } finally {
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const local = best.get("local pool")!;
  process.stdout.write(`${TRIALS} trials (3×64, 3 epochs on 10,000 images), ${cores} cores, best of ${rounds} rounds\n`);
  for (const [name, value] of best) {
    const overhead = name === "local pool" ? "" : `  overhead ${(100 * (local / value - 1)).toFixed(1)}%`;
    process.stdout.write(`${name.padEnd(28)} ${value.toFixed(1).padStart(6)} trials/min${overhead}\n`);
  }
}

await main();
