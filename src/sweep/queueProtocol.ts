// What the coordinator and the queue's workers say to each other through Redis, in one place: the
// BullMQ job's payload, the job's id, the Redis keys, and how epoch and end events become bytes.
// Small things travel in the job; tensors (resumable states, final weights) are safetensors bytes in
// Redis keys that the job's id names; an epoch's layer histograms are JSON beside its record. The coordinator alone turns them back
// into TrainEvents and writes the run folders.
import { createHash } from "node:crypto";
import { z } from "zod";
import { decodeResumeState, encodeResumeState } from "../checkpoint/modelCheckpoint.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../checkpoint/safetensors.js";
import { isActivationName } from "../activations.js";
import { InputError } from "../errors.js";
import type { MlpConfig } from "../model.js";
import { check, dataIdentitySchema, epochDiagnosticsSchema, epochRecordSchema, mlpConfigSchema, trainSettingsSchema } from "../runFormat.js";
import type { TrainJob } from "../train/settings.js";
import type { EpochRecord, ResumeState, TrainEvent } from "../train/trainer.js";

/** The BullMQ queue every sweep's trials go through (workers serve any sweep whose data they hold). */
export const QUEUE_NAME = "actlab-trials";

/** One trial-and-seed job as the coordinator enqueues it. */
export const queuedJobSchema = z.object({
  /** The sweep's id: names the notification stream and is part of the job's id. */
  sweep: z.string().min(1),
  /** SHA-256 of the coordinator's MNIST (data/identity.ts); a worker holding other data refuses the job. */
  data: z.string().regex(/^[0-9a-f]{64}$/),
  job: z.object({
    model: z.string().min(1),
    seed: z.number().int().nonnegative(),
    config: mlpConfigSchema,
    settings: trainSettingsSchema,
    trainLimit: z.number().int().positive().optional(),
  }),
});
export type QueuedJob = Omit<z.output<typeof queuedJobSchema>, "job"> & { job: TrainJob };

export function parseQueuedJob(value: unknown, id: string): QueuedJob {
  const checked = check(queuedJobSchema, value);
  if (!checked.ok) throw new InputError(`queue job ${id} is not an actlab trial: ${checked.problem}`);
  const { activation } = checked.value.job.config;
  if (!isActivationName(activation)) throw new InputError(`queue job ${id} names an unknown activation ${JSON.stringify(activation)}`);
  return checked.value as QueuedJob;
}

/**
 * The job's BullMQ id: the sweep, the series, and a digest of everything that decides the weights.
 * The same job gets the same id on every coordinator start, so a resumed sweep re-adds it as a no-op
 * instead of a duplicate (BullMQ ignores an add whose jobId exists). BullMQ ids may not hold ':'.
 */
export function queueJobId(sweep: string, job: TrainJob): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([job.model, job.seed, job.config, job.settings, job.trainLimit ?? null]))
    .digest("hex")
    .slice(0, 16);
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${safe(sweep)}.${safe(job.model)}_seed${job.seed}.${digest}`;
}

/** The Redis keys of one job (under the job's id) and of one sweep's notification stream. */
export const queueKeys = {
  /** The latest resumable state (safetensors), overwritten at each epoch end: where a moved job continues. */
  resume: (jobId: string) => `actlab:job:${jobId}:resume`,
  /** Epoch n's event (1-based), a hash; deleted by the coordinator once written to the run folder. */
  epoch: (jobId: string, epoch: number) => `actlab:job:${jobId}:epoch:${epoch}`,
  /** The end event, a hash: status, history and the final weights. */
  end: (jobId: string) => `actlab:job:${jobId}:end`,
  /** Notifications ("job X has news"), so the coordinator need not poll; trimmed, never the only copy. */
  events: (sweep: string) => `actlab:sweep:${sweep}:events`,
};

/** How long a job's keys live in Redis if no coordinator collects them (a sweep abandoned for good). */
export const KEY_TTL_SECONDS = 30 * 24 * 3600;

const f32 = (name: string, data: Float32Array): Tensor => ({ name, dtype: "F32", shape: [data.length], data });

// ---- epoch events ----

type EpochEvent = Extract<TrainEvent, { type: "epoch" }>;

/** An epoch event as a Redis hash's fields: the record, diagnostics and histograms as JSON, a resumable state as safetensors. */
export function encodeEpoch(event: EpochEvent, config: MlpConfig): Record<string, Buffer> {
  const fields: Record<string, Buffer> = {
    meta: Buffer.from(JSON.stringify({ record: event.record, diagnostics: event.diagnostics, layers: event.layers })),
  };
  if (event.resume) fields.resume = Buffer.from(encodeResumeState(config, event.resume));
  return fields;
}

const finite = z.number().finite();
const histogramSchema = z.object({
  min: finite, max: finite, num: z.number().int().nonnegative(), sum: finite, sumSquares: finite,
  bucketLimit: z.array(finite), bucket: z.array(finite),
}).refine((h) => h.bucket.length === h.bucketLimit.length, { error: "bucket and bucketLimit differ in length" });
const epochMetaSchema = z.object({
  record: epochRecordSchema,
  diagnostics: epochDiagnosticsSchema,
  layers: z.array(z.object({ layer: z.number().int().positive(), weight: histogramSchema.optional(), gradWeight: histogramSchema.optional() })),
});

export function decodeEpoch(fields: Record<string, Buffer>, source: string): EpochEvent {
  if (!fields.meta) throw new InputError(`${source}: an epoch entry without its meta field`);
  const meta = check(epochMetaSchema, JSON.parse(fields.meta.toString("utf8")));
  if (!meta.ok) throw new InputError(`${source}: ${meta.problem}`);
  const resume = fields.resume ? decodeResume(fields.resume, source) : undefined;
  const { record, diagnostics, layers } = meta.value;
  return { type: "epoch", record: record as EpochRecord, diagnostics, layers, ...(resume ? { resume } : {}) };
}

export function decodeResume(bytes: Uint8Array, source: string): ResumeState {
  return decodeResumeState<EpochRecord>(bytes, source).state;
}

// ---- end events ----

type EndEvent = Extract<TrainEvent, { type: "end" }>;

export function encodeEnd(event: EndEvent): Record<string, Buffer> {
  return {
    meta: Buffer.from(JSON.stringify({ model: event.model, seed: event.seed, status: event.status, history: event.history, trainedOn: event.trainedOn })),
    weights: Buffer.from(encodeSafetensors([f32("params", event.params)])),
  };
}

const endMetaSchema = z.object({
  model: z.string(), seed: z.number(), status: z.enum(["finished", "diverged", "interrupted"]), history: z.array(epochRecordSchema),
  trainedOn: z.object({ mean: z.number(), std: z.number().positive(), testBatchSize: z.int().positive(), data: dataIdentitySchema.optional() }),
});

export function decodeEnd(fields: Record<string, Buffer>, source: string): EndEvent {
  if (!fields.meta || !fields.weights) throw new InputError(`${source}: an end entry without its meta or weights field`);
  const meta = check(endMetaSchema, JSON.parse(fields.meta.toString("utf8")));
  if (!meta.ok) throw new InputError(`${source}: ${meta.problem}`);
  const { tensors } = decodeSafetensors(fields.weights, source);
  const params = tensors.get("params")?.data as Float32Array | undefined;
  if (!params) throw new InputError(`${source}: the final weights lack params`);
  return { type: "end", ...meta.value, history: meta.value.history as EpochRecord[], params };
}
