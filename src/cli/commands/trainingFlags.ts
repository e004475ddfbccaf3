// What train and experiment share beyond their flags (declared in flagTable.ts): the checks across
// flags, how the parsed values become settings, and the folder a run goes to by default.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { hyperProblems, resolveHyper, type Knob } from "../../optim.js";
import type { NormName } from "../../norms.js";
import type { TrainSettings } from "../../train/settings.js";
import { givenFlags, resumeConflicts, type FlagSet, type FlagValues } from "../flags.js";
import { TRAINING } from "../flagTable.js";

export type ParsedTrainingFlags = FlagValues<typeof TRAINING>;

export interface TrainingFlags {
  settings: TrainSettings;
  seeds: number[];
  leakySlope: number;
  norm: NormName;
  trainLimit?: number;
  dataDir?: string;
  workers?: number;
  failOnDivergence: boolean;
}

/**
 * The checks of a training command that need only which flags were typed: settings with --resume,
 * and --seed with --seeds (one of them would be silently dropped).
 */
export function trainingFlagConflicts(command: Command, set: FlagSet): string[] {
  const given = givenFlags(command, set);
  const problems = resumeConflicts(command, set);
  if (given.includes("seed") && given.includes("seeds")) {
    problems.push(`--seed and --seeds both choose the seeds; pass one of them (--seeds ${String(command.opts().seeds)} or --seed ${String(command.opts().seed)})`);
  }
  return problems;
}

/** The parsed flags as settings; the optimiser's knobs are checked against it (InputError, exit 2). */
export function toTrainingFlags(flags: ParsedTrainingFlags): TrainingFlags {
  const given = { lr: flags.lr, momentum: flags.momentum, weightDecay: flags.weightDecay, betas: flags.betas, eps: flags.eps };
  // The knobs have no flag defaults, so a defined value is one the user typed.
  const typed = (Object.keys(given) as Knob[]).filter((knob) => given[knob] !== undefined);
  const hyper = resolveHyper(flags.optimizer, given);
  const problems = hyperProblems(flags.optimizer, hyper, typed);
  if (problems.length > 0) throw new InputError(problems.join("\n"));
  return {
    settings: {
      optimizer: flags.optimizer, ...hyper, batchSize: flags.batchSize, testBatchSize: flags.testBatchSize,
      epochs: flags.epochs, mean: flags.mean, std: flags.std, init: flags.init,
    },
    seeds: flags.seed !== undefined ? [flags.seed] : flags.seeds,
    leakySlope: flags.leakySlope,
    norm: flags.norm,
    trainLimit: flags.trainLimit,
    dataDir: flags.data,
    workers: flags.workers,
    failOnDivergence: Boolean(flags.failOnDivergence),
  };
}

/**
 * The default folder of a `train` run: runs/train-<UTC time to the millisecond>-<8 random hex digits>.
 * Runs started at the same moment, in one process or several, get different folders (the time alone
 * put two runs started in the same second into one folder); names still sort by start time.
 */
export function defaultRunDir(now = new Date(), suffix = randomBytes(4).toString("hex")): string {
  const time = now.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(".", "-").slice(0, 19);
  return `runs/train-${time}-${suffix}`;
}
