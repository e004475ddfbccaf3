// The worker's side of a queued sweep: a BullMQ Worker that trains each job it takes on one of its
// own worker threads (the pool's train/worker.js, so a job trains exactly as it would locally) and
// leaves each epoch, and at the end the final weights, in Redis for the coordinator.
//
// Training runs off the main thread, so BullMQ can keep renewing the job's lock while it trains. A
// worker that dies stops renewing; BullMQ's stalled-job check hands the job to another worker, which
// continues from the last epoch's resumable state in Redis: the same weights, bit for bit, as a run
// that was never moved.
import { hostname } from "node:os";
import { Worker as Thread } from "node:worker_threads";
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { encodeResumeState } from "../checkpoint/modelCheckpoint.js";
import type { MnistData } from "../data/mnist.js";
import { StopFlag } from "../train/pool.js";
import type { TrainEvent } from "../train/trainer.js";
import type { JobMessage, WorkerData, WorkerMessage } from "../train/worker.js";
import { connect, parseQueueUrl } from "./queueConnection.js";
import { decodeResume, encodeEnd, encodeEpoch, KEY_TTL_SECONDS, parseQueuedJob, QUEUE_NAME, queueKeys } from "./queueProtocol.js";

export interface QueueWorkerOptions {
  data: MnistData;
  /** Jobs trained at once, each on its own thread. */
  concurrency: number;
  /** BullMQ's lock on a job (ms): a worker silent this long is presumed dead. Default 30 s. */
  lockDuration?: number;
  /** How often BullMQ looks for such jobs (ms). Default 30 s. */
  stalledInterval?: number;
  /** Times a job may be recovered from dead workers before it is failed. */
  maxStalledCount?: number;
  /** One line per job taken, finished or refused, and Redis outages; stderr by default. */
  log?: (message: string) => void;
}

export interface RunningQueueWorker {
  /** Stops taking jobs; jobs in training stop at their next step and go back to the queue with their state. */
  close(): Promise<void>;
}

/** A thread that trains one job at a time. */
class TrainingThread {
  readonly stop = new StopFlag();
  readonly thread: Thread;
  constructor(data: MnistData) {
    const workerData: WorkerData = { data, stopFlag: this.stop.buffer };
    this.thread = new Thread(new URL("../train/worker.js", import.meta.url), { workerData });
  }
  /** Trains `message`'s job, passing its events on in order; resolves when it is done. */
  train(message: JobMessage, onEvent: (event: TrainEvent) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`a training thread exited with code ${code}`));
      const listener = (reply: WorkerMessage) => {
        if ("event" in reply) {
          onEvent(reply.event);
          return;
        }
        this.thread.off("message", listener);
        this.thread.off("exit", onExit);
        if ("done" in reply) resolve();
        else reject(new Error(reply.error));
      };
      this.thread.once("exit", onExit);
      this.thread.on("message", listener);
      this.thread.postMessage(message);
    });
  }
}

export async function startQueueWorker(url: string, options: QueueWorkerOptions): Promise<RunningQueueWorker> {
  const address = parseQueueUrl(url);
  const log = options.log ?? ((message: string) => process.stderr.write(`actlab worker: ${message}\n`));
  const redis = connect(address, log, "");
  const identity = options.data.identity.sha256;
  const free = Array.from({ length: options.concurrency }, () => new TrainingThread(options.data));
  const all = [...free];
  let closing = false;
  const name = `${hostname()}:${process.pid}`;

  const processor = async (job: Job, token?: string): Promise<{ epochs: number }> => {
    const queued = parseQueuedJob(job.data, job.id ?? "?");
    if (queued.data !== identity) {
      throw new UnrecoverableError(
        `worker ${name} refused it: its MNIST (${options.data.source}) has sha256 ${identity.slice(0, 16)}…, ` +
        `the sweep's has ${queued.data.slice(0, 16)}…; give the worker the sweep's data with --data`,
      );
    }
    const id = job.id!;
    const { config } = queued.job;
    const saved = await redis.getBuffer(queueKeys.resume(id));
    // Any state under this id is one of this very job's (the id digests everything that decides the weights).
    const resume = saved ? decodeResume(saved, `Redis key ${queueKeys.resume(id)}`) : undefined;
    const thread = free.pop();
    if (!thread) throw new Error("no free training thread (concurrency and threads disagree)");
    log(`took ${id}${resume ? ` from epoch ${resume.epoch}${resume.step ? ` step ${resume.step}` : ""}` : ""}`);
    const stream = queueKeys.events(queued.sweep);
    // Redis writes, one after another in the order the thread emits.
    let chain = Promise.resolve();
    let interrupted = false;
    const write = (event: TrainEvent) => {
      chain = chain.then(async () => {
        const multi = redis.multi();
        if (event.type === "epoch") {
          multi.hset(queueKeys.epoch(id, event.record.epoch), encodeEpoch(event, config)).expire(queueKeys.epoch(id, event.record.epoch), KEY_TTL_SECONDS);
          if (event.resume) multi.set(queueKeys.resume(id), Buffer.from(encodeResumeState(config, event.resume)), "EX", KEY_TTL_SECONDS);
        } else if (event.type === "end" && event.status === "interrupted") {
          interrupted = true;
          if (event.resume) multi.set(queueKeys.resume(id), Buffer.from(encodeResumeState(config, event.resume)), "EX", KEY_TTL_SECONDS);
        } else if (event.type === "end") {
          multi.hset(queueKeys.end(id), encodeEnd(event)).expire(queueKeys.end(id), KEY_TTL_SECONDS);
        } else return;
        multi.xadd(stream, "MAXLEN", "~", "10000", "*", "job", id);
        await multi.exec();
      });
    };
    try {
      await thread.train({ id: 0, job: queued.job, resume }, write);
      await chain;
    } finally {
      free.push(thread);
    }
    if (interrupted) {
      // Stopped because this worker is leaving: back to the queue, state saved, no try used up.
      log(`put ${id} back (this worker is stopping)`);
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    log(`finished ${id}`);
    return { epochs: queued.job.settings.epochs };
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: address.options as ConnectionOptions,
    concurrency: options.concurrency,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 5,
  });
  worker.on("error", () => undefined); // the connection watcher says it once
  worker.on("failed", (job, error) => {
    if (!job || error instanceof DelayedError) return;
    log(`job ${job.id} failed: ${error.message}`);
    // For good (no tries left): tell the coordinator now rather than at its next look at every job.
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    const sweep = (job.data as { sweep?: unknown }).sweep;
    if (final && typeof sweep === "string") void redis.xadd(queueKeys.events(sweep), "MAXLEN", "~", "10000", "*", "job", job.id!, "failed", "1").catch(() => undefined);
  });
  await worker.waitUntilReady().catch(() => undefined);
  log(`waiting for jobs on ${address.display} (${options.concurrency} at a time, data sha256 ${identity.slice(0, 16)}…)`);
  return {
    close: async () => {
      if (closing) return;
      closing = true;
      for (const thread of all) thread.stop.raise();
      await worker.close();
      await Promise.all(all.map((t) => t.thread.terminate()));
      await redis.quit().catch(() => undefined);
    },
  };
}
