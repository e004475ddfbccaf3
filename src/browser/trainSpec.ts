// What the Train page and its workers agree on, with no node: import and no dependency: the knobs
// the page offers (built in Node from the CLI's flag table, so a flag added there appears in the
// page), how the query string reads into a plan, and the messages to and from a training worker.
import type { HistogramData } from "../log/histogram.js";
import type { DataIdentity } from "../data/identity.js";
import type { MlpConfig } from "../model.js";
import type { EpochDiagnostics, EpochRecord } from "../runFormat.js";
import type { TrainSettings } from "../train/settings.js";

/** How a knob's text reads: the flag table's parser kinds the page can apply. */
export type KnobKind = "names" | "choice" | "integer" | "number" | "widths";

/** One knob of the Train page: a CLI flag, named as the CLI names it (without "--"). */
export interface Knob {
  /** The query parameter and the flag's name: "train-limit". */
  name: string;
  help: string;
  kind: KnobKind;
  /** The default as the CLI shows it (text); "" where the flag has none. */
  default: string;
  /** The values a names/choice knob accepts (from the catalogues). */
  choices?: string[];
  min?: number;
  max?: number;
}

/** One training job of the page: a model, its config and settings, one seed. */
export interface PageJob {
  model: string;
  seed: number;
  config: MlpConfig;
  settings: TrainSettings;
  trainLimit: number;
}

export interface TrainPlan {
  jobs: PageJob[];
  seeds: number[];
  settings: TrainSettings;
  trainLimit: number;
  autostart: boolean;
}

/** The page to a worker. */
export type ToWorker =
  | {
    type: "start"; job: PageJob; paused: boolean; trainImages: Uint8Array; trainLabels: Uint8Array; testImages: Uint8Array; testLabels: Uint8Array; rows: number; cols: number;
    /** The four files' identity, as the CLI records it in config.json and each checkpoint. */
    identity: DataIdentity;
  }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "step" };

/** A worker to the page. */
export type FromWorker =
  | { type: "ready"; parameterCount: number; stepsPerEpoch: number }
  | { type: "steps"; losses: { step: number; epoch: number; loss: number }[]; samplesPerSecond: number }
  | { type: "epoch"; record: EpochRecord; diagnostics: EpochDiagnostics; gradients: { layer: number; histogram: HistogramData }[] }
  | { type: "paused"; step: number; epoch: number }
  | { type: "end"; status: "finished" | "diverged"; checkpoint: Uint8Array; history: EpochRecord[] }
  | { type: "error"; message: string };
