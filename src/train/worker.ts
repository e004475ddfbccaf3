// A training worker: one kernel instance per model, whole models at a time. The MNIST bytes arrive
// as SharedArrayBuffers (never copied); events go back to the main thread, which alone writes files.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import type { MnistData } from "../data/mnist.js";
import { nodeThreadTeams } from "../engine/threadTeamNode.js";
import { transferables } from "./eventBuffers.js";
import { trainJob, type ResumeState, type TrainEvent } from "./trainer.js";
import type { TrainJob } from "./settings.js";

export interface WorkerData {
  data: MnistData;
  /** Int32Array over a SharedArrayBuffer: non-zero asks every job to stop after its current step. */
  stopFlag: SharedArrayBuffer;
  /**
   * Where the main thread hands back an event's buffers once it has written them (read with
   * receiveMessageOnPort: a job trains without returning to this thread's event loop). Absent where
   * the receiver keeps events past its handler (the queue worker's writes to Redis are chained).
   */
  recycle?: MessagePort;
}

/**
 * The buffers handed back for the running job. A job asks for one size only (its parameters and
 * each optimiser state block are parameterCount floats): others are dropped as they come, and all
 * of them when a job starts, so that no other job's memory is held.
 */
class SpareBuffers {
  private buffers: ArrayBuffer[] = [];
  constructor(private readonly port: MessagePort | undefined) {}

  reset(): void {
    this.drain();
    this.buffers = [];
  }

  take(bytes: number): ArrayBuffer | undefined {
    this.drain();
    this.buffers = this.buffers.filter((buffer) => buffer.byteLength === bytes);
    return this.buffers.pop();
  }

  private drain(): void {
    if (!this.port) return;
    for (let message = receiveMessageOnPort(this.port); message; message = receiveMessageOnPort(this.port)) {
      this.buffers.push(...(message.message as ArrayBuffer[]));
    }
  }
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


if (parentPort) {
  const port = parentPort;
  const { data, stopFlag, recycle } = workerData as WorkerData;
  const stop = new Int32Array(stopFlag);
  const spares = new SpareBuffers(recycle);
  port.on("message", (message: JobMessage) => {
    spares.reset();
    try {
      trainJob(message.job, data, (event) => port.postMessage({ id: message.id, event }, transferables(event)), {
        spareBuffer: (bytes) => spares.take(bytes),
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
