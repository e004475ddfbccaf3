// Running experiments from the command line: progress, signals, the closing table and exit codes.
// First Ctrl-C (or SIGTERM): every job finishes its current step, writes a resumable checkpoint,
// and the process exits with 130 saying how to resume. A second one exits at once; files are
// only ever replaced whole, so nothing is left half-written.
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { validateDataDir } from "../../data/mnist.js";
import { InputError } from "../../errors.js";
import { explainDiskFull } from "../../fsChecks.js";
import { loadExperimentSpec, runExperiments, type ExperimentResult, type ExperimentSpec } from "../../train/experiment.js";
import { StopFlag } from "../../train/pool.js";
import { formatSummary } from "../../train/summary.js";
import { ProgressDisplay } from "../progress.js";

export interface RunCommandOptions {
  dataDir?: string;
  workers?: number;
  resume?: boolean;
  failOnDivergence?: boolean;
  /** The command that continues this run, shown after an interruption. */
  resumeCommand: (dirs: string[]) => string;
}

export async function runFromCli(specs: ExperimentSpec[], options: RunCommandOptions): Promise<number> {
  const stopFlag = new StopFlag();
  const progress = new ProgressDisplay();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      stopFlag.raise();
      process.stderr.write(`\n${signal}: finishing the current step and saving a resumable checkpoint (again to quit at once)\n`);
    } else {
      // Files are only ever replaced whole or appended a line at a time, and this handler runs between
      // those writes, so exiting here cannot leave a file half-written. The lock goes with the process.
      progress.stop();
      process.stderr.write(`\nsecond signal (${signal}): exiting now; the last complete checkpoint and log lines are intact\n`);
      process.exit(130);
    }
  };
  // Kept until the process ends: a signal while the table prints still gets the same answer.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let results: ExperimentResult[];
  try {
    results = await runExperiments(specs, {
      dataDir: options.dataDir, workers: options.workers, resume: options.resume, stopFlag,
      onEvent: (spec, event) => progress.handle(spec, event),
      onWarning: (message) => process.stderr.write(`actlab: warning: ${message}\n`),
    });
  } catch (error) {
    throw explainDiskFull(error, specs.map((s) => s.dir), options.resumeCommand(specs.map((s) => s.dir)));
  } finally {
    progress.stop();
  }
  for (const result of results) {
    process.stdout.write(`\n${formatSummary(`${result.spec.name} (${result.spec.dir})`, result.rows)}\n`);
  }
  if (results.some((r) => r.status === "interrupted")) {
    process.stderr.write(`\ninterrupted; continue with:\n  ${options.resumeCommand(specs.map((s) => s.dir))}\n`);
    return 130;
  }
  const diverged = results.flatMap((r) => r.rows.flatMap((row) => row.diverged.map((d) => `${r.spec.name}/${row.model} seed ${d.seed} (epoch ${d.epoch}, step ${d.step})`)));
  if (diverged.length > 0) {
    process.stderr.write(`\nwarning: ${diverged.length} model(s) diverged (loss NaN or infinite) and were stopped: ${diverged.join("; ")}\n`);
    if (options.failOnDivergence) return 1;
  }
  return 0;
}

/**
 * The folders, each once: one named twice (or by two paths, through a symlink, "D" and "D/") would be
 * opened twice, and its second opening would find its own lock and blame "another process". Paths that
 * do not resolve are kept, for loadExperimentSpec to refuse by name.
 */
export function distinctFolders(dirs: readonly string[]): string[] {
  const seen = new Set<string>();
  return dirs.filter((dir) => {
    let key: string;
    try {
      key = realpathSync(dir);
    } catch {
      key = resolve(dir);
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The run directories to resume, checked, and the data folder to resume them on: --data when given,
 * else the folder their config.json names (a run must continue on the data it started with).
 */
export function loadResumeSpecs(dirs: string[], dataFlag: string | undefined): { specs: ExperimentSpec[]; dataDir?: string } {
  const loaded = distinctFolders(dirs).map((dir) => loadExperimentSpec(dir));
  const specs = loaded.map(({ data: _data, ...spec }) => spec);
  if (dataFlag !== undefined) return { specs, dataDir: dataFlag };
  const folders = [...new Set(loaded.map((spec) => spec.data).filter((d): d is string => d !== undefined))];
  if (folders.length > 1) {
    throw new InputError(`the runs to resume were trained on different data (${folders.join(", ")}); resume them one at a time`);
  }
  if (folders.length === 0) return { specs };
  try {
    validateDataDir(folders[0]);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`${error.message}; the run was trained on that folder: pass --data with its new place`);
  }
  return { specs, dataDir: folders[0] };
}
