// The run folder's file formats, in one place: config.json, metrics.jsonl, summary.json, jobs.json,
// the series name of a model and seed, and the TensorBoard tags and sub-folders. Each format is a
// zod schema with its type inferred from it; the writer (train/runDirectory), resume
// (train/runConfig), report (report/runData), the dashboard's server (serve/runStore) and its page
// (serve/page, through serve/apiTypes' type-only imports) all use these.
//
// Reading is checked, never trusted: a file that does not match is refused with an InputError naming
// the file and the field ("runs/x/config.json is not a valid run configuration: models[0].activation:
// ..."), never a TypeError further on. Numbers that size loops or arrays in a reader (epochs, layer
// indices, list lengths) are bounded here, so a hostile file cannot freeze one either.
//
// JSON has no NaN or infinity: JSON.stringify writes them as null. A measured number (a loss, an
// accuracy, a norm) is therefore "number or null" on disk and reads back as NaN, so the types in
// memory stay `number`; `...Json` types are the shapes as they lie on disk and travel to the page.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DATA_FILES, type DataFileName, type DataIdentity } from "./data/identity.js";
import { InputError } from "./errors.js";
import { DEFAULT_INIT, INIT_NAMES } from "./init.js";
import type { MlpConfig } from "./model.js";
import { DEFAULT_NORM, NORM_NAMES } from "./norms.js";
import { hyperProblems, OPTIMIZER_NAMES } from "./optim.js";
import { DEFAULT_SETTINGS, SEED_MAX, type TrainSettings } from "./train/settings.js";
import type { ModelSettings } from "./train/experiment.js";

// ---- bounds ----

/** The most epochs a run may have (the --epochs flag's limit): a reader may loop over epochs. */
export const MAX_EPOCHS = 100_000;
/** The most Linear layers a model may have, and so the largest layer index in diagnostics. */
export const MAX_LAYERS = 10_000;
/** The most warnings one file contributes to a dashboard answer; the rest are counted. */
export const MAX_WARNINGS_PER_FILE = 20;

const count = z.int().nonnegative();
const positiveInteger = z.int().positive();
const epochNumber = z.int().min(1).max(MAX_EPOCHS);
const layerIndex = z.int().min(1).max(MAX_LAYERS);
// The seeds' one range (train/settings.ts): outside it, two seeds would alias to one generator state.
export const seed = z.int().min(0).max(SEED_MAX);
/** A measured value: null on disk where it was NaN or infinite; NaN in memory. */
export const measured = z.number().nullable().transform((v) => v ?? NaN);

// ---- config.json ----

/** One model's shape as config.json and the checkpoints' metadata record it (model.ts's MlpConfig). */
export const mlpConfigSchema = z.object({
  inSize: positiveInteger,
  outSize: positiveInteger,
  hiddenSizes: z.array(positiveInteger).min(1).max(MAX_LAYERS - 1),
  activation: z.string(),
  leakySlope: z.number(),
  // Absent from config.json files and checkpoints written before --norm existed: they had none.
  norm: z.enum(NORM_NAMES).default(DEFAULT_NORM),
});

const positive = z.number().positive();

/** Compile-time check that two types agree field for field. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// model.ts owns MlpConfig (with the activation narrowed to the catalogue's names); its JSON shape is this schema's.
const mlpConfigAgrees: Same<Omit<MlpConfig, "activation">, Omit<z.output<typeof mlpConfigSchema>, "activation">> = true;

export const trainSettingsSchema = z.object({
  // In settings.ts's order, so that a config.json read and written again is the same bytes.
  // The optimiser's fields (optim.ts); a config.json from before them trained with SGD, their defaults.
  optimizer: z.enum(OPTIMIZER_NAMES).default(DEFAULT_SETTINGS.optimizer),
  lr: positive,
  momentum: z.number().nonnegative(),
  weightDecay: z.number().nonnegative().default(DEFAULT_SETTINGS.weightDecay),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default(DEFAULT_SETTINGS.betas),
  eps: positive.default(DEFAULT_SETTINGS.eps),
  batchSize: positiveInteger,
  testBatchSize: positiveInteger,
  epochs: epochNumber,
  mean: z.number(),
  std: positive,
  // Absent from config.json files written before --init existed: they were trained with the default.
  init: z.enum(INIT_NAMES).default(DEFAULT_INIT),
}).superRefine((settings, ctx) => {
  for (const message of hyperProblems(settings.optimizer, settings)) ctx.addIssue({ code: "custom", message });
});

// settings.ts owns TrainSettings and its defaults; config.json records them in this shape.
const trainSettingsAgree: Same<TrainSettings, z.output<typeof trainSettingsSchema>> = true;
void [mlpConfigAgrees, trainSettingsAgree];

/** What the data are (data/identity.ts): sizes and SHA-256 of the four IDX files, and one combined digest. */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: "expected a lower-case hex SHA-256" });
const dataFileIdentitySchema = z.object({ bytes: z.int().nonnegative(), sha256: sha256Hex });
export const dataIdentitySchema = z.object({
  sha256: sha256Hex,
  files: z.object(Object.fromEntries(DATA_FILES.map((name) => [name, dataFileIdentitySchema])) as Record<DataFileName, typeof dataFileIdentitySchema>),
});
const dataIdentityAgrees: Same<DataIdentity, z.output<typeof dataIdentitySchema>> = true;
void dataIdentityAgrees;

/**
 * The settings one model sets for itself over the run's (train/experiment's ModelSettings): a preset
 * trains each model with its own --init. Strict: a setting this version does not know (written by a
 * newer actlab) is refused, not silently trained without.
 */
export const modelSettingsSchema = z.strictObject({
  init: z.enum(INIT_NAMES).optional(),
});
const modelSettingsAgree: Same<ModelSettings, z.output<typeof modelSettingsSchema>> = true;
void modelSettingsAgree;

export const runConfigSchema = z.object({
  name: z.string().min(1),
  // `settings` is absent for a model trained with the run's settings alone (and in runs from before it).
  models: z.array(z.object({ model: z.string().min(1), config: mlpConfigSchema, settings: modelSettingsSchema.optional() })).min(1),
  // A seed listed twice would train one model twice and report a spread of zero.
  seeds: z.array(seed).min(1).refine((seeds) => new Set(seeds).size === seeds.length, { error: "lists a seed twice" }),
  settings: trainSettingsSchema,
  trainLimit: positiveInteger.optional().nullable(),
  /** The data folder the run was trained on. */
  data: z.string().optional(),
  /** What those data were: a resume on other images is refused (absent in runs written before it existed). */
  dataIdentity: dataIdentitySchema.optional(),
  /** The software that wrote the run (actlab, node, v8 versions); informative only. */
  versions: z.record(z.string(), z.string()).optional(),
});

/** config.json as read back (unknown keys dropped). */
export type RunConfigFile = z.output<typeof runConfigSchema>;
/** config.json as written and as the dashboard's API sends it. */
export type RunConfigJson = z.input<typeof runConfigSchema>;

// ---- metrics.jsonl ----

export const layerDiagnosticsSchema = z.object({
  /** 1-based Linear layer index. */
  layer: layerIndex,
  weight_norm: measured,
  grad_norm: measured,
  /** ‖∇W‖ / ‖W‖ and ‖ΔW‖ / ‖W‖, ΔW the update the optimiser applied at the last step (lr·v for SGD). */
  grad_to_weight: measured,
  update_to_weight: measured,
  /** NaN and infinite values among this layer's weights and weight gradients. */
  nan_count: count,
  inf_count: count,
});

export const hiddenDiagnosticsSchema = z.object({
  /** 1-based index of the Linear layer whose activation this is. */
  layer: layerIndex,
  /** Units never positive on any test image; null where the activation cannot die. */
  dead_fraction: z.number().nullable(),
  /** Units whose derivative is below 1% of its maximum on most test images; null for non-saturating activations. */
  saturated_fraction: z.number().nullable(),
});

export const epochDiagnosticsSchema = z.object({
  layers: z.array(layerDiagnosticsSchema).max(MAX_LAYERS),
  hidden: z.array(hiddenDiagnosticsSchema).max(MAX_LAYERS),
});

export type LayerDiagnostics = z.output<typeof layerDiagnosticsSchema>;
export type HiddenDiagnostics = z.output<typeof hiddenDiagnosticsSchema>;
export type EpochDiagnostics = z.output<typeof epochDiagnosticsSchema>;

const divergedSchema = z.object({ epoch: epochNumber, step: count });

/** What one epoch of one model and seed produced (the trainer's record, without diagnostics). */
export const epochRecordSchema = z.object({
  model: z.string(),
  seed,
  /** 1-based, as the notebook logs it. */
  epoch: epochNumber,
  train_loss: measured,
  test_acc: measured,
  test_loss: measured,
  seconds: measured,
  samples_per_s: measured,
  /** Set when the loss turned NaN or infinite during this epoch. */
  diverged: divergedSchema.optional(),
});

/** One line of metrics.jsonl: the epoch's record and, when it was logged live, its diagnostics. */
export const metricsRecordSchema = epochRecordSchema.extend({ diagnostics: epochDiagnosticsSchema.optional() });

export type EpochRecord = z.output<typeof epochRecordSchema>;
export type MetricsRecord = z.output<typeof metricsRecordSchema>;
/** A metrics.jsonl line as it lies on disk (non-finite values as null) and as the dashboard's API sends it. */
export type MetricsRecordJson = z.input<typeof metricsRecordSchema>;

// ---- summary.json ----

export const spreadSchema = z.object({
  mean: measured,
  /** Sample standard deviation over seeds (0 for one seed). */
  std: measured,
  n: count,
});

export const summaryRowSchema = z.object({
  model: z.string(),
  parameters: measured,
  seeds: z.array(seed),
  epochs: z.int().min(0).max(MAX_EPOCHS),
  final_test_acc: spreadSchema,
  best_test_acc: spreadSchema,
  final_train_loss: spreadSchema,
  /** Training seconds per seed, summed over epochs. */
  seconds: spreadSchema,
  samples_per_s: spreadSchema,
  /** Seeds whose loss turned NaN or infinite, with where. */
  diverged: z.array(z.object({ seed, epoch: epochNumber, step: count })),
});

export const summaryStatusSchema = z.enum(["finished", "interrupted"]);

export const summarySchema = z.object({
  experiment: z.string(),
  status: summaryStatusSchema,
  rows: z.array(summaryRowSchema),
  settings: trainSettingsSchema.optional(),
  seeds: z.array(seed).optional(),
});

export type Spread = z.output<typeof spreadSchema>;
export type SummaryRow = z.output<typeof summaryRowSchema>;
export type SummaryStatus = z.output<typeof summaryStatusSchema>;
export type SummaryFile = z.output<typeof summarySchema>;
export type SummaryJson = z.input<typeof summarySchema>;

// ---- jobs.json ----

export const jobStatusSchema = z.enum(["finished", "diverged", "interrupted"]);
/** jobs.json: how each series' job ended, by series name. */
export const jobsSchema = z.record(z.string(), jobStatusSchema);
export type JobStatus = z.output<typeof jobStatusSchema>;
export type JobsFile = z.output<typeof jobsSchema>;

// ---- series, tags and TensorBoard sub-folders: runNames.ts (no file system, so the browser's page uses them too) ----

export { divergedTag, layerTag, OVERLAID_SCALARS, seriesName, type HistogramKind, type LayerScalarKind } from "./runNames.js";

// ---- checking ----

/** `models[0].config.activation`; "(top)" for the value itself. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : `${text === "" ? "" : "."}${String(key)}`;
  return text === "" ? "(top)" : text;
}

/** A zod error as "field: what is wrong", its first three issues. */
export function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
  const more = error.issues.length - 3;
  return issues.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Checks `value` against `schema`; the problem says which field is wrong and how. */
export function check<S extends z.ZodType>(schema: S, value: unknown): Checked<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, problem: describeIssues(result.error) };
}

/** Parses JSON text; an InputError names `source`. */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(`${path} cannot be read: ${(error as Error).message}`);
  }
  return parseJsonText(text, path);
}

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = check(schema, value);
  if (!result.ok) throw new InputError(`${what}: ${result.problem}`);
  return result.value;
}

/** config.json's value, checked; `source` names the file in the error. */
export function parseRunConfig(value: unknown, source: string): RunConfigFile {
  return checked(runConfigSchema, value, `${source} is not a valid run configuration`);
}

export function parseSummary(value: unknown, source: string): SummaryFile {
  return checked(summarySchema, value, `${source} is not a valid run summary`);
}

export function parseJobs(value: unknown, source: string): JobsFile {
  return checked(jobsSchema, value, `${source} is not a valid list of job statuses`);
}

/** Reads and checks a config.json. */
export function readRunConfig(path: string): RunConfigFile {
  return parseRunConfig(readJsonFile(path), path);
}

/** Reads and checks a summary.json. */
export function readSummary(path: string): SummaryFile {
  return parseSummary(readJsonFile(path), path);
}

/** Reads and checks a jobs.json. */
export function readJobs(path: string): JobsFile {
  return parseJobs(readJsonFile(path), path);
}

/** One metrics.jsonl line, checked; `lineNo` is 1-based. */
export function parseMetricsLine(line: string, file: string, lineNo: number): MetricsRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new InputError(`${file}: line ${lineNo} is not valid JSON: ${line.slice(0, 80)}`);
  }
  return checked(metricsRecordSchema, value, `${file}: line ${lineNo} is not a valid metrics record`);
}

/**
 * The lines of a metrics.jsonl text. A final line without its newline is an append in progress (or
 * cut short by a crash): not yet a record, so it is left out. Blank lines are skipped.
 */
function completeLines(text: string): string[] {
  const lines = text.split("\n");
  lines.pop();
  return lines;
}

/** Every record of a metrics.jsonl text, strictly: the first bad line is an InputError naming it and its field. */
export function parseMetricsText(text: string, file: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  completeLines(text).forEach((line, i) => {
    if (line.trim() !== "") records.push(parseMetricsLine(line, file, i + 1));
  });
  return records;
}

/** Reads a metrics.jsonl strictly (see {@link parseMetricsText}). */
export function readMetrics(path: string): MetricsRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(`${path} cannot be read: ${(error as Error).message}`);
  }
  return parseMetricsText(text, path);
}

/** Collects warnings, at most MAX_WARNINGS_PER_FILE of them, then a count of the rest. */
class WarningList {
  readonly list: string[] = [];
  private dropped = 0;
  constructor(private readonly source: string) {}
  add(message: string): void {
    if (this.list.length < MAX_WARNINGS_PER_FILE) this.list.push(message);
    else this.dropped++;
  }
  done(): string[] {
    return this.dropped > 0 ? [...this.list, `${this.source}: ${this.dropped} more lines skipped`] : this.list;
  }
}

/**
 * Leniently, for the dashboard: every valid line of a metrics.jsonl text as it lies on disk, and a
 * warning for each line skipped (not JSON, or not a metrics record), naming the line and field.
 */
export function parseMetricsTextLenient(text: string, source: string): { records: MetricsRecordJson[]; warnings: string[] } {
  const records: MetricsRecordJson[] = [];
  const warnings = new WarningList(source);
  completeLines(text).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warnings.add(`${source}: line ${i + 1} is not valid JSON; skipped`);
      return;
    }
    const result = check(metricsRecordSchema, value);
    // The line as written, not the parsed copy: the API sends what the file holds.
    if (result.ok) records.push(value as MetricsRecordJson);
    else warnings.add(`${source}: line ${i + 1} is not a valid metrics record (${result.problem}); skipped`);
  });
  return { records, warnings: warnings.done() };
}

/** The formats a dashboard reads whole, by file name. */
export const JSON_FILE_SCHEMAS = {
  "config.json": { schema: runConfigSchema, what: "run configuration" },
  "summary.json": { schema: summarySchema, what: "run summary" },
  "jobs.json": { schema: jobsSchema, what: "list of job statuses" },
} as const;

export type RunJsonFileName = keyof typeof JSON_FILE_SCHEMAS;

export function isRunJsonFileName(name: string): name is RunJsonFileName {
  return Object.hasOwn(JSON_FILE_SCHEMAS, name);
}
