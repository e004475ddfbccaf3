// The one writer of a run directory: config.json, metrics.jsonl, TensorBoard event files,
// checkpoints, resumable states and summary.json. Every file is written whole (atomic rename) or
// appended a whole line at a time, and a lock keeps a second process out.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { appendLineDurableSync, readJsonLines, writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { saveModelCheckpoint, saveResumeState } from "../checkpoint/modelCheckpoint.js";
import { InputError } from "../errors.js";
import { SummaryWriter } from "../log/events.js";
import type { MlpConfig } from "../model.js";
import type { SummaryRow } from "./summary.js";
import type { EpochRecord, TrainEvent } from "./trainer.js";

export type JobStatus = "finished" | "diverged" | "interrupted";

/** The series name of a model and seed in logs and file names: the model alone when there is one seed. */
export function seriesName(model: string, seed: number, multipleSeeds: boolean): string {
  return multipleSeeds ? `${model}_seed${seed}` : model;
}

/** Creates (or checks) the folder and makes sure this process may write there. */
export function prepareWritableDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`${what} ${dir} cannot be created: ${(error as Error).message}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`${what} ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`${what} ${dir} is not writable`);
  }
}

export class RunDirectory {
  private readonly writer: SummaryWriter;
  private release?: () => void;
  private readonly configs = new Map<string, MlpConfig>();
  private jobs: Record<string, JobStatus> = {};

  private constructor(readonly dir: string, private readonly multipleSeeds: boolean) {
    this.writer = new SummaryWriter(dir);
  }

  /** Opens a run directory for writing, taking its lock; refuses one that another process holds. */
  static open(dir: string, multipleSeeds: boolean): RunDirectory {
    prepareWritableDir(dir, "log directory");
    const run = new RunDirectory(dir, multipleSeeds);
    try {
      // A lock not refreshed for 10 s belongs to a process that died: it is taken over.
      run.release = lockfile.lockSync(dir, { lockfilePath: join(dir, ".lock"), stale: 10_000, update: 2_000 } as never);
    } catch (error) {
      if ((error as { code?: string }).code === "ELOCKED") {
        throw new InputError(`run directory ${dir} is in use by another actlab process (lock ${join(dir, ".lock")}); wait for it to finish or choose another --logdir`);
      }
      throw error;
    }
    const jobsPath = join(dir, "jobs.json");
    if (existsSync(jobsPath)) run.jobs = JSON.parse(readFileSync(jobsPath, "utf8"));
    return run;
  }

  get path(): string {
    return this.dir;
  }

  writeConfig(config: unknown): void {
    writeFileAtomicSync(join(this.dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  }

  registerModel(series: string, config: MlpConfig): void {
    this.configs.set(series, config);
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

  /** Records from metrics.jsonl; a final partial line (a crash mid-write) is ignored. */
  readHistory(): EpochRecord[] {
    const path = join(this.dir, "metrics.jsonl");
    return existsSync(path) ? (readJsonLines(path) as EpochRecord[]) : [];
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
    const { record, layers, diagnostics } = event;
    const series = seriesName(record.model, record.seed, this.multipleSeeds);
    appendLineDurableSync(join(this.dir, "metrics.jsonl"), JSON.stringify({ ...record, diagnostics }));
    const step = record.epoch;
    this.writer.addScalars("accuracy", { [series]: record.test_acc }, step);
    this.writer.addScalars("loss", { [series]: record.train_loss }, step);
    if (record.diverged) this.writer.addScalar(`diverged/${series}`, record.diverged.step, record.diverged.epoch);
    for (const layer of diagnostics.layers) {
      this.writer.addScalar(`grad_norm/${series}/${layer.layer}`, layer.grad_norm, step);
      this.writer.addScalar(`grad_to_weight/${series}/${layer.layer}`, layer.grad_to_weight, step);
      this.writer.addScalar(`update_to_weight/${series}/${layer.layer}`, layer.update_to_weight, step);
      this.writer.addScalar(`nonfinite/${series}/${layer.layer}`, layer.nan_count + layer.inf_count, step);
    }
    for (const hidden of diagnostics.hidden) {
      if (hidden.dead_fraction !== null) this.writer.addScalar(`dead_fraction/${series}/${hidden.layer}`, hidden.dead_fraction, step);
      if (hidden.saturated_fraction !== null) this.writer.addScalar(`saturated_fraction/${series}/${hidden.layer}`, hidden.saturated_fraction, step);
    }
    // The notebook logs the first and last layers' histograms at step = epoch (0-based); every layer is kept.
    for (const layer of layers) {
      this.addHistogramIfFinite(`weight/${series}/${layer.layer}`, layer.weight, record.epoch - 1);
      this.addHistogramIfFinite(`grad_weight/${series}/${layer.layer}`, layer.gradWeight, record.epoch - 1);
    }
    this.writer.flush();
  }

  private addHistogramIfFinite(tag: string, values: Float32Array, step: number): void {
    if (values.some(Number.isFinite)) this.writer.addHistogram(tag, values, step);
  }

  private recordEnd(event: Extract<TrainEvent, { type: "end" }>): void {
    const series = seriesName(event.model, event.seed, this.multipleSeeds);
    const config = this.configs.get(series);
    if (!config) throw new Error(`no model registered as ${series}`);
    if (event.status === "interrupted" && event.resume) {
      mkdirSync(join(this.dir, "resume"), { recursive: true });
      saveResumeState(this.resumePath(series), config, event.resume);
    } else {
      const last = event.history[event.history.length - 1];
      saveModelCheckpoint(this.checkpointPath(series), config, event.params, {
        model: event.model,
        seed: String(event.seed),
        epochs: String(last?.epoch ?? 0),
        test_acc: String(last?.test_acc ?? NaN),
        status: event.status,
      });
      rmSync(this.resumePath(series), { force: true });
    }
    this.jobs[series] = event.status;
    writeFileAtomicSync(join(this.dir, "jobs.json"), JSON.stringify(this.jobs, null, 2) + "\n");
  }

  writeSummary(summary: { experiment: string; rows: SummaryRow[]; status: string; [key: string]: unknown }): void {
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
