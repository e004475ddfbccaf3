// Running experiments from the command line: progress, signals, the closing table and exit codes.
// First Ctrl-C (or SIGTERM): every job finishes its current step, writes a resumable checkpoint,
// and the process exits with 130 saying how to resume. A second one exits at once; files are
// only ever replaced whole, so nothing is left half-written.
import { InputError } from "../../errors.js";
import { runExperiments, type ExperimentResult, type ExperimentSpec } from "../../train/experiment.js";
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
      process.stderr.write(`\n${signal} again: exiting now; the last complete checkpoint and log lines are intact\n`);
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let results: ExperimentResult[];
  try {
    results = await runExperiments(specs, {
      dataDir: options.dataDir, workers: options.workers, resume: options.resume, stopFlag,
      onEvent: (spec, event) => progress.handle(spec, event),
    });
  } finally {
    progress.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
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

export function requireOneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(`${flag} must be one of ${allowed.join(", ")}; got "${value}"`);
  }
  return value as T;
}
