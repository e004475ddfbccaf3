// rrelu (nn.RReLU) in training: the slopes it draws, how the engine applies them, and that a run
// with them is reproducible bit for bit across a resume and across worker counts. Its eval mode
// (the catalogue's pair, leaky relu at 11/48) is checked with every activation in
// kernelsVsReference, vectorMath, activationCurves and onnx; its training step against PyTorch's
// own draws in mlpStep, its training gradients against finite differences in finiteDifferences.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ACTIVATIONS, RRELU_EVAL_SLOPE } from "../src/activations.js";
import { decodeResumeState, encodeResumeState } from "../src/checkpoint/modelCheckpoint.js";
import { loadMnist } from "../src/data/mnist.js";
import { Kernels } from "../src/engine/kernels.js";
import { Mlp } from "../src/engine/mlp.js";
import { mlpConfig, type MlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { runExperiments } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { trainJob, type ResumeState, type TrainControl, type TrainEvent } from "../src/train/trainer.js";
import { temporaryDir } from "./support/scratch.js";

const { lower, upper } = ACTIVATIONS.rrelu.randomSlope!;
const kernels = new Kernels();

/** The slopes rreluDrawSlopes gives for n elements under one key. */
function draw(n: number, seed: number, step: number, layer: number): Float32Array {
  const pointer = kernels.allocFloats(n);
  kernels.exports.rreluDrawSlopes(pointer, n, seed, step, layer);
  return kernels.floats(pointer, n).slice();
}

/** The draw as its comment in assembly/activations.ts describes it, one element at a time in JavaScript. */
function drawnSlope(seed: number, step: number, layer: number, index: number): number {
  const mix = (x: number) => {
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const start = mix(mix(mix(seed ^ 0x9e3779b9) ^ step) ^ layer);
  const stride = mix(mix(mix(seed ^ 0x85ebca6b) + step) + layer) | 1;
  const h = mix((start + Math.imul(index, stride)) >>> 0);
  const f = Math.fround;
  return f(f((h >>> 8) * f(f(f(upper) - f(lower)) * 2 ** -24)) + f(lower));
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe("rrelu's training slopes", () => {
  const n = 200_000;
  const slopes = draw(n, 12345, 0, 0);

  it("lie in [lower, upper) and are uniform there: mean 11/48, and the Kolmogorov–Smirnov test at a fixed seed", () => {
    assert.deepEqual([lower, upper], [1 / 8, 1 / 3]);
    assert.equal(RRELU_EVAL_SLOPE, 11 / 48);
    let below = 0;
    let above = 0;
    for (const r of slopes) {
      if (!(r >= lower)) below++;
      if (!(r < upper)) above++;
    }
    assert.deepEqual([below, above], [0, 0], "no slope outside [1/8, 1/3)");
    // Mean and variance of U(lower, upper): (lower + upper)/2 and (upper − lower)²/12; within 4 standard errors.
    const sd = (upper - lower) / Math.sqrt(12);
    assert.ok(Math.abs(mean(slopes) - RRELU_EVAL_SLOPE) < (4 * sd) / Math.sqrt(n), `mean ${mean(slopes)}`);
    const variance = mean(Array.from(slopes, (r) => (r - RRELU_EVAL_SLOPE) ** 2));
    assert.ok(Math.abs(variance / sd ** 2 - 1) < 0.02, `variance ${variance}, U's ${sd ** 2}`);
    // D = sup |F_n − F|; its 1% critical value is 1.63/√n.
    const sorted = Float64Array.from(slopes).sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const cdf = (sorted[i] - lower) / (upper - lower);
      d = Math.max(d, (i + 1) / n - cdf, cdf - i / n);
    }
    assert.ok(d < 1.63 / Math.sqrt(n), `KS statistic ${d} (1% critical value ${1.63 / Math.sqrt(n)})`);
    // And no pattern along the buffer: neighbours (lag 1, and lag 4, a SIMD vector apart) are uncorrelated.
    for (const lag of [1, 4]) {
      const r = correlation(slopes.subarray(0, n - lag), slopes.subarray(lag));
      assert.ok(Math.abs(r) < 5 / Math.sqrt(n), `lag-${lag} correlation ${r}`);
    }
  });

  it("are a function of (seed, step, layer, element) alone: the same key draws the same slopes, whatever the count", () => {
    assert.deepEqual(draw(n, 12345, 0, 0), slopes);
    // Tails of 1 to 3 lanes and whole vectors give each element the same slope.
    for (const count of [1, 2, 3, 5, 1003]) assert.deepEqual(draw(count, 12345, 0, 0), slopes.subarray(0, count), `${count} elements`);
    // Exactly the documented hash, at a few keys (negative seeds are their 32-bit patterns).
    for (const [seed, step, layer] of [[12345, 0, 0], [-7, 93_812, 8], [0, 2 ** 31 + 5, 1]]) {
      const kernel = draw(257, seed, step, layer);
      kernel.forEach((r, i) => assert.equal(r, drawnSlope(seed, step, layer, i), `seed ${seed} step ${step} layer ${layer} element ${i}`));
    }
  });

  it("differ, uncorrelated, between steps, layers and seeds", () => {
    const m = 50_000;
    const base = slopes.subarray(0, m);
    const others = { "next step": draw(m, 12345, 1, 0), "next layer": draw(m, 12345, 0, 1), "another seed": draw(m, 12346, 0, 0) };
    for (const [what, other] of Object.entries(others)) {
      let same = 0;
      for (let i = 0; i < m; i++) if (other[i] === base[i]) same++;
      // Two independent slopes coincide with probability 2⁻²⁴ (24 random bits each).
      assert.ok(same < 5, `${what}: ${same} equal slopes`);
      const r = correlation(base, other);
      assert.ok(Math.abs(r) < 5 / Math.sqrt(m), `${what}: correlation ${r}`);
    }
    // (step 1, layer 0) against (step 0, layer 1): the key is not a sum of the two.
    const crossed = correlation(draw(m, 12345, 1, 0), draw(m, 12345, 0, 1));
    assert.ok(Math.abs(crossed) < 5 / Math.sqrt(m), `step 1 layer 0 against step 0 layer 1: correlation ${crossed}`);
  });
});

describe("rrelu's slope kernels", () => {
  it("apply the slopes where z ≤ 0 (0 included) and pass z > 0, forward and backward, on every length", () => {
    const random = Random.fromSeed(3);
    for (const n of [1, 2, 3, 4, 5, 7, 13, 64, 257]) {
      const z = new Float32Array(n);
      random.fillUniform(z, 4);
      z[0] = 0;
      if (n > 2) z[2] = -0;
      const s = draw(n, 1, 2, 3);
      const dA = new Float32Array(n);
      random.fillUniform(dA, 2);
      const [Z, S, A, G] = [z, s, new Float32Array(n), dA].map((values) => {
        const pointer = kernels.allocFloats(n);
        kernels.floats(pointer, n).set(values);
        return pointer;
      });
      kernels.exports.rreluWithSlopesForward(A, Z, S, n);
      // In place, as the engine calls it: dZ over dA.
      kernels.exports.rreluWithSlopesBackward(G, G, Z, S, n);
      const f = Math.fround;
      assert.deepEqual(kernels.floats(A, n), Float32Array.from(z, (x, i) => (x > 0 ? x : f(x * s[i]))), `A, n = ${n}`);
      assert.deepEqual(kernels.floats(G, n), Float32Array.from(dA, (g, i) => (z[i] > 0 ? g : f(g * s[i]))), `dZ, n = ${n}`);
    }
  });
});

const smallNet = (activation: string): MlpConfig => mlpConfig({ inSize: 20, outSize: 10, hiddenSize: [16, 12], numHiddenLayers: 3, activation, leakySlope: RRELU_EVAL_SLOPE });

/** A model of `config` with seed 7's parameters and a batch of 9 random rows. */
function smallModel(config: MlpConfig): Mlp {
  const batch = 9;
  const random = Random.fromSeed(7);
  const model = new Mlp(config, batch);
  model.initialize(random);
  const x = new Float32Array(batch * config.inSize);
  random.fillUniform(x, 2);
  model.input.setInput(x, batch, Array.from({ length: batch }, () => random.nextInt(0, 9)));
  return model;
}

describe("an rrelu net", () => {
  const batch = 9;

  it("in training draws a slope per element from (noise seed, optimiser step, layer, element), the same until the next step", () => {
    const model = smallModel(smallNet("rrelu"));
    model.setNoiseSeed(-99);
    const sloped = (step: number) => {
      model.forward(batch, "train");
      model.layers.slice(0, -1).forEach((layer, index) => {
        const n = batch * layer.outSize;
        const slopes = model.drawnSlopes(index, batch);
        assert.deepEqual(slopes, draw(n, -99, step, index), `step ${step}, layer ${index}: the key's slopes`);
        const z = model.kernels.floats(layer.Z, n);
        assert.deepEqual(model.kernels.floats(layer.A, n), Float32Array.from(z, (x, i) => (x > 0 ? x : Math.fround(x * slopes[i]))), `layer ${index}: A`);
      });
    };
    sloped(0);
    sloped(0);
    model.loss(batch);
    model.backward(batch);
    model.optimizerStep({ lr: 0.1, momentum: 0.9 });
    sloped(1);
  });

  it("takes given slopes for one training forward pass, then draws again", () => {
    const model = smallModel(smallNet("rrelu"));
    const given = model.layers.slice(0, -1).map((layer) => new Float32Array(batch * layer.outSize).fill(0.3));
    model.useSlopesOnce(given);
    model.forward(batch, "eval");
    model.forward(batch, "train");
    assert.deepEqual(model.drawnSlopes(0, batch), given[0], "an eval pass leaves them for the training one");
    model.forward(batch, "train");
    assert.deepEqual(model.drawnSlopes(0, batch), draw(batch * 16, 0, 0, 0));
    assert.throws(() => smallModel(smallNet("leaky_relu")).useSlopesOnce([]), /draws no slopes/);
  });

  it("in eval mode is leaky_relu at 11/48, forward and backward, bit for bit", () => {
    const rrelu = smallModel(smallNet("rrelu"));
    const leaky = smallModel(smallNet("leaky_relu"));
    const logits = (model: Mlp) => model.kernels.floats(model.forward(batch, "eval"), batch * 10).slice();
    assert.deepEqual(logits(rrelu), logits(leaky));
    rrelu.loss(batch);
    leaky.loss(batch);
    // The backward follows the last forward pass: after an eval one, the mean slope.
    rrelu.backward(batch);
    leaky.backward(batch);
    assert.deepEqual(rrelu.gradients(), leaky.gradients());
    // After a training one, the drawn slopes: another gradient.
    rrelu.forward(batch, "train");
    rrelu.loss(batch);
    rrelu.backward(batch);
    assert.notDeepEqual(rrelu.gradients(), leaky.gradients());
  });
});

describe("training an rrelu net", () => {
  const data = loadMnist();
  const scratch = temporaryDir("rrelu");
  after(() => scratch.remove());
  const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 4, activation: "rrelu" });
  const job = (seed = 0) => ({ model: "rrelu", seed, trainLimit: 1000, config, settings: { ...DEFAULT_SETTINGS, epochs: 2 } });
  const stepsPerEpoch = Math.ceil(1000 / DEFAULT_SETTINGS.batchSize);

  /** Trains; stops with a resumable state after `stopAfter` steps if given. */
  function train(control: TrainControl, stopAfter?: number, seed = 0): { params: Float32Array; resume?: ResumeState } {
    let end: Extract<TrainEvent, { type: "end" }> | undefined;
    let steps = 0;
    trainJob(job(seed), data, (event) => {
      if (event.type === "step") steps++;
      if (event.type === "end") end = event;
    }, { ...control, stepEventIntervalMs: 0, shouldStop: stopAfter === undefined ? undefined : () => steps >= stopAfter });
    assert.ok(end);
    return { params: end.params, resume: end.resume };
  }

  /** The state as a resumable checkpoint stores it (what --resume and a queue read back). */
  const throughFile = (state: ResumeState): ResumeState => decodeResumeState(encodeResumeState(config, state), "state").state as ResumeState;

  it("resumes bit-identically, at an epoch's end and mid-epoch: the step count that keys the slopes is in the resumable state", () => {
    const straight = train({}).params;
    assert.notDeepEqual(train({}, undefined, 1).params, straight, "another seed trains another net");
    for (const stop of [stepsPerEpoch, stepsPerEpoch + 5]) {
      const first = train({}, stop);
      assert.ok(first.resume, `a resumable state after ${stop} steps`);
      assert.equal(first.resume.optimizer.step, stop);
      const state = throughFile(first.resume);
      assert.deepEqual(train({ resume: state }).params, straight, `stopped after ${stop} steps and resumed`);
      // Without the step count the slopes would be drawn again from step 0: another net.
      const restarted = { ...state, optimizer: { ...state.optimizer, step: 0 } };
      assert.notDeepEqual(train({ resume: restarted }).params, straight, `stopped after ${stop} steps, resumed with the step count lost`);
    }
  });

  it("gives bit-identical weights with 0, 1 or 2 worker threads", async () => {
    const results: string[] = [];
    for (const workers of [0, 1, 2]) {
      const params = new Map<number, Float32Array>();
      await runExperiments([{
        name: "rrelu", dir: scratch.fresh(), seeds: [0, 1], trainLimit: 500, settings: { ...DEFAULT_SETTINGS, epochs: 1 },
        models: [{ model: "rrelu", config }],
      }], { data: loadMnist({ shared: true }), workers, onEvent: (_, event) => { if (event.type === "end") params.set(event.seed, event.params); } });
      results.push(JSON.stringify([0, 1].map((seed) => Buffer.from(params.get(seed)!.buffer).toString("base64"))));
    }
    assert.equal(results[1], results[0]);
    assert.equal(results[2], results[0]);
  });
});
