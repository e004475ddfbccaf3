// A training worker: one kernel instance per model, whole models at a time. The MNIST bytes arrive
// as SharedArrayBuffers (never copied); events go back to the main thread, which alone writes files.
import { parentPort, workerData } from "node:worker_threads";
import type { MnistData } from "../data/mnist.js";
import { nodeThreadTeams } from "../engine/threadTeamNode.js";
import { trainJob, type ResumeState, type TrainEvent } from "./trainer.js";
import type { TrainJob } from "./settings.js";

export interface WorkerData {
  data: MnistData;
  /** Int32Array over a SharedArrayBuffer: non-zero asks every job to stop after its current step. */
  stopFlag: SharedArrayBuffer;
}

export interface JobMessage {
  id: number;
  job: TrainJob;
  resume?: ResumeState;
  stepEventIntervalMs?: number;
  /** Threads for this job's model, its own included (spare workers when there are fewer jobs than workers). */
  threads?: number;
}

export type WorkerMessage =
  | { id: number; event: TrainEvent }
  | { id: number; done: true }
  | { id: number; error: string };

function transferables(event: TrainEvent): ArrayBuffer[] {
  const buffers: ArrayBufferLike[] = [];
  // The copies a resumable state and the final parameters hold are made for the event: moved, not copied again.
  const resume = event.type === "epoch" || event.type === "end" ? event.resume : undefined;
  if (resume) buffers.push(resume.params.buffer, ...resume.optimizer.buffers.map((b) => b.buffer));
  if (event.type === "end") buffers.push(event.params.buffer);
  return [...new Set(buffers)] as ArrayBuffer[];
}

if (parentPort) {
  const port = parentPort;
  const { data, stopFlag } = workerData as WorkerData;
  const stop = new Int32Array(stopFlag);
  port.on("message", (message: JobMessage) => {
    try {
      trainJob(message.job, data, (event) => port.postMessage({ id: message.id, event }, transferables(event)), {
        resume: message.resume,
        stepEventIntervalMs: message.stepEventIntervalMs,
        shouldStop: () => Atomics.load(stop, 0) !== 0,
        teams: (message.threads ?? 1) > 1 ? nodeThreadTeams(message.threads!) : undefined,
      });
      port.postMessage({ id: message.id, done: true });
    } catch (error) {
      port.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) });
    }
  });
}
