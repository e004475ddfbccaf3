// The sweep folder's own file formats, beside the run format (runFormat.ts) that each trial's run
// folder keeps: sweep.json (the grid, the data it runs on, each trial's settings and state) and
// trials.jsonl (one line per trial and seed when that job ends). Same pattern as runFormat: a zod
// schema per format, types inferred from it, reading checked with errors that name file and field.
//
//   <sweep>/sweep.json        the grid and each trial's state
//   <sweep>/trials.jsonl      one row per trial and seed, appended as each ends
//   <sweep>/<trialId>/        a run folder (config.json, metrics.jsonl, ...) with one model, the trial's seeds
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InputError } from "./errors.js";
import { INIT_NAMES } from "./init.js";
import { DEFAULT_NORM, NORM_NAMES } from "./norms.js";
import { OPTIMIZER_NAMES } from "./optim.js";
import { check, dataIdentitySchema, MAX_EPOCHS, MAX_LAYERS, measured, parseJsonText, readJsonFile, seed } from "./runFormat.js";

export const SWEEP_FILE = "sweep.json";
export const TRIALS_FILE = "trials.jsonl";
export const SWEEP_FORMAT_VERSION = 1;

const positiveInteger = z.int().positive();
const positive = z.number().positive();
/** One width for every hidden layer, or one per hidden layer (the --hidden flag's two forms). */
const hidden = z.union([positiveInteger, z.array(positiveInteger).min(1).max(MAX_LAYERS - 1)]);

/** What one trial trains: a value for every knob a sweep can vary. */
export const trialSettingsSchema = z.object({
  activation: z.string().min(1),
  layers: z.int().min(2).max(MAX_LAYERS),
  hidden,
  init: z.enum(INIT_NAMES),
  // Absent from sweeps written before --norm: they trained without one.
  norm: z.enum(NORM_NAMES).default(DEFAULT_NORM),
  optimizer: z.enum(OPTIMIZER_NAMES),
  // The optimiser's knobs: null where the grid left them out (the optimiser's own default).
  lr: positive.nullable(),
  momentum: z.number().nonnegative().nullable(),
  weightDecay: z.number().nonnegative().nullable(),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).nullable(),
  eps: positive.nullable(),
  batchSize: positiveInteger,
  epochs: z.int().min(1).max(MAX_EPOCHS),
  leakySlope: z.number(),
  trainLimit: positiveInteger.nullable(),
});
export type TrialSettings = z.output<typeof trialSettingsSchema>;

/**
 * The grid: the values of each knob (one value when it does not vary), the seeds every trial is
 * trained with, and the settings no sweep varies. Two sweeps are the same sweep when their grids are.
 */
export const sweepGridSchema = z.object({
  activation: z.array(z.string().min(1)).min(1),
  layers: z.array(trialSettingsSchema.shape.layers).min(1),
  hidden: z.array(hidden).min(1),
  init: z.array(trialSettingsSchema.shape.init).min(1),
  norm: z.array(z.enum(NORM_NAMES)).min(1).default([DEFAULT_NORM]),
  optimizer: z.array(trialSettingsSchema.shape.optimizer).min(1),
  lr: z.array(trialSettingsSchema.shape.lr).min(1),
  momentum: z.array(trialSettingsSchema.shape.momentum).min(1),
  weightDecay: z.array(trialSettingsSchema.shape.weightDecay).min(1),
  betas: z.array(trialSettingsSchema.shape.betas).min(1),
  eps: z.array(trialSettingsSchema.shape.eps).min(1),
  batchSize: z.array(positiveInteger).min(1),
  epochs: z.array(trialSettingsSchema.shape.epochs).min(1),
  leakySlope: z.array(z.number()).min(1),
  trainLimit: z.array(positiveInteger.nullable()).min(1),
  seeds: z.array(seed).min(1).refine((s) => new Set(s).size === s.length, { error: "lists a seed twice" }),
  fixed: z.object({ testBatchSize: positiveInteger, mean: z.number(), std: positive, inSize: positiveInteger, outSize: positiveInteger }),
});
export type SweepGrid = z.output<typeof sweepGridSchema>;
/** The knobs a sweep varies, in the order trial ids name them. */
export type SweepAxis = keyof TrialSettings;

export const trialStateSchema = z.enum(["queued", "running", "finished", "diverged", "failed"]);
export type TrialState = z.output<typeof trialStateSchema>;

export const sweepFileSchema = z.object({
  format: z.literal(SWEEP_FORMAT_VERSION),
  /** The preset's name, or "sweep". */
  name: z.string().min(1),
  grid: sweepGridSchema,
  /** The data every trial trains on: where it was read, and its content hash (data/identity.ts). */
  data: dataIdentitySchema.extend({ source: z.string() }),
  trials: z.array(z.object({
    /** Also the trial's run folder, <sweep>/<id>. */
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: "a trial id is letters, digits, '.', '_' and '-'" }),
    settings: trialSettingsSchema,
    state: trialStateSchema,
  })).min(1).refine((t) => new Set(t.map((x) => x.id)).size === t.length, { error: "lists a trial id twice" }),
});
export type SweepFile = z.output<typeof sweepFileSchema>;
export type SweepFileJson = z.input<typeof sweepFileSchema>;

/** How a trial's job with one seed ended. */
export const trialRowSchema = z.object({
  trial: z.string().min(1),
  seed,
  settings: trialSettingsSchema,
  status: z.enum(["finished", "diverged"]),
  /** Epochs trained (fewer than settings.epochs when it diverged). */
  epochs: z.int().min(0).max(MAX_EPOCHS),
  final_test_acc: measured,
  best_test_acc: measured,
  final_train_loss: measured,
  /** The first epoch whose test accuracy reached 50%; null when none did. */
  epoch_first_50: z.int().min(1).max(MAX_EPOCHS).nullable(),
  /** ‖∇W₁‖ / ‖∇W_L‖ in the last epoch: far below 1, the first layer's gradient vanished; far above, it exploded. */
  grad_norm_ratio: measured,
  /** Training seconds, summed over epochs. */
  seconds: measured,
});
export type TrialRow = z.output<typeof trialRowSchema>;
export type TrialRowJson = z.input<typeof trialRowSchema>;

/** Reads and checks a sweep.json. */
export function readSweepFile(path: string): SweepFile {
  return parseSweepFile(readJsonFile(path), path);
}

export function parseSweepFile(value: unknown, source: string): SweepFile {
  const result = check(sweepFileSchema, value);
  if (!result.ok) throw new InputError(`${source} is not a valid sweep file: ${result.problem}`);
  return result.value;
}

/** Every row of a trials.jsonl text; a final line without its newline is an append in progress and left out. */
export function parseTrialRows(text: string, source: string): TrialRow[] {
  const lines = text.split("\n");
  lines.pop();
  const rows: TrialRow[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const result = check(trialRowSchema, parseJsonText(line, `${source}: line ${i + 1}`));
    if (!result.ok) throw new InputError(`${source}: line ${i + 1} is not a valid trial row: ${result.problem}`);
    rows.push(result.value);
  });
  return rows;
}

/** Reads trials.jsonl strictly; a missing file has no rows yet. */
export function readTrialRows(path: string): TrialRow[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new InputError(`${path} cannot be read: ${(error as Error).message}`);
  }
  return parseTrialRows(text, path);
}
