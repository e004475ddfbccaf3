/// <reference lib="dom" />
// A Train page worker: one model, trained by the CLI's own trainer (trainJobSteps, trainJob's
// generator) on the CLI's kernels, so the weights are the CLI's bit for bit. The job runs in slices
// of about SLICE_MS: at the end of a slice the trainer yields with its model alive, the worker reads
// its messages (pause, step), and the next slice continues the same generator. That is how pause
// and single step reach a running job; reset terminates the worker. Nothing is rebuilt or copied
// between slices: the model, its optimiser state and the data order stay where they are.
import { finishedCheckpointMetadata, modelCheckpointBytes } from "../checkpoint/checkpointBytes.js";
import type { MnistData } from "../data/mnist.js";
import { loadKernelsFrom } from "../engine/kernels.js";
import { trainJobSteps, type TrainEvent } from "../train/trainer.js";
import type { FromWorker, PageJob, ToWorker } from "./trainSpec.js";

/** How long a slice trains before the worker reads its messages. */
const SLICE_MS = 50;
/** How often the losses gathered are posted to the page (it redraws a few times a second). */
const POST_MS = 100;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

let job: PageJob | undefined;
let run: Generator<void, void, void> | undefined;
/** Asked by the trainer where it can yield; set by each slice. */
let yieldNow: () => boolean = () => true;
let paused = false;
/** A Step that arrived while a slice was already scheduled: that slice trains one step. */
let stepPending = false;
let scheduled = false;
let done = false;
/** Where training stands: the epoch (0-based) and the steps done in it. */
let position = { epoch: 0, step: 0 };
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
  if (event.type === "start") post({ type: "ready", parameterCount: event.parameterCount, stepsPerEpoch: event.stepsPerEpoch });
  if (event.type === "step") {
    const globalStep = (event.epoch - 1) * event.stepsPerEpoch + event.step;
    losses.push({ step: globalStep, epoch: event.epoch, loss: event.loss });
    samplesPerSecond = event.samplesPerSecond;
    position = event.step === event.stepsPerEpoch ? { epoch: event.epoch, step: 0 } : { epoch: event.epoch - 1, step: event.step };
    if (performance.now() - lastPost > POST_MS) flushLosses();
  } else if (event.type === "epoch") {
    flushLosses();
    // The trainer's histograms (made in this worker, where the tensors are): a few kB, not the layers' weights.
    const gradients = event.layers.flatMap((l) => (l.gradWeight ? [{ layer: l.layer, histogram: l.gradWeight }] : []));
    post({ type: "epoch", record: event.record, diagnostics: event.diagnostics, gradients });
  } else if (event.type === "end") {
    flushLosses();
    done = true;
    // The page's trainer is never stopped (only suspended), so a job ends finished or diverged.
    const status = event.status === "diverged" ? "diverged" : "finished";
    const last = event.history[event.history.length - 1];
    const checkpoint = modelCheckpointBytes(job!.config, event.params, finishedCheckpointMetadata({
      model: job!.model, seed: job!.seed, status, init: job!.settings.init, last, trainedOn: event.trainedOn,
    }));
    post({ type: "end", status, checkpoint, history: event.history }, [checkpoint.buffer as ArrayBuffer]);
  }
}

function postPaused(): void {
  flushLosses();
  post({ type: "paused", ...position });
}

/** Runs one slice (or one step); schedules the next unless paused or done. */
function slice(singleStep = false): void {
  scheduled = false;
  if (!run || done) return;
  singleStep ||= stepPending;
  stepPending = false;
  if (paused && !singleStep) {
    postPaused();
    return;
  }
  if (singleStep) {
    yieldNow = () => true;
  } else {
    const deadline = performance.now() + SLICE_MS;
    yieldNow = () => performance.now() > deadline;
  }
  run.next();
  if (done) return;
  if (paused || singleStep) {
    postPaused();
    return;
  }
  schedule();
}

// The next slice is a message to ourselves: a task after the messages already queued (so pause and
// step are read between slices), without the 4 ms a nested setTimeout waits.
const ticks = new MessageChannel();
ticks.port1.onmessage = () => slice();

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  ticks.port2.postMessage(null);
}

scope.onmessage = async (event) => {
  const message = event.data;
  try {
    if (message.type === "start") {
      await loadKernelsFrom();
      job = message.job;
      const split = (images: Uint8Array, labels: Uint8Array) => ({ images, labels, count: labels.length, rows: message.rows, cols: message.cols });
      const data = { train: split(message.trainImages, message.trainLabels), test: split(message.testImages, message.testLabels), identity: message.identity };
      // Step events at every step: the page's loss chart has a point per batch.
      run = trainJobSteps(job, data as MnistData, onEvent, { stepEventIntervalMs: 0, shouldYield: () => yieldNow() });
      paused ||= message.paused;
      if (paused) postPaused();
      else schedule();
    } else if (message.type === "pause") {
      paused = true;
    } else if (message.type === "resume") {
      paused = false;
      schedule();
    } else if (message.type === "step") {
      paused = true;
      if (scheduled) stepPending = true;
      else slice(true);
    }
  } catch (error) {
    post({ type: "error", message: (error as Error).stack ?? String(error) });
  }
};
