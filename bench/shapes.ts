// The products one training step and one evaluation need, at each width the bench covers, timed
// one call at a time against the core's own ceiling (simdCeiling: independent multiply-adds on
// registers, measured here rather than computed from a clock rate that the CPU name may not give).
import type { MnistData } from "../src/data/mnist.js";
import { Kernels, MemoryPlan, type KernelExports } from "../src/engine/kernels.js";
import { InputPipeline } from "../src/engine/inputPipeline.js";
import { SparseFirstLayer } from "../src/engine/sparseFirstLayer.js";
import { identityOrder } from "../src/train/evaluate.js";
import { Random } from "../src/random.js";
import { NORMALIZATION } from "./measure.js";

/** Kernel exports the engine does not call (yet), typed here. */
export type BenchExports = KernelExports & { simdCeiling(iterations: number, seed: number): number };

export const SHAPE_WIDTHS = [48, 64, 256, 512, 1024, 2048];
const BATCH = 64;
const TEST_BATCH = 256;
const PIXELS = 784;

export interface ShapeFigure {
  width: number;
  product: string;
  flops: number;
  us: number;
  gflops: number;
}

/** This process's CPU time in µs (user and system): it stops while the scheduler runs something else. */
function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * A low per-call time of `fn` in µs, as CPU time: the 20th percentile of samples of enough calls to
 * take about 5 ms each, for about `budgetMs` of CPU (at least 7 samples). On a shared machine wall
 * time counts whatever else the core ran meanwhile, and calls of 10 ms or more never escape it; CPU
 * time does not (what remains is the caches that other processes disturb). A percentile rather than
 * the minimum, since the kernel's CPU clock is accounted in slices that can make one sample look short.
 */
export function fastestUs(fn: () => void, budgetMs = 200): number {
  let t = performance.now();
  fn();
  fn();
  const once = (performance.now() - t) * 500;
  const calls = Math.max(1, Math.ceil(5000 / Math.max(once, 1)));
  const samples: number[] = [];
  const started = cpuUs();
  while (samples.length < 7 || cpuUs() - started < budgetMs * 1000) {
    t = cpuUs();
    for (let i = 0; i < calls; i++) fn();
    samples.push((cpuUs() - t) / calls);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length * 0.2)];
}

/** GFLOP/s of this build's vector multiply-add on one core, operands in registers (the best of several runs). */
export function measureCeiling(): number {
  const k = new Kernels().exports as BenchExports;
  const iterations = 100_000;
  const us = fastestUs(() => k.simdCeiling(iterations, 0.5), 300);
  return (iterations * 80) / us / 1000;
}

/**
 * Every product a training step and an evaluation run on a net of this width: the hidden layers'
 * forward (X·Wᵀ through the kept Wᵀ), input gradient (dZ·W with relu's derivative) and weight
 * gradient (dZᵀ·X), the first layer on MNIST's sparse images (forward and weight gradient; its
 * flops count the nonzero pixels only, as the work it does) and dense (X·Wᵀ by rows of W).
 */
export function measureShapes(data: MnistData, widths = SHAPE_WIDTHS): ShapeFigure[] {
  const figures: ShapeFigure[] = [];
  for (const w of widths) {
    const kernels = new Kernels();
    const k = kernels.exports;
    const random = Random.fromSeed(w);
    const buffer = (count: number) => {
      const pointer = kernels.allocFloats(count);
      const values = new Float32Array(count);
      random.fillUniform(values, 1);
      kernels.floats(pointer, count).set(values);
      return pointer;
    };
    const wide = Math.max(w, PIXELS);
    const X = buffer(TEST_BATCH * wide);
    const W = buffer(w * wide);
    const b = buffer(w);
    const Z = buffer(TEST_BATCH * wide);
    const A = buffer(TEST_BATCH * wide);
    const dZ = buffer(TEST_BATCH * w);
    const dW = buffer(w * wide);
    const relu = kernels.activationKind("relu");
    const add = (product: string, flops: number, fn: () => void) => {
      const us = fastestUs(fn);
      figures.push({ width: w, product, flops, us, gflops: flops / us / 1000 });
    };
    add(`hidden forward X[64×${w}]·Wᵀ`, 2 * BATCH * w * w, () => k.denseForward(Z, A, X, 0, W, b, BATCH, w, w, 0, 0));
    add(`hidden dX[64×${w}] = dZ·W, relu'`, 2 * BATCH * w * w, () => k.gemmBroadcast(Z, dZ, w, 1, W, 0, BATCH, w, w, relu, X, A, 0));
    add(`hidden dW[${w}×${w}] = dZᵀ·X`, 2 * BATCH * w * w, () => k.gemmBroadcast(dW, dZ, 1, w, X, 0, w, w, BATCH, 0, 0, 0, 0));
    add(`eval forward X[256×${w}]·Wᵀ`, 2 * TEST_BATCH * w * w, () => k.denseForward(Z, A, X, 0, W, b, TEST_BATCH, w, w, 0, 0));
    add(`layer 1 dense X[64×784]·Wᵀ`, 2 * BATCH * w * PIXELS, () => k.gemmNT(Z, X, W, b, BATCH, w, PIXELS));
    if (SparseFirstLayer.fits(w)) {
      // The input pipeline lists the batch's nonzero pixels, as in training (the first 64 images in order).
      const plan = new MemoryPlan(kernels.allocated);
      const sparseRegions = SparseFirstLayer.plan(plan, PIXELS, w, BATCH);
      const inputRegions = InputPipeline.plan(plan, PIXELS, TEST_BATCH, SparseFirstLayer.rowBytes(w));
      kernels.allocatePlan(plan);
      const sparse = new SparseFirstLayer(kernels, PIXELS, w, sparseRegions);
      const input = new InputPipeline(kernels, PIXELS, TEST_BATCH, SparseFirstLayer.rowBytes(w), inputRegions);
      input.loadBatch(data.train.images, data.train.labels, identityOrder(BATCH), 0, BATCH, NORMALIZATION);
      const pixelLists = input.prepareForward(BATCH)!;
      let nonzero = 0;
      for (let i = 0; i < BATCH * PIXELS; i++) if (data.train.images[i] !== 0) nonzero++;
      // The call the model makes for the whole batch: the forward kernel alone, with the Wᵀ the layer
      // reads (the block's own below 512 outputs, its padded copy from there) and the row sums, refreshed.
      const call = sparse.forwardCall(Z, W, b, pixelLists, 0, BATCH);
      const forward = kernels.kernel(call.fn) as (...args: number[]) => void;
      add(`layer 1 sparse forward [64×784]·Wᵀ`, 2 * nonzero * w, () => forward(...call.args));
      add(`layer 1 sparse dW[${w}×784], all included`, 2 * nonzero * w, () => sparse.backward(dW, b, dZ, pixelLists, BATCH));
    }
  }
  return figures;
}
