// Runs training jobs on a pool of worker threads (or on this thread when workers is 0). Each job is
// independent and seeded, so results do not depend on how many workers there are or which runs what.
import { availableParallelism } from "node:os";
import { MessageChannel, Worker } from "node:worker_threads";
import type { MnistData } from "../data/mnist.js";
import type { TrainJob } from "./settings.js";
import { trainJob, type ResumeState, type TrainEvent } from "./trainer.js";
import { transferables } from "./eventBuffers.js";
import type { JobMessage, WorkerData, WorkerMessage } from "./worker.js";

export interface PoolJob {
  job: TrainJob;
  resume?: ResumeState;
}

export function defaultWorkerCount(): number {
  return availableParallelism();
}

/** A flag every job checks after each step; raising it stops them all with a resumable state. */
export class StopFlag {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly view = new Int32Array(this.buffer);
  raise(): void {
    Atomics.store(this.view, 0, 1);
  }
  get raised(): boolean {
    return Atomics.load(this.view, 0) !== 0;
  }
}

/**
 * How a set of jobs gets trained: on this machine's worker threads (localRunner) or elsewhere (a
 * queue). A runner calls onEvent(jobIndex, event) on the calling thread, each job's events in the
 * order the job emitted them and each exactly once (a runner over an at-least-once transport drops
 * duplicates itself), so the caller stays the only writer of the run folders. onEvent must be done
 * with an epoch event's resumable state when it returns: the local runner hands its memory back to
 * the worker, which copies a later state into it (an end event's arrays stay the caller's). Jobs not started when
 * the flag is raised are not started; started ones stop at their next step with a resumable state.
 */
export type JobRunner = (
  jobs: PoolJob[], data: MnistData, stopFlag: StopFlag,
  onEvent: (index: number, event: TrainEvent) => void,
  options: { stepEventIntervalMs?: number },
) => Promise<void>;

/** The embedded runner: this machine's worker pool (`workers` threads; 0 trains on this thread). */
export function localRunner(workers: number = defaultWorkerCount()): JobRunner {
  return (jobs, data, stopFlag, onEvent, options) => runJobs(jobs, data, workers, stopFlag, onEvent, options);
}

/**
 * Runs every job, calling onEvent(jobIndex, event) on this thread in the order each job emits.
 * Jobs not yet started when the flag is raised are not started.
 */
export async function runJobs(
  jobs: PoolJob[], data: MnistData, workers: number, stopFlag: StopFlag,
  onEvent: (index: number, event: TrainEvent) => void,
  options: { stepEventIntervalMs?: number } = {},
): Promise<void> {
  const { stepEventIntervalMs } = options;
  if (workers <= 0) {
    for (const [index, { job, resume }] of jobs.entries()) {
      if (stopFlag.raised) break;
      trainJob(job, data, (event) => onEvent(index, event), { resume, shouldStop: () => stopFlag.raised, stepEventIntervalMs });
    }
    return;
  }
  const count = Math.min(workers, jobs.length);
  // Fewer jobs than workers: the spare threads join the models (each model's wide layers split over
  // its threads; the same bits as on one). Which job gets a spare one is fixed by its index. A team
  // never outnumbers the cores: its threads spin while they wait for each other, and more of them
  // than cores would wait on the scheduler instead.
  const cores = availableParallelism();
  const threadsFor = (id: number) => Math.min(cores, Math.floor(workers / count) + (id < workers % count ? 1 : 0));
  let next = 0;
  // Once one event's handling has failed, the run is over: events already queued from the workers
  // (a later epoch, the job's end) must not be recorded, or a job could be written up as finished,
  // and its resumable state removed, after the write that failed.
  let failed = false;
  // Each worker gets a port on which an epoch event's buffers come back once the event is handled
  // (the handler writes what it keeps: a run folder's resumable state), for the next state's copies.
  const channels = Array.from({ length: count }, () => new MessageChannel());
  const threads = channels.map(({ port2 }) => {
    const workerData: WorkerData = { data, stopFlag: stopFlag.buffer, recycle: port2 };
    // A small young generation: a training step allocates nothing, and the default (tens of MB per
    // isolate) only held an epoch end's short-lived garbage longer, at the peak of a wide model's memory.
    return new Worker(new URL("./worker.js", import.meta.url), { workerData, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  });
  try {
    await Promise.all(threads.map((worker, w) => new Promise<void>((resolve, reject) => {
      const startNext = () => {
        if (next >= jobs.length || stopFlag.raised) {
          resolve();
          return;
        }
        const id = next++;
        const message: JobMessage = { id, job: jobs[id].job, resume: jobs[id].resume, stepEventIntervalMs, threads: threadsFor(id) };
        worker.postMessage(message);
      };
      worker.on("message", (message: WorkerMessage) => {
        if (failed) return;
        if ("event" in message) {
          try {
            onEvent(message.id, message.event);
          } catch (error) {
            failed = true;
            reject(error);
            return;
          }
          // An epoch's resumable state is written by now; the final parameters (an end event's) are
          // the receiver's to keep.
          if (message.event.type === "epoch") {
            const buffers = transferables(message.event);
            if (buffers.length > 0) channels[w].port1.postMessage(buffers, buffers);
          }
        } else if ("done" in message) startNext();
        else {
          failed = true;
          reject(new Error(`training job ${message.id} failed in a worker: ${message.error}`));
        }
      });
      worker.on("error", reject);
      worker.on("exit", (code) => { if (code !== 0) reject(new Error(`a training worker exited with code ${code}`)); });
      startNext();
    })));
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
    for (const { port1 } of channels) port1.close();
  }
}
