// The first layer's sparse path (taken for batches of mostly-zero uint8 images) against the dense
// path on the very same inputs: the same pre-activations up to float32 summation error, the same
// loss and gradients, fresh after any change to the weights; and the dense path where it must be used.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Mlp } from "../src/engine/mlp.js";
import { mlpConfig, type MlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { assertClose } from "./support/fixtures.js";

const SIZE = 784;
const NORMALIZATION = { mean: 0.1307, std: 0.3081 };
// Downstream of the first layer the two paths differ by rounding only: the fixtures' tolerances.
const ATOL = 2e-6;
const RTOL = 2e-5;

/** `count` images with about `density` of their pixels nonzero (as MNIST: mostly 0, some up to 255). */
function images(count: number, density: number, random: Random): Uint8Array {
  const out = new Uint8Array(count * SIZE);
  for (let i = 0; i < out.length; i++) if (random.nextInt(0, 999) < density * 1000) out[i] = random.nextInt(1, 255);
  return out;
}

interface Pass {
  z1: Float32Array;
  logits: Float32Array;
  loss: number;
  grads: Float32Array;
}

/** forward, loss and backward on the model's current input. */
function pass(model: Mlp, count: number): Pass {
  const k = model.kernels;
  model.forward(count);
  const first = model.layers[0];
  const last = model.layers[model.layers.length - 1];
  const result = {
    z1: k.floats(first.Z, count * first.outSize).slice(),
    logits: k.floats(last.Z, count * last.outSize).slice(),
    loss: model.loss(count),
    grads: new Float32Array(0),
  };
  model.backward(count);
  result.grads = model.gradients().slice();
  return result;
}

/** The same batch through loadBatch (sparse where it qualifies) and through setInput (always dense). */
function bothPaths(model: Mlp, pixels: Uint8Array, labels: Uint8Array, count: number): { sparse: Pass; dense: Pass } {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  model.input.loadBatch(pixels, labels, order, 0, count, NORMALIZATION);
  const input = model.input.inputValues(count).slice();
  const sparse = pass(model, count);
  model.input.setInput(input, count, labels);
  const dense = pass(model, count);
  return { sparse, dense };
}

/** |sparse − dense| within float32 summation error for a sum over 784 pixels of (x0 + d)·w terms. */
function assertFirstLayerClose(model: Mlp, sparse: Float32Array, dense: Float32Array, count: number, normalization = NORMALIZATION): void {
  const first = model.layers[0];
  const params = model.parameters();
  const input = model.input.inputValues(count);
  const x0 = Math.abs(Math.fround(Math.fround(0 / 255 - Math.fround(normalization.mean)) / Math.fround(normalization.std)));
  for (let b = 0; b < count; b++) {
    for (let n = 0; n < first.outSize; n++) {
      let magnitude = Math.abs(params[first.bias.offset + n]);
      for (let k = 0; k < SIZE; k++) magnitude += (Math.abs(input[b * SIZE + k]) + x0) * Math.abs(params[first.weight.offset + n * SIZE + k]);
      const bound = 2 * (SIZE + 4) * 2 ** -24 * magnitude;
      const i = b * first.outSize + n;
      assert.ok(Math.abs(sparse[i] - dense[i]) <= bound, `Z1[${b}, ${n}]: sparse ${sparse[i]}, dense ${dense[i]}, bound ${bound}`);
    }
  }
}

function model(config: MlpConfig, seed: number): Mlp {
  const m = new Mlp(config, 256);
  m.initialize(Random.fromSeed(seed));
  return m;
}

describe("the first layer's sparse path", () => {
  const config = mlpConfig({ inSize: SIZE, outSize: 10, hiddenSize: [48, 20], numHiddenLayers: 3, activation: "tanh" });

  // 48 gathers dWᵀ image by image; 256 regroups by pixel into the rows of dWᵀ (both kept transposed
  // in the model's blocks); 516 reads a padded copy of Wᵀ and writes dW [out, in] by pixel.
  for (const [width, counts] of [[48, [64, 37, 1, 256]], [256, [64, 37]], [516, [61]]] as const) it(`agrees with the dense path at ${width} outputs: pre-activations, logits, loss and every gradient`, () => {
    const random = Random.fromSeed(1);
    const m = model(mlpConfig({ inSize: SIZE, outSize: 10, hiddenSize: [width, 20], numHiddenLayers: 3, activation: "tanh" }), 2);
    for (const count of counts) {
      const labels = Uint8Array.from({ length: count }, () => random.nextInt(0, 9));
      const { sparse, dense } = bothPaths(m, images(count, 0.2, random), labels, count);
      assert.notDeepEqual(sparse.z1, dense.z1, "the sparse path was taken (its rounding differs somewhere)");
      assertFirstLayerClose(m, sparse.z1, dense.z1, count);
      assertClose(sparse.logits, dense.logits, ATOL, RTOL, "logits");
      assertClose([sparse.loss], [dense.loss], ATOL, RTOL, "loss");
      assertClose(sparse.grads, dense.grads, ATOL, RTOL, "gradients");
    }
  });

  it("sees every change to the weights: SGD steps, loads, writeParameters", () => {
    const random = Random.fromSeed(3);
    const m = model(config, 4);
    const count = 64;
    const pixels = images(count, 0.2, random);
    const labels = Uint8Array.from({ length: count }, () => random.nextInt(0, 9));
    const order = Uint32Array.from({ length: count }, (_, i) => i);
    const check = (what: string) => {
      const { sparse, dense } = bothPaths(m, pixels, labels, count);
      assertFirstLayerClose(m, sparse.z1, dense.z1, count);
      assertClose(sparse.grads, dense.grads, ATOL, RTOL, `gradients after ${what}`);
    };
    for (let step = 0; step < 3; step++) {
      m.input.loadBatch(pixels, labels, order, 0, count, NORMALIZATION);
      m.trainStep(count, { lr: 0.5, momentum: 0.9 });
    }
    check("SGD steps");
    const params = m.parameters();
    for (let i = 0; i < m.layers[0].bias.offset; i++) params[i] *= -1.5;
    m.writeParameters(params);
    check("writeParameters");
    m.loadStateDict(new Map(m.stateDict().map((t) => [t.name, t.data.map((v) => v * 0.5)])));
    check("loadStateDict");
    m.initialize(Random.fromSeed(9));
    check("initialize");
  });

  it("leaves dense batches to the dense path, bit for bit", () => {
    const random = Random.fromSeed(5);
    const m = model(config, 6);
    const count = 32;
    const labels = Uint8Array.from({ length: count }, () => random.nextInt(0, 9));
    const { sparse, dense } = bothPaths(m, images(count, 0.9, random), labels, count);
    assert.deepEqual(sparse.z1, dense.z1);
    assert.deepEqual(sparse.grads, dense.grads);
  });

  it("is not used where the first layer's width is not a multiple of 4", () => {
    const random = Random.fromSeed(7);
    const m = model(mlpConfig({ inSize: SIZE, outSize: 10, hiddenSize: 30, numHiddenLayers: 2, activation: "relu" }), 8);
    const count = 16;
    const labels = Uint8Array.from({ length: count }, () => random.nextInt(0, 9));
    const { sparse, dense } = bothPaths(m, images(count, 0.2, random), labels, count);
    assert.deepEqual(sparse.z1, dense.z1);
    assert.deepEqual(sparse.grads, dense.grads);
  });

  it("keeps the lists of a split read in order, and gives the same rows as listing each batch", () => {
    const random = Random.fromSeed(11);
    const m = model(config, 12);
    const count = 100;
    const pixels = images(count, 0.2, random);
    const labels = Uint8Array.from({ length: count }, () => random.nextInt(0, 9));
    const width = m.layers[0].outSize;
    const inOrder = Uint32Array.from({ length: count }, (_, i) => i);
    const reversed = inOrder.slice().reverse();
    const rows = (order: Uint32Array, start: number, n: number, normalization = NORMALIZATION) => {
      m.input.loadBatch(pixels, labels, order, start, n, normalization);
      m.forward(n);
      return m.kernels.floats(m.layers[0].Z, n * width).slice();
    };
    // In order: batches 0–39 and 40–79 are listed into the kept area, then reused; a batch out of
    // sequence, and the reversed order, are listed on their own.
    const first = [rows(inOrder, 0, 40), rows(inOrder, 40, 40)];
    const again = [rows(inOrder, 0, 40), rows(inOrder, 40, 40), rows(inOrder, 80, 20)];
    const backwards = rows(reversed, 0, count);
    assert.deepEqual(again[0], first[0]);
    assert.deepEqual(again[1], first[1]);
    for (let image = 0; image < count; image++) {
      const kept = again[Math.floor(image / 40)].subarray((image % 40) * width, (image % 40 + 1) * width);
      const alone = backwards.subarray((count - 1 - image) * width, (count - image) * width);
      assert.deepEqual(kept, alone, `image ${image}`);
    }
    // Another normalisation lists again (the kept values would be wrong), and matches the dense path.
    const other = { mean: 0.5, std: 0.2 };
    const renormalised = rows(inOrder, 0, 40, other);
    m.input.loadBatch(pixels, labels, inOrder, 0, 40, other);
    const input = m.input.inputValues(40).slice();
    m.input.setInput(input, 40, labels.subarray(0, 40));
    m.forward(40);
    assertFirstLayerClose(m, renormalised, m.kernels.floats(m.layers[0].Z, 40 * width).slice(), 40, other);
  });
});
