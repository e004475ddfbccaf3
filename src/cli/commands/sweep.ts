// `actlab sweep [preset]`: a grid of trials from a preset, a spec file and flags (each list-able
// flag takes a comma list), run on this machine's worker pool into one sweep folder; --resume
// reattaches to an interrupted one. Ctrl-C as for train: the first stops at the next step with
// resumable states and exits 130 saying how to resume, a second exits at once.
import type { Command } from "commander";
import { explainDiskFull } from "../../fsChecks.js";
import { InputError } from "../../errors.js";
import { buildGrid, rawFromFlag, SPEC_NAMES, specName, type RawGrid } from "../../sweep/grid.js";
import { PRESET_NAMES, PRESETS, type PresetName } from "../../sweep/presets.js";
import { SweepProgressDisplay, formatDuration } from "../../sweep/progress.js";
import { readSpecFile } from "../../sweep/specFile.js";
import { loadSweepSpec, runSweep, type SweepSpec } from "../../sweep/sweep.js";
import { StopFlag, type JobRunner } from "../../train/pool.js";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { addFlags, givenFlags, parseFlags } from "../flags.js";
import { QUEUE, SHAPE, SWEEP_RUN, TRAINING } from "../flagTable.js";
import { shellCommand } from "../shellQuote.js";

const { seed: _seed, failOnDivergence: _fail, ...SWEEP_TRAINING } = TRAINING;
/** Every flag of `actlab sweep`, in the order of its help. */
export const SWEEP_FLAGS = { ...SWEEP_RUN, layers: SHAPE.layers, hidden: SHAPE.hidden, ...SWEEP_TRAINING, ...QUEUE };
/** The flags that steer the command rather than name the grid; parsed as every other command's flags. */
const CONTROL = { spec: SWEEP_RUN.spec, logdir: SWEEP_RUN.logdir, resume: SWEEP_RUN.resume, data: TRAINING.data, workers: TRAINING.workers, queue: QUEUE.queue };

export function registerSweep(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("sweep")
    .argument("[preset]", `a built-in grid: ${PRESET_NAMES.join(", ")} (depth: 12 activations × 2–20 Linear layers, width 64, 3 seeds, 10 epochs)`)
    .description("train every combination of the listed values (each list-able flag takes a comma list; or --spec file.yaml) into one sweep folder: sweep.json, trials.jsonl and a run folder per trial. In a sweep a comma always separates values, so --hidden 64,128 is two trials; per-layer widths go in a spec file as a nested list (hidden: [[128, 32]])"), SWEEP_FLAGS);
  command.action(async (presetArg: string | undefined) => {
    const given = givenFlags(command, SWEEP_FLAGS);
    const gridKeys = given.filter((key) => SPEC_NAMES.includes(specName(SWEEP_FLAGS[key])));
    const early: string[] = [];
    if (presetArg !== undefined && !(PRESET_NAMES as string[]).includes(presetArg)) early.push(`preset must be one of ${PRESET_NAMES.join(", ")}; got "${presetArg}"`);
    if (given.includes("resume")) {
      const typed = [...gridKeys, ...(given.includes("spec") ? ["spec"] : []), ...(given.includes("logdir") ? ["logdir"] : [])];
      if (presetArg !== undefined) early.push(`--resume takes the grid from the folder's sweep.json; drop "${presetArg}"`);
      if (typed.length > 0) early.push(`--resume takes the grid from the folder's sweep.json; drop ${typed.map((k) => SWEEP_FLAGS[k as keyof typeof SWEEP_FLAGS].name).join(", ")}`);
    } else if (!given.includes("logdir") && presetArg === undefined) {
      early.push("--logdir is needed: the sweep folder (or give a preset, whose folder is runs/sweep-<preset>)");
    }
    const control = parseFlags(command, CONTROL, undefined, early);
    let spec: SweepSpec;
    let dataDir = control.data;
    if (control.resume !== undefined) {
      const loaded = loadSweepSpec(control.resume);
      spec = loaded;
      dataDir ??= loaded.dataSource;
    } else {
      const layers: RawGrid[] = [];
      if (presetArg !== undefined) layers.push(PRESETS[presetArg as PresetName]);
      if (control.spec !== undefined) layers.push(readSpecFile(control.spec));
      const raw = command.opts();
      layers.push(Object.fromEntries(gridKeys.map((key) => {
        const f = SWEEP_FLAGS[key];
        return [specName(f), rawFromFlag(f, String(raw[key]))];
      })));
      const grid = buildGrid(layers);
      spec = { name: presetArg ?? "sweep", dir: control.logdir ?? `runs/sweep-${presetArg}`, grid };
    }
    // The queue's address is checked before any work (a bad URL is exit 2), its runner made here.
    const runner = control.queue === undefined ? undefined : await queueRunnerFor(control.queue, spec.dir);
    exit(await sweepFromCli(spec, { dataDir, workers: control.workers, resume: control.resume !== undefined, runner }));
  });
}

/**
 * The runner that hands the sweep's jobs to `actlab worker` processes through Redis. Its sweep id
 * is the folder's absolute path, hashed: the same after a coordinator restart (so `--resume` finds the
 * jobs already queued, and enqueues none twice), different for another sweep folder.
 */
async function queueRunnerFor(url: string, dir: string): Promise<JobRunner> {
  // Loaded here, not at start-up: BullMQ and its Redis client would weigh on every command.
  const { parseQueueUrl } = await import("../../sweep/queueConnection.js");
  const { queueRunner } = await import("../../sweep/queueRunner.js");
  parseQueueUrl(url);
  const sweepId = createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 16);
  return queueRunner(url, { sweepId });
}

async function sweepFromCli(spec: SweepSpec, options: { dataDir?: string; workers?: number; resume: boolean; runner?: JobRunner }): Promise<number> {
  const stopFlag = new StopFlag();
  const display = new SweepProgressDisplay();
  const resumeCommand = shellCommand(["actlab", "sweep", "--resume", spec.dir]);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      stopFlag.raise();
      process.stderr.write(`\n${signal}: finishing the current step and saving resumable checkpoints (again to quit at once)\n`);
    } else {
      display.stop();
      process.stderr.write(`\nsecond signal (${signal}): exiting now; continue with ${resumeCommand}\n`);
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  let result;
  try {
    result = await runSweep(spec, {
      dataDir: options.dataDir, workers: options.workers, resume: options.resume, stopFlag, runner: options.runner,
      onProgress: (progress) => display.progress(progress),
      onEvent: (trial, event) => display.event(trial, event),
      onWarning: (message) => process.stderr.write(`actlab: warning: ${message}\n`),
    });
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw explainDiskFull(error, [spec.dir], resumeCommand);
  } finally {
    display.stop();
  }
  const counts = new Map<string, number>();
  for (const trial of result.file.trials) counts.set(trial.state, (counts.get(trial.state) ?? 0) + 1);
  const states = [...counts.entries()].map(([state, n]) => `${n} ${state}`).join(", ");
  process.stdout.write(`\nsweep ${spec.name} in ${spec.dir}: ${result.file.trials.length} trials (${states}), ${result.rows.length} of ${result.file.trials.length * result.file.grid.seeds.length} jobs ended, ${formatDuration((Date.now() - started) / 1000)}\n`);
  if (result.status === "interrupted") {
    process.stderr.write(`\ninterrupted; continue with:\n  ${resumeCommand}\n`);
    return 130;
  }
  process.stdout.write(`report: actlab report ${shellCommand([spec.dir])}\n`);
  return 0;
}
