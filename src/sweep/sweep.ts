// Running a sweep: every trial a run folder in today's format under the sweep folder, all trials'
// jobs on one runner (the local worker pool by default), and this process the only writer of
// sweep.json (each trial's state) and trials.jsonl (one row per trial and seed as its job ends).
// Resume reattaches: trials whose every seed has ended are kept, the rest continue from their run
// folders' resumable states (runExperiments' resume), so nothing finished is trained again.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { appendLineDurableSync, writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { dataDifferences } from "../data/identity.js";
import { loadMnist } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { readJobs, readMetrics, seriesName, type EpochDiagnostics, type EpochRecord } from "../runFormat.js";
import {
  readSweepFile, readTrialRows, SWEEP_FILE, SWEEP_FORMAT_VERSION, TRIALS_FILE,
  type SweepFile, type SweepFileJson, type SweepGrid, type TrialRow, type TrialRowJson, type TrialState,
} from "../sweepFormat.js";
import { runExperiments, type ExperimentSpec, type RunOptions } from "../train/experiment.js";
import { prepareWritableDir } from "../train/runDirectory.js";
import { lockRunDirectory } from "../train/runLock.js";
import type { TrainEvent } from "../train/trainer.js";
import { resolveHyper } from "../optim.js";
import { expandGrid, gridDifferences, hyperOf, type Trial } from "./grid.js";

export interface SweepSpec {
  /** The preset's name, or "sweep". */
  name: string;
  dir: string;
  grid: SweepGrid;
}

/** runExperiments' options (resume: reattach to the folder's sweep), with events told by trial. */
export interface SweepOptions extends Omit<RunOptions, "onEvent"> {
  /** Every training event, with its trial. */
  onEvent?: (trial: Trial, event: TrainEvent) => void;
  /** Each trial state change, and each row as its job ends. */
  onProgress?: (progress: SweepProgress) => void;
}

export interface SweepProgress {
  states: ReadonlyMap<string, TrialState>;
  /** Jobs (trial × seed) ended, and in all. */
  jobsDone: number;
  jobsTotal: number;
}

export interface SweepResult {
  status: "finished" | "interrupted";
  file: SweepFile;
  rows: TrialRow[];
  trials: Trial[];
}

/** The sweep a folder holds, for --resume: its name and grid (checked). */
export function loadSweepSpec(dir: string): SweepSpec & { dataSource: string } {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) throw new InputError(`${dir} holds no sweep (no ${SWEEP_FILE}); start one with actlab sweep --logdir ${dir}`);
  const file = readSweepFile(path);
  return { name: file.name, dir, grid: file.grid, dataSource: file.data.source };
}

/** The row of a trial's job with one seed, from its epoch records and its last epoch's diagnostics. */
export function trialRow(trial: Trial, seed: number, history: readonly EpochRecord[], diagnostics: EpochDiagnostics | undefined, status: "finished" | "diverged"): TrialRowJson {
  const records = [...history].sort((a, b) => a.epoch - b.epoch);
  const last = records[records.length - 1];
  const accuracies = records.map((r) => r.test_acc).filter(Number.isFinite);
  const layers = diagnostics?.layers ?? [];
  const first = layers.find((l) => l.layer === 1);
  const final = layers.reduce<(typeof layers)[number] | undefined>((a, l) => (a === undefined || l.layer > a.layer ? l : a), undefined);
  const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  return {
    trial: trial.id,
    seed,
    settings: trial.settings,
    status,
    epochs: records.length,
    final_test_acc: finite(last?.test_acc),
    best_test_acc: accuracies.length > 0 ? Math.max(...accuracies) : null,
    final_train_loss: finite(last?.train_loss),
    epoch_first_50: records.find((r) => r.test_acc >= 0.5)?.epoch ?? null,
    grad_norm_ratio: first && final && final.grad_norm > 0 ? finite(first.grad_norm / final.grad_norm) : null,
    seconds: finite(records.reduce((sum, r) => sum + (Number.isFinite(r.seconds) ? r.seconds : 0), 0)),
  };
}

function experimentSpec(dir: string, trial: Trial, grid: SweepGrid): ExperimentSpec {
  const s = trial.settings;
  return {
    name: trial.id,
    dir: join(dir, trial.id),
    models: [{ model: s.activation, config: trial.config }],
    seeds: grid.seeds,
    settings: {
      optimizer: s.optimizer, ...resolveHyper(s.optimizer, hyperOf(s)), batchSize: s.batchSize, epochs: s.epochs, init: s.init,
      testBatchSize: grid.fixed.testBatchSize, mean: grid.fixed.mean, std: grid.fixed.std,
    },
    trainLimit: s.trainLimit ?? undefined,
  };
}

/**
 * Rows for jobs that ended without one: the process died between the run folder's jobs.json and
 * trials.jsonl. Rebuilt from the trial's metrics.jsonl, which holds each epoch's diagnostics too.
 */
function recoverRows(dir: string, trials: Trial[], grid: SweepGrid, have: Set<string>): TrialRowJson[] {
  const rows: TrialRowJson[] = [];
  for (const trial of trials) {
    const jobsPath = join(dir, trial.id, "jobs.json");
    if (!existsSync(jobsPath)) continue;
    const jobs = readJobs(jobsPath);
    let metrics: ReturnType<typeof readMetrics> | undefined;
    for (const seed of grid.seeds) {
      const status = jobs[seriesName(trial.settings.activation, seed, grid.seeds.length > 1)];
      if ((status !== "finished" && status !== "diverged") || have.has(rowKey(trial.id, seed))) continue;
      metrics ??= readMetrics(join(dir, trial.id, "metrics.jsonl"));
      const mine = metrics.filter((r) => r.seed === seed);
      const last = mine.reduce<(typeof mine)[number] | undefined>((a, r) => (a === undefined || r.epoch > a.epoch ? r : a), undefined);
      rows.push(trialRow(trial, seed, mine, last?.diagnostics, status));
    }
  }
  return rows;
}

const rowKey = (trial: string, seed: number) => `${trial}\u0000${seed}`;

export async function runSweep(spec: SweepSpec, options: SweepOptions = {}): Promise<SweepResult> {
  const { dir, grid } = spec;
  const trials = expandGrid(grid);
  const sweepPath = join(dir, SWEEP_FILE);
  const rowsPath = join(dir, TRIALS_FILE);
  prepareWritableDir(dir, "sweep folder");
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`actlab: warning: ${message}\n`));
  const release = lockRunDirectory(dir, warn);
  try {
    const existing = existsSync(sweepPath) ? readSweepFile(sweepPath) : undefined;
    if (!options.resume && existing) {
      const differences = gridDifferences(grid, existing.grid);
      if (differences.length === 0) throw new InputError(`${dir} already holds this sweep; continue it with actlab sweep --resume ${dir}`);
      throw new InputError(`${dir} already holds a different sweep (${differences.join("; ")}); choose another --logdir`);
    }
    if (options.resume && !existing) throw new InputError(`${dir} holds no sweep (no ${SWEEP_FILE}) to resume`);
    if (existing) {
      const ids = existing.trials.map((t) => t.id).join(",");
      if (ids !== trials.map((t) => t.id).join(",")) throw new InputError(`${sweepPath}: its trials are not its grid's (the file was edited); start the sweep afresh in another folder`);
    }
    const data = options.data ?? loadMnist({ dir: options.dataDir, shared: true });
    if (existing) {
      const differences = dataDifferences(existing.data, data.identity);
      if (differences.length > 0) throw new InputError(`the data in ${data.source} are not the sweep's (${differences.join("; ")}); pass --data with the folder it was started on`);
    }

    let rows = readTrialRows(rowsPath);
    const have = new Set(rows.map((r) => rowKey(r.trial, r.seed)));
    for (const row of recoverRows(dir, trials, grid, have)) {
      appendLineDurableSync(rowsPath, JSON.stringify(row));
      have.add(rowKey(row.trial, row.seed));
    }
    rows = readTrialRows(rowsPath);
    const ended = new Map<string, Map<number, "finished" | "diverged">>(trials.map((t) => [t.id, new Map()]));
    for (const row of rows) ended.get(row.trial)?.set(row.seed, row.status);
    const states = new Map<string, TrialState>();
    const settle = (trial: Trial): TrialState | undefined => {
      const done = ended.get(trial.id)!;
      if (done.size < grid.seeds.length) return undefined;
      return [...done.values()].includes("diverged") ? "diverged" : "finished";
    };
    for (const trial of trials) states.set(trial.id, settle(trial) ?? "queued");
    const jobsTotal = trials.length * grid.seeds.length;
    let jobsDone = rows.length;
    const writeSweep = () => {
      const file: SweepFileJson = {
        format: SWEEP_FORMAT_VERSION, name: spec.name, grid,
        data: { source: data.source, sha256: data.identity.sha256, files: data.identity.files },
        trials: trials.map((t) => ({ id: t.id, settings: t.settings, state: states.get(t.id)! })),
      };
      writeFileAtomicSync(sweepPath, JSON.stringify(file, null, 2) + "\n");
      options.onProgress?.({ states, jobsDone, jobsTotal });
    };
    writeSweep();

    const byId = new Map(trials.map((t) => [t.id, t]));
    const diagnostics = new Map<string, EpochDiagnostics>();
    // Settled trials are passed too: runExperiments' resume keeps their finished jobs and trains nothing.
    const specs = trials.map((t) => experimentSpec(dir, t, grid));
    try {
      await runExperiments(specs, {
        data, workers: options.workers, runner: options.runner, stopFlag: options.stopFlag,
        resume: options.resume, onWarning: warn, stepEventIntervalMs: options.stepEventIntervalMs,
        onEvent: (experiment, event) => {
          const trial = byId.get(experiment.name)!;
          if (event.type === "start" && states.get(trial.id) === "queued") {
            states.set(trial.id, "running");
            writeSweep();
          } else if (event.type === "epoch") {
            diagnostics.set(rowKey(trial.id, event.record.seed), event.diagnostics);
          } else if (event.type === "end" && event.status !== "interrupted") {
            const key = rowKey(trial.id, event.seed);
            if (!have.has(key)) {
              const row = trialRow(trial, event.seed, event.history, diagnostics.get(key), event.status);
              appendLineDurableSync(rowsPath, JSON.stringify(row));
              have.add(key);
              jobsDone++;
            }
            diagnostics.delete(key);
            ended.get(trial.id)!.set(event.seed, event.status);
            states.set(trial.id, settle(trial) ?? "running");
            writeSweep();
          }
          options.onEvent?.(trial, event);
        },
      });
    } catch (error) {
      for (const [id, state] of states) if (state === "running") states.set(id, "failed");
      writeSweep();
      throw error;
    }
    // Trials stopped part-way wait for --resume.
    for (const [id, state] of states) if (state === "running") states.set(id, "queued");
    writeSweep();
    const finalRows = readTrialRows(rowsPath);
    const settled = [...states.values()].every((s) => s === "finished" || s === "diverged");
    return { status: settled ? "finished" : "interrupted", file: readSweepFile(sweepPath), rows: finalRows, trials };
  } finally {
    release();
  }
}
