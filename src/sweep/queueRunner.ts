// The coordinator's side of a queued sweep: a JobRunner that enqueues one BullMQ job per trial and
// seed and turns what the workers leave in Redis back into TrainEvents, in order, each once.
//
// BullMQ delivers at least once: a job may run twice (a stalled worker that wakes up, a worker
// killed after an epoch). Workers therefore write each epoch under a key named by its number, and
// the coordinator hands epoch n+1 on only after epoch n, and never twice; the end event once. What
// it has handed on (and so written to the run folder) it deletes from Redis. A coordinator that dies
// loses nothing: the keys wait, and the next one (sweep --resume) re-adds the same job ids (a no-op)
// and collects them.
import { Queue, type ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { MnistData } from "../data/mnist.js";
import { parameterCount } from "../model.js";
import type { JobRunner, PoolJob, StopFlag } from "../train/pool.js";
import type { TrainEvent } from "../train/trainer.js";
import { encodeResumeState } from "../checkpoint/modelCheckpoint.js";
import { connect, parseQueueUrl } from "./queueConnection.js";
import { decodeEnd, decodeEpoch, KEY_TTL_SECONDS, QUEUE_NAME, queueJobId, queueKeys, type QueuedJob } from "./queueProtocol.js";

export interface QueueRunnerOptions {
  /** The sweep's id, stable across coordinator restarts (part of every job id). */
  sweepId: string;
  /** Tries per job for errors in training (a killed worker does not use one up). */
  attempts?: number;
  /** How often to look at every unfinished job, in case a notification was missed (ms). */
  pollMs?: number;
  /** Messages for the user (Redis down and back, failed jobs); stderr by default. */
  onNote?: (message: string) => void;
}

interface Tracked {
  id: string;
  /** The indices in `jobs` this job's events go to (identical jobs share one queue job). */
  indices: number[];
  /** Epochs already handed on (the run folder's, for a resumed job). */
  delivered: number;
  started: boolean;
  done: boolean;
  failed?: string;
}

export class QueueJobsFailed extends Error {}

export function queueRunner(url: string, options: QueueRunnerOptions): JobRunner {
  const address = parseQueueUrl(url);
  const note = options.onNote ?? ((message: string) => process.stderr.write(`actlab: ${message}\n`));
  return async (jobs, data, stopFlag, onEvent) => {
    const redis = connect(address, note, "sweep's coordinator");
    const reader = connect(address, () => undefined, "coordinator");
    const queue = new Queue(QUEUE_NAME, { connection: address.options as ConnectionOptions });
    queue.on("error", () => undefined); // the connections above already say it, once
    try {
      const tracked = await enqueue(queue, redis, options, jobs, data);
      await collect(redis, reader, queue, options, tracked, jobs, data.train.count, stopFlag, onEvent, note);
      const failed = [...tracked.values()].filter((t) => t.failed);
      if (failed.length > 0 && !stopFlag.raised) {
        throw new QueueJobsFailed(`${failed.length} queued job(s) failed:\n${failed.map((t) => `${t.id}: ${t.failed}`).join("\n")}`);
      }
    } finally {
      await queue.close();
      reader.disconnect();
      await redis.quit().catch(() => undefined);
    }
  };
}

async function enqueue(queue: Queue, redis: Redis, options: QueueRunnerOptions, jobs: PoolJob[], data: MnistData): Promise<Map<string, Tracked>> {
  const tracked = new Map<string, Tracked>();
  for (const [index, { job, resume }] of jobs.entries()) {
    const id = queueJobId(options.sweepId, job);
    const known = tracked.get(id);
    if (known) {
      known.indices.push(index);
      continue;
    }
    tracked.set(id, { id, indices: [index], delivered: resume?.epoch ?? 0, started: false, done: false });
    // A state from the run folder seeds the job, unless Redis already holds one (the job ran on
    // while no coordinator watched; any state of the same job id is a state of the same training).
    if (resume) await redis.set(queueKeys.resume(id), Buffer.from(encodeResumeState(job.config, resume)), "EX", KEY_TTL_SECONDS, "NX");
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      // A job finished or failed in an earlier life whose results are gone (collected, or expired)
      // would never report again: this coordinator asks for it afresh.
      const waiting = (await redis.exists(queueKeys.end(id))) > 0;
      if ((state === "completed" && !waiting) || state === "failed") await existing.remove();
      else continue;
    }
    const payload: QueuedJob = { sweep: options.sweepId, data: data.identity.sha256, job: { ...job } };
    await queue.add(job.model, payload, {
      jobId: id,
      attempts: options.attempts ?? 3,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
  return tracked;
}

async function readHash(redis: Redis, key: string): Promise<Record<string, Buffer> | undefined> {
  const fields = await redis.hgetallBuffer(key);
  return Object.keys(fields).length > 0 ? fields : undefined;
}

async function collect(
  redis: Redis, reader: Redis, queue: Queue, options: QueueRunnerOptions, tracked: Map<string, Tracked>, jobs: PoolJob[],
  trainCount: number, stopFlag: StopFlag, onEvent: (index: number, event: TrainEvent) => void, note: (message: string) => void,
): Promise<void> {
  const pending = () => [...tracked.values()].filter((t) => !t.done);
  const emit = (t: Tracked, event: TrainEvent) => {
    if (!t.started) {
      t.started = true;
      const { job } = jobs[t.indices[0]];
      const stepsPerEpoch = Math.ceil(Math.min(job.trainLimit ?? trainCount, trainCount) / job.settings.batchSize);
      for (const index of t.indices) {
        onEvent(index, { type: "start", model: job.model, seed: job.seed, parameterCount: parameterCount(job.config), stepsPerEpoch, epochs: job.settings.epochs, startEpoch: t.delivered });
      }
    }
    for (const index of t.indices) onEvent(index, event);
  };
  // Hands on every epoch of `t` that follows the last one handed on, then its end.
  const pump = async (t: Tracked) => {
    while (!t.done) {
      const key = queueKeys.epoch(t.id, t.delivered + 1);
      const fields = await readHash(redis, key);
      if (!fields) break;
      emit(t, decodeEpoch(fields, `Redis key ${key}`));
      t.delivered++;
      await redis.del(key);
    }
    if (t.done) return;
    const endKey = queueKeys.end(t.id);
    const end = await readHash(redis, endKey);
    if (!end) return;
    const event = decodeEnd(end, `Redis key ${endKey}`);
    // An end that overtook its last epoch's key (never in order, but a replay could): wait for the epoch.
    if (event.history.length > t.delivered && event.status !== "interrupted") return;
    emit(t, event);
    t.done = true;
    await redis.del(endKey, queueKeys.resume(t.id));
  };
  const checkFailed = async (candidates: Tracked[]) => {
    for (const t of candidates) {
      const job = await queue.getJob(t.id);
      if (!job) continue;
      if ((await job.getState()) === "failed") {
        t.failed = job.failedReason || "failed";
        t.done = true;
        note(`queued job ${t.id} failed: ${t.failed}`);
      }
    }
  };
  const stream = queueKeys.events(options.sweepId);
  const last = await redis.xrevrange(stream, "+", "-", "COUNT", 1);
  let lastId = last.length > 0 ? last[0][0] : "0-0";
  const pollMs = options.pollMs ?? 2000;
  let polled = 0;
  let polls = 0;
  for (const t of pending()) await pump(t);
  while (pending().length > 0 && !stopFlag.raised) {
    const reply = await reader.xread("COUNT", 1000, "BLOCK", Math.min(pollMs, 500), "STREAMS", stream, lastId);
    const touched = new Set<string>();
    const failed = new Set<string>();
    for (const [, entries] of reply ?? []) {
      for (const [entryId, fields] of entries) {
        lastId = entryId;
        const job = fields[fields.indexOf("job") + 1];
        if (job) touched.add(job);
        if (job && fields.includes("failed")) failed.add(job);
      }
    }
    for (const id of touched) {
      const t = tracked.get(id);
      if (t) await pump(t);
    }
    if (failed.size > 0) await checkFailed(pending().filter((t) => failed.has(t.id)));
    // The notifications are a shortcut, not the record: now and then every unfinished job is looked
    // at (its keys every pollMs, its state in BullMQ every ten, as that costs a few round trips a job).
    if (Date.now() - polled >= pollMs) {
      polled = Date.now();
      for (const t of pending()) await pump(t);
      if (++polls % 10 === 1) await checkFailed(pending());
    }
  }
}
