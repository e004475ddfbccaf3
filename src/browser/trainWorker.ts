/// <reference lib="dom" />
// A Train page worker: one model, trained by the CLI's own trainer (trainJob) on the CLI's kernels,
// so the weights are the CLI's bit for bit. trainJob runs its steps without yielding, so the job is
// run in slices of about SLICE_MS: each slice stops with trainJob's resumable state (the same one
// --resume uses, which continues bit-identically) and the next slice starts from it after the
// worker has read its messages. That is how pause, single step and reset reach a running job.
import { finishedCheckpointMetadata, modelCheckpointBytes } from "../checkpoint/checkpointBytes.js";
import type { MnistData } from "../data/mnist.js";
import { loadKernelsFrom } from "../engine/kernels.js";
import { trainJob, type ResumeState, type TrainEvent } from "../train/trainer.js";
import type { FromWorker, PageJob, ToWorker } from "./trainSpec.js";

const SLICE_MS = 120;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

let job: PageJob | undefined;
let data: Pick<MnistData, "train" | "test" | "identity"> | undefined;
let resume: ResumeState | undefined;
let paused = false;
let scheduled = false;
let done = false;
let losses: { step: number; epoch: number; loss: number }[] = [];
let lastPost = 0;
let samplesPerSecond = 0;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function flushLosses(): void {
  if (losses.length === 0) return;
  post({ type: "steps", losses, samplesPerSecond });
  losses = [];
  lastPost = performance.now();
}

function onEvent(event: TrainEvent): void {
  if (event.type === "start" && !resume) post({ type: "ready", parameterCount: event.parameterCount, stepsPerEpoch: event.stepsPerEpoch });
  if (event.type === "step") {
    const globalStep = (event.epoch - 1) * event.stepsPerEpoch + event.step;
    losses.push({ step: globalStep, epoch: event.epoch, loss: event.loss });
    samplesPerSecond = event.samplesPerSecond;
    if (performance.now() - lastPost > 100) flushLosses();
  } else if (event.type === "epoch") {
    flushLosses();
    const gradients = event.layers.map((l) => ({ layer: l.layer, values: l.gradWeight }));
    // The layers' tensors may be views of one buffer (the trainer's single copy of the gradients): each is transferred once.
    post({ type: "epoch", record: event.record, diagnostics: event.diagnostics, gradients }, [...new Set(gradients.map((g) => g.values.buffer as ArrayBuffer))]);
  } else if (event.type === "end") {
    flushLosses();
    if (event.status === "interrupted") {
      resume = event.resume;
      return;
    }
    done = true;
    const last = event.history[event.history.length - 1];
    const checkpoint = modelCheckpointBytes(job!.config, event.params, finishedCheckpointMetadata({
      model: job!.model, seed: job!.seed, status: event.status, init: job!.settings.init, last, trainedOn: event.trainedOn,
    }));
    post({ type: "end", status: event.status, checkpoint, history: event.history }, [checkpoint.buffer as ArrayBuffer]);
  }
}

/** Runs one slice (or one step); schedules the next unless paused or done. */
function slice(singleStep = false): void {
  scheduled = false;
  if (!job || !data || done) return;
  if (paused && !singleStep) {
    post({ type: "paused", step: resume?.step ?? 0, epoch: resume?.epoch ?? 0 });
    return;
  }
  const deadline = performance.now() + SLICE_MS;
  let steps = 0;
  trainJob(job, data as MnistData, onEvent, {
    resume,
    stepEventIntervalMs: 0,
    shouldStop: () => (singleStep ? ++steps >= 1 : performance.now() > deadline),
  });
  if (done) return;
  if (paused || singleStep) {
    post({ type: "paused", step: resume?.step ?? 0, epoch: resume?.epoch ?? 0 });
    return;
  }
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // A macrotask, so that pause and step messages are read between slices.
  setTimeout(() => slice(), 0);
}

scope.onmessage = async (event) => {
  const message = event.data;
  try {
    if (message.type === "start") {
      await loadKernelsFrom();
      job = message.job;
      const split = (images: Uint8Array, labels: Uint8Array) => ({ images, labels, count: labels.length, rows: message.rows, cols: message.cols });
      data = { train: split(message.trainImages, message.trainLabels), test: split(message.testImages, message.testLabels), identity: message.identity };
      paused ||= message.paused;
      if (paused) post({ type: "paused", step: 0, epoch: 0 });
      else schedule();
    } else if (message.type === "pause") {
      paused = true;
    } else if (message.type === "resume") {
      paused = false;
      schedule();
    } else if (message.type === "step") {
      paused = true;
      if (!scheduled) slice(true);
    }
  } catch (error) {
    post({ type: "error", message: (error as Error).stack ?? String(error) });
  }
};
