// npm run bench -- --sweep [--rounds 3] [--workers n]: trials per minute of one small sweep
// (4 activations × 2 depths × 2 seeds, one epoch on 2,000 images) through runSweep, on the local
// worker pool. measureSweep takes any JobRunner, so other runners (a queue) are timed on the same
// sweep, the same data and the same clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MnistData } from "../src/data/mnist.js";
import { buildGrid, rawFromFlag } from "../src/sweep/grid.js";
import { runSweep } from "../src/sweep/sweep.js";
import { TRAINING, SHAPE, SWEEP_RUN } from "../src/cli/flagTable.js";
import { localRunner, type JobRunner } from "../src/train/pool.js";

/** The bench's sweep, in flags' terms. */
export const BENCH_SWEEP = { activations: "sigmoid,tanh,relu,gelu", layers: "3,8", seeds: "0,1", epochs: "1", "train-limit": "2000" };

export function benchGrid() {
  const f = { activations: SWEEP_RUN.activations, layers: SHAPE.layers, seeds: TRAINING.seeds, epochs: TRAINING.epochs, "train-limit": TRAINING.trainLimit };
  return buildGrid([Object.fromEntries(Object.entries(BENCH_SWEEP).map(([key, text]) => [key, rawFromFlag(f[key as keyof typeof f], text)]))]);
}

export interface SweepFigure {
  runner: string;
  trials: number;
  jobs: number;
  /** Wall-clock seconds per round, from start to the last row. */
  seconds: number[];
  trialsPerMinute: number;
  jobsPerMinute: number;
}

/** Runs the bench sweep `rounds` times on `runner`, each into a fresh folder; the median round counts. */
export async function measureSweep(label: string, runner: JobRunner, data: MnistData, rounds: number): Promise<SweepFigure> {
  const grid = benchGrid();
  const seconds: number[] = [];
  let trials = 0;
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), "actlab-bench-sweep-"));
    try {
      const start = process.hrtime.bigint();
      const result = await runSweep({ name: "bench", dir, grid }, { data, runner, onWarning: () => {} });
      seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
      trials = result.trials.length;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)];
  const jobs = trials * grid.seeds.length;
  return { runner: label, trials, jobs, seconds, trialsPerMinute: (60 * trials) / median, jobsPerMinute: (60 * jobs) / median };
}

export async function benchSweeps(data: MnistData, workers: number, rounds: number): Promise<SweepFigure[]> {
  return [await measureSweep(`local pool, ${workers} worker${workers === 1 ? "" : "s"}`, localRunner(workers), data, rounds)];
}

export function formatSweepFigures(figures: SweepFigure[]): string {
  const lines = [`sweep: ${Object.entries(BENCH_SWEEP).map(([k, v]) => `--${k} ${v}`).join(" ")}`];
  for (const f of figures) {
    lines.push(`  ${f.runner.padEnd(28)} ${f.trials} trials / ${f.jobs} jobs: ${f.trialsPerMinute.toFixed(1)} trials/min, ${f.jobsPerMinute.toFixed(1)} jobs/min (rounds ${f.seconds.map((s) => s.toFixed(2)).join(", ")} s)`);
  }
  return lines.join("\n");
}
