// The one writer of a run directory: config.json, metrics.jsonl, TensorBoard event files,
// checkpoints, resumable states and summary.json. Every file is written whole (atomic rename) or
// appended a whole line at a time, and a lock keeps a second process out.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { appendLineDurableSync, writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { finishedCheckpointMetadata, saveModelCheckpoint, saveResumeState } from "../checkpoint/modelCheckpoint.js";
import { InputError } from "../errors.js";
import { mkdirFailureReason } from "../fsChecks.js";
import { DEFAULT_INIT, type InitName } from "../init.js";
import { SummaryWriter } from "../log/events.js";
import type { MlpConfig } from "../model.js";
import {
  divergedTag, layerTag, OVERLAID_SCALARS, readJobs, readMetrics, seriesName,
  type EpochRecord, type JobsFile, type JobStatus, type MetricsRecord, type RunConfigJson, type SummaryJson,
} from "../runFormat.js";
import { lockRunDirectory } from "./runLock.js";
import type { TrainEvent } from "./trainer.js";

export { seriesName, type JobStatus };

/**
 * Creates (or checks) the folder and makes sure this process may write there. Returns the first
 * folder it created (undefined when `dir` was there), so that a refusal can take it away again.
 */
export function prepareWritableDir(dir: string, what: string): string | undefined {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`${what} ${dir} cannot be created: ${mkdirFailureReason(error, dir)}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`${what} ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`${what} ${dir} is not writable`);
  }
  return created;
}

/** Removes `dir` and its parents up to `created` (the first folder made for it), each only while empty. */
function removeCreatedFolders(dir: string, created: string | undefined): void {
  if (created === undefined) return;
  for (let folder = dir; ; folder = dirname(folder)) {
    try {
      rmdirSync(folder);
    } catch {
      return; // not empty (or gone): what is left is not ours to remove
    }
    if (folder === created || dirname(folder) === folder) return;
  }
}

export interface OpenOptions {
  multipleSeeds: boolean;
  /** Continue the run already there; without it, a folder that already holds a run is refused. */
  resume?: boolean;
  /** Where notes such as "took over a stale lock" go. */
  warn?: (message: string) => void;
}

// What atomicFile's writers name their temporary files: `.<name>.<pid>.<12 hex>.tmp`.
const TEMPORARY_FILE = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

/** Removes temporary files a killed writer left behind; only safe while holding the lock. */
function removeLeftoverTemporaries(dir: string): void {
  for (const folder of [dir, join(dir, "resume")]) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) if (TEMPORARY_FILE.test(name)) rmSync(join(folder, name), { force: true });
  }
}

function readJobsIfAny(path: string): JobsFile {
  if (!existsSync(path)) return {};
  try {
    return readJobs(path);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`${error.message}; remove it to retrain every job`);
  }
}

export class RunDirectory {
  private readonly writer: SummaryWriter;
  private release?: () => void;
  private readonly configs = new Map<string, MlpConfig>();
  /** Each series' initialisation scheme, for its checkpoint's metadata. */
  private readonly inits = new Map<string, InitName>();
  private jobs: JobsFile = {};
  /** The first folder open() created for this run (undefined when the folder was there). */
  private created: string | undefined;

  private constructor(readonly dir: string, private readonly multipleSeeds: boolean) {
    this.writer = new SummaryWriter(dir);
  }

  /**
   * Opens a run directory for writing, taking its lock: refuses one that a live process holds, takes
   * over one whose holder died. A fresh run refuses a folder that already holds a run (its
   * metrics.jsonl would mix two runs); `resume` continues it.
   */
  static open(dir: string, options: OpenOptions): RunDirectory {
    const created = prepareWritableDir(dir, "log directory");
    const warn = options.warn ?? ((message: string) => process.stderr.write(`actlab: warning: ${message}\n`));
    const release = lockRunDirectory(dir, warn);
    try {
      if (!options.resume && existsSync(join(dir, "config.json"))) {
        throw new InputError(
          `log directory ${dir} already holds a run (config.json); continue it with --resume ${dir}, ` +
          "or choose another --logdir (or remove that folder)",
        );
      }
      removeLeftoverTemporaries(dir);
      // resume/ is made when a state is first saved (saveResume), so that a refused run leaves none behind.
      const run = new RunDirectory(dir, options.multipleSeeds);
      run.release = release;
      run.created = created;
      run.jobs = readJobsIfAny(join(dir, "jobs.json"));
      return run;
    } catch (error) {
      release();
      removeCreatedFolders(dir, created);
      throw error;
    }
  }

  /**
   * Closes a run refused before it wrote anything: releases the lock and removes the folders open()
   * made, so that the file system is as it was before the command.
   */
  abandon(): void {
    this.close();
    removeCreatedFolders(this.dir, this.created);
  }

  private saveResume(series: string, state: Parameters<typeof saveResumeState>[2]): void {
    mkdirSync(join(this.dir, "resume"), { recursive: true });
    saveResumeState(this.resumePath(series), this.configFor(series), state);
  }

  get path(): string {
    return this.dir;
  }

  writeConfig(config: RunConfigJson): void {
    writeFileAtomicSync(join(this.dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  }

  registerModel(series: string, config: MlpConfig, init: InitName = DEFAULT_INIT): void {
    this.configs.set(series, config);
    this.inits.set(series, init);
  }

  status(series: string): JobStatus | undefined {
    return this.jobs[series];
  }

  resumePath(series: string): string {
    return join(this.dir, "resume", `${series}.safetensors`);
  }

  checkpointPath(series: string): string {
    return join(this.dir, `${series}.safetensors`);
  }

  /** A resumable state saved for this series (at an interruption or an epoch end), if any. */
  hasResumeState(series: string): boolean {
    return existsSync(this.resumePath(series));
  }

  /** Drops a resumable state that is no longer needed (its job has finished). */
  removeResumeState(series: string): void {
    rmSync(this.resumePath(series), { force: true });
  }

  /** Records from metrics.jsonl, checked; a final partial line (a crash mid-write) is ignored. */
  readHistory(): MetricsRecord[] {
    const path = join(this.dir, "metrics.jsonl");
    return existsSync(path) ? readMetrics(path) : [];
  }

  /** Rewrites metrics.jsonl to exactly these records (used when resuming, to drop epochs that will run again). */
  rewriteHistory(records: EpochRecord[]): void {
    writeFileAtomicSync(join(this.dir, "metrics.jsonl"), records.map((r) => JSON.stringify(r) + "\n").join(""));
  }

  record(event: TrainEvent): void {
    if (event.type === "epoch") this.recordEpoch(event);
    if (event.type === "end") this.recordEnd(event);
  }

  private recordEpoch(event: Extract<TrainEvent, { type: "epoch" }>): void {
    const { record, layers, diagnostics, resume } = event;
    const series = seriesName(record.model, record.seed, this.multipleSeeds);
    appendLineDurableSync(join(this.dir, "metrics.jsonl"), JSON.stringify({ ...record, diagnostics }));
    const step = record.epoch;
    this.writer.addScalars(OVERLAID_SCALARS.accuracy, { [series]: record.test_acc }, step);
    this.writer.addScalars(OVERLAID_SCALARS.loss, { [series]: record.train_loss }, step);
    if (record.diverged) this.writer.addScalar(divergedTag(series), record.diverged.step, record.diverged.epoch);
    for (const layer of diagnostics.layers) {
      this.writer.addScalar(layerTag("grad_norm", series, layer.layer), layer.grad_norm, step);
      this.writer.addScalar(layerTag("grad_to_weight", series, layer.layer), layer.grad_to_weight, step);
      this.writer.addScalar(layerTag("update_to_weight", series, layer.layer), layer.update_to_weight, step);
      this.writer.addScalar(layerTag("nonfinite", series, layer.layer), layer.nan_count + layer.inf_count, step);
    }
    for (const hidden of diagnostics.hidden) {
      if (hidden.dead_fraction !== null) this.writer.addScalar(layerTag("dead_fraction", series, hidden.layer), hidden.dead_fraction, step);
      if (hidden.saturated_fraction !== null) this.writer.addScalar(layerTag("saturated_fraction", series, hidden.layer), hidden.saturated_fraction, step);
    }
    // The notebook logs the first and last layers' histograms at step = epoch (0-based); every layer is kept.
    for (const layer of layers) {
      if (layer.weight) this.writer.addHistogramData(layerTag("weight", series, layer.layer), layer.weight, record.epoch - 1);
      if (layer.gradWeight) this.writer.addHistogramData(layerTag("grad_weight", series, layer.layer), layer.gradWeight, record.epoch - 1);
    }
    this.writer.flush();
    // Written after the epoch's log lines, so that a crash leaves the logs at or past this state;
    // a resume drops what lies past it.
    if (resume) this.saveResume(series, resume);
  }

  private configFor(series: string): MlpConfig {
    const config = this.configs.get(series);
    if (!config) throw new Error(`no model registered as ${series}`);
    return config;
  }

  private recordEnd(event: Extract<TrainEvent, { type: "end" }>): void {
    const series = seriesName(event.model, event.seed, this.multipleSeeds);
    const config = this.configFor(series);
    if (event.status === "interrupted" && event.resume) {
      this.saveResume(series, event.resume);
    } else {
      const last = event.history[event.history.length - 1];
      saveModelCheckpoint(this.checkpointPath(series), config, event.params, finishedCheckpointMetadata({
        model: event.model, seed: event.seed, status: event.status, init: this.inits.get(series), last, trainedOn: event.trainedOn,
      }));
    }
    this.jobs[series] = event.status;
    writeFileAtomicSync(join(this.dir, "jobs.json"), JSON.stringify(this.jobs, null, 2) + "\n");
    // Only once jobs.json says the job is done: a crash before this line resumes it from the state.
    if (event.status !== "interrupted") this.removeResumeState(series);
  }

  writeSummary(summary: SummaryJson): void {
    writeFileAtomicSync(join(this.dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  }

  close(): void {
    try {
      this.writer.close();
    } finally {
      this.release?.();
      this.release = undefined;
    }
  }
}
