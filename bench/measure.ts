// What the benchmark measures on actlab's side: training throughput of the notebook's nets, test-set
// evaluation, and whether a training step allocates (the kernels per shape: shapes.ts).
//
// The machine this runs on is often shared, so single timings are noisy. Kernel figures are a low
// percentile of many single calls (what the kernel does when it has the core); training figures are
// whole runs of steps, as PyTorch's are, and the caller repeats them and keeps the best round.
import { PerformanceObserver } from "node:perf_hooks";
import type { MnistData } from "../src/data/mnist.js";
import { Mlp, type Normalization } from "../src/engine/mlp.js";
import { mlpConfig, type MlpConfig } from "../src/model.js";
import type { NormName } from "../src/norms.js";
import { Random } from "../src/random.js";
import { evaluate, identityOrder } from "../src/train/evaluate.js";
import type { ActivationName } from "../src/activations.js";

export type NetName = "shallow" | "deeper";

/** The notebook's two nets (its models dicts), with the four activations it compares. */
export const NETS: Record<NetName, { hiddenSize: number; numHiddenLayers: number }> = {
  shallow: { hiddenSize: 64, numHiddenLayers: 5 },
  deeper: { hiddenSize: 48, numHiddenLayers: 10 },
};
export const NOTEBOOK_ACTIVATIONS: ActivationName[] = ["sigmoid", "tanh", "relu", "leaky_relu"];

export const NORMALIZATION: Normalization = { mean: 0.1307, std: 0.3081 };
const BATCH = 64;
const TEST_BATCH = 256;
const LR = 0.01;
const MOMENTUM = 0.9;

export function netConfig(net: NetName, activation: ActivationName, norm: NormName = "none"): MlpConfig {
  return mlpConfig({ inSize: 784, outSize: 10, activation, norm, ...NETS[net] });
}

export interface TrainingFigures {
  net: NetName;
  activation: ActivationName;
  steps: number;
  samplesPerSecond: number;
  msPerStep: number;
  /** The fastest single step (µs): what a step costs when nothing else runs. */
  bestStepUs: number;
  evalMs: number;
}

/** Counts garbage collections between start() and stop() (entries arrive asynchronously). */
class GcCounter {
  private count = 0;
  private readonly observer = new PerformanceObserver((list) => { this.count += list.getEntries().length; });
  start(): void {
    this.count = 0;
    this.observer.observe({ entryTypes: ["gc"] });
  }
  async stop(): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    this.observer.disconnect();
    return this.count;
  }
}

function trainingModel(data: MnistData, net: NetName, activation: ActivationName, seed: number, norm: NormName = "none") {
  const model = new Mlp(netConfig(net, activation, norm), TEST_BATCH);
  model.initialize(Random.fromSeed(seed));
  const order = identityOrder(data.train.count);
  const shuffle = Random.fromSeed(seed + 1);
  const batches = Math.floor(data.train.count / BATCH);
  const sgd = { lr: LR, momentum: MOMENTUM };
  const step = (i: number) => {
    // Every epoch in a new order, as the trainer's: read in the order they were made, the kept lists
    // would stream from memory and flatter the figures.
    if (i % batches === 0) shuffle.shuffle(order);
    model.input.loadBatch(data.train.images, data.train.labels, order, (i % batches) * BATCH, BATCH, NORMALIZATION);
    model.trainStep(BATCH, sgd);
  };
  return { model, step };
}

/**
 * Trains `steps` batches of 64 the way the trainer does (loadBatch from the uint8 images, then one
 * SGD step), then evaluates the 10,000 test images. Untimed first: one epoch, after which the model
 * keeps every training image's pixel list, as it does for all but the first of a 30-epoch run's
 * epochs (PyTorch's side normalises the whole set before it starts), then `warmup` steps.
 */
export function measureTraining(
  data: MnistData, net: NetName, activation: ActivationName, steps: number, warmup: number, seed = 0, norm: NormName = "none",
): TrainingFigures {
  const { model, step } = trainingModel(data, net, activation, seed, norm);
  const first = Math.floor(data.train.count / BATCH) + warmup;
  for (let i = 0; i < first; i++) step(i);
  let best = Infinity;
  const started = performance.now();
  for (let i = first; i < first + steps; i++) {
    const t = performance.now();
    step(i);
    best = Math.min(best, performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    net, activation, steps,
    samplesPerSecond: (steps * BATCH) / seconds,
    msPerStep: (seconds * 1000) / steps,
    bestStepUs: best * 1000,
    evalMs: measureEvaluation(model, data, 3),
  };
}

export interface AllocationCheck {
  steps: number;
  garbageCollections: number;
  /** Heap growth over the steps divided by their number (includes the check's own few objects). */
  heapBytesPerStep: number;
}

/**
 * Whether training steps allocate: `steps` steps with nothing else in the loop (no clock), watched for
 * garbage collections and heap growth. A step that allocated even 100 bytes would fill the young
 * generation and set off collections within a few thousand steps.
 */
export async function checkAllocation(data: MnistData, net: NetName, activation: ActivationName, steps: number): Promise<AllocationCheck> {
  const { step } = trainingModel(data, net, activation, 0);
  for (let i = 0; i < 100; i++) step(i);
  const gc = new GcCounter();
  gc.start();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < steps; i++) step(i);
  const heapAfter = process.memoryUsage().heapUsed;
  return { steps, garbageCollections: await gc.stop(), heapBytesPerStep: (heapAfter - heapBefore) / steps };
}

/** The fastest of `repeats` full test-set evaluations (accuracy and loss, batches of 256), in ms. */
export function measureEvaluation(model: Mlp, data: MnistData, repeats: number): number {
  const order = identityOrder(data.test.count);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    evaluate(model, data.test, TEST_BATCH, NORMALIZATION, undefined, order);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
