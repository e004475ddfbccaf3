// The shapes the dashboard's JSON API answers with, shared by the server and the page (type-only,
// so the page's compiled modules import nothing from Node). Every answer carries `warnings`: files
// or lines that were skipped, so one bad file never fails the page.

// The trainer's own diagnostics types: type-only imports vanish from the page's compiled modules.
import type { HiddenDiagnostics, LayerDiagnostics } from "../train/diagnostics.js";

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
  /** "training" while a writer holds the run's lock; otherwise summary.json's status, or "incomplete". */
  status: "training" | "finished" | "interrupted" | "incomplete";
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



export type LayerDiagnosticsRow = LayerDiagnostics;
export type HiddenDiagnosticsRow = HiddenDiagnostics;

export interface MetricsRecord {
  model: string;
  seed: number;
  epoch: number;
  train_loss: number;
  test_acc: number;
  test_loss?: number;
  seconds?: number;
  samples_per_s?: number;
  diverged?: { epoch: number; step: number };
  diagnostics?: { layers: LayerDiagnosticsRow[]; hidden: HiddenDiagnosticsRow[] };
}

export interface MetricsResponse {
  run: string;
  records: MetricsRecord[];
  warnings: string[];
}

export interface JsonFileResponse {
  run: string;
  /** The parsed file, or null when it is missing or unreadable (then a warning says why). */
  value: unknown;
  warnings: string[];
}

export type HistogramKind = "weight" | "grad_weight";
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
