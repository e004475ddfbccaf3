// config.json: what a run directory was started with, read back (and checked) to resume it. A file
// edited by hand or cut short is refused with the field at fault, never half-trusted.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../errors.js";
import { mlpConfig, type MlpConfig } from "../model.js";
import { hyperProblems, OPTIMIZER_NAMES } from "../optim.js";
import { DEFAULT_SETTINGS, SEED_MAX, type TrainSettings } from "./settings.js";

export interface SavedModel {
  model: string;
  config: MlpConfig;
}

export interface SavedRun {
  name: string;
  models: SavedModel[];
  seeds: number[];
  settings: TrainSettings;
  trainLimit?: number;
  /** The data folder the run was trained on. */
  data?: string;
}

const positive = z.number().finite().positive();
const positiveInteger = z.number().int().positive();

const savedRunSchema = z.object({
  name: z.string().min(1),
  models: z.array(z.object({
    model: z.string().min(1),
    config: z.object({
      inSize: positiveInteger,
      outSize: positiveInteger,
      hiddenSizes: z.array(positiveInteger).min(1),
      activation: z.string(),
      leakySlope: z.number().finite(),
    }),
  })).min(1),
  // The seeds' one range (settings.ts): outside it, or repeated, a seed would train a model twice.
  seeds: z.array(z.number().int().min(0).max(SEED_MAX)).min(1)
    .refine((seeds) => new Set(seeds).size === seeds.length, { error: "lists a seed twice" }),
  settings: z.object({
    lr: positive,
    momentum: z.number().finite().nonnegative(),
    batchSize: positiveInteger,
    testBatchSize: positiveInteger,
    epochs: positiveInteger,
    mean: z.number().finite(),
    std: positive,
    // The optimiser's fields (optim.ts); a config.json from before them trained with SGD, their defaults.
    optimizer: z.enum(OPTIMIZER_NAMES).default(DEFAULT_SETTINGS.optimizer),
    weightDecay: z.number().finite().nonnegative().default(DEFAULT_SETTINGS.weightDecay),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default(DEFAULT_SETTINGS.betas),
    eps: positive.default(DEFAULT_SETTINGS.eps),
  }).superRefine((settings, ctx) => {
    for (const message of hyperProblems(settings.optimizer, settings)) ctx.addIssue({ code: "custom", message });
  }),
  trainLimit: positiveInteger.optional().nullable(),
  data: z.string().optional(),
});

/** Reads and checks `<dir>/config.json`; an InputError names the file and the field at fault. */
export function loadSavedRun(dir: string): SavedRun {
  const path = join(dir, "config.json");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--resume ${dir}: no such folder`);
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no config.json there, so it is not an actlab run directory`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InputError(`${path} is not valid JSON (${(error as Error).message}); the run cannot be resumed`);
  }
  const result = savedRunSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join(".") || "(top)"}: ${issue.message}`);
    throw new InputError(`${path} is not a valid run configuration: ${issues.join("; ")}`);
  }
  const saved = result.data;
  return {
    name: saved.name,
    seeds: saved.seeds,
    settings: saved.settings,
    trainLimit: saved.trainLimit ?? undefined,
    data: saved.data,
    models: saved.models.map(({ model, config }) => {
      try {
        // The same checks a fresh run's flags go through (activation name, widths).
        const checked = mlpConfig({ ...config, hiddenSize: config.hiddenSizes, numHiddenLayers: config.hiddenSizes.length + 1 });
        return { model, config: checked };
      } catch (error) {
        throw new InputError(`${path}: model ${model}: ${(error as Error).message}`);
      }
    }),
  };
}
