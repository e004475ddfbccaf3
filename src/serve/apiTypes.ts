// The shapes the dashboard's JSON API answers with, shared by the server and the page (type-only,
// so the page's compiled modules import nothing from Node). Every answer carries `warnings`: files
// or lines that were skipped, so one bad file never fails the page.

// The run folder's formats (runFormat) as they travel: type-only imports vanish from the page's
// compiled modules, which cannot load zod; the server checks every file against its schema before
// sending it, so the page receives only values of these shapes.
import type {
  HistogramKind, MetricsRecordJson, RunConfigJson, SummaryJson, SummaryStatus,
} from "../runFormat.js";

import type { SettingsTable } from "../settingsTable.js";

export type { HistogramKind, RunConfigJson, SettingsTable, SummaryJson };

export interface RunListing {
  /** The run folder relative to the log directory, with "/" separators. */
  name: string;
  /** config.json's experiment name, when it can be read. */
  experiment: string | null;
  models: string[];
  seeds: number[];
  /** The highest epoch recorded for any model. */
  epochs: number;
  /** Linear layers per model, from the recorded diagnostics (0 when none yet). */
  layers: number;
  /** "training" while a live writer holds the run's lock; otherwise summary.json's status, or "incomplete". */
  status: "training" | SummaryStatus | "incomplete";
  /** Changes whenever any file the dashboard reads changes: the page refetches when it does. */
  version: string;
  /** This run's files that were skipped or lines that were dropped. */
  warnings: string[];
}

export interface RunsResponse {
  logdir: string;
  runs: RunListing[];
  /** Folders that could not be searched, runs that could not be read at all. */
  warnings: string[];
}



/** A metrics.jsonl line as written: NaN and infinite values are null. */
export type MetricsRecord = MetricsRecordJson;

export interface MetricsResponse {
  run: string;
  records: MetricsRecord[];
  warnings: string[];
}

export interface JsonFileResponse<T = unknown> {
  run: string;
  /** The file as written, or null when it is missing, unreadable or not of its format (then a warning says why). */
  value: T | null;
  warnings: string[];
}

export interface ConfigResponse extends JsonFileResponse<RunConfigJson> {
  /** The settings shared by the run's models and those per model (settingsTable); null without a valid config.json. */
  settings: SettingsTable | null;
}
export type SummaryResponse = JsonFileResponse<SummaryJson>;

export type HistogramScale = "linear" | "log";

export interface HistogramStep {
  /** The event's step: epoch − 1. */
  step: number;
  num: number;
  min: number;
  max: number;
  /** Raw answers (no `bins`): the event file's bucket right edges and counts. */
  bucketLimit?: number[];
  bucket?: number[];
  /** Rebinned answers: counts over the response's `edges`. */
  counts?: number[];
}

export interface HistogramSeries {
  run: string;
  model: string;
  seed: number;
  /** The series name in the event file's tags (`<model>` or `<model>_seed<s>`). */
  series: string;
  tag: string;
  steps: HistogramStep[];
}

export interface HistogramsResponse {
  kind: HistogramKind;
  layer: number;
  /** For rebinned answers: the axis the edges are on (log: log10 of the absolute value). */
  scale: HistogramScale | null;
  /** Bin edges shared by every series and step (bins + 1 of them), or null for raw answers. */
  edges: number[] | null;
  series: HistogramSeries[];
  warnings: string[];
}

export interface ActivationCatalogueEntry {
  name: string;
  formula: string;
  torchModule: string;
  saturates: string;
  zeroCentered: boolean;
  deadUnits: boolean;
}

export interface CurvesResponse {
  x: number[];
  slope: number;
  curves: { name: string; formula: string; y: number[]; dydx: number[] }[];
}
