// The model's parameters: read as copies that change nothing, written through writeParameters,
// after which a forward pass uses the new values on every path (the narrow layers' kept Wᵀ, the
// first layer's sparse path). The yardstick is a fresh model given the same values: it has no
// derived state to keep stale.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Mlp } from "../src/engine/mlp.js";
import { mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { diagnoseEpoch, UnitStatistics } from "../src/train/diagnostics.js";

const SIZE = 784;
const NORMALIZATION = { mean: 0.1307, std: 0.3081 };
// Wide first layer (sparse path: width a multiple of 4), narrow later ones (kept Wᵀ).
const config = mlpConfig({ inSize: SIZE, outSize: 10, hiddenSize: [32, 12], numHiddenLayers: 3, activation: "tanh" });
const COUNT = 40;

function batch(seed: number): { pixels: Uint8Array; labels: Uint8Array; order: Uint32Array } {
  const random = Random.fromSeed(seed);
  const pixels = new Uint8Array(COUNT * SIZE);
  // About a fifth of the pixels nonzero, as MNIST: the batch takes the sparse path.
  for (let i = 0; i < pixels.length; i++) if (random.nextInt(0, 4) === 0) pixels[i] = random.nextInt(1, 255);
  const labels = Uint8Array.from({ length: COUNT }, () => random.nextInt(0, 9));
  return { pixels, labels, order: Uint32Array.from({ length: COUNT }, (_, i) => i) };
}

function built(seed: number): Mlp {
  const model = new Mlp(config, 64);
  model.initialize(Random.fromSeed(seed));
  return model;
}

/** The logits of a forward pass over the batch, from pixels (`sparse`) or from their normalised values. */
function logits(model: Mlp, data: ReturnType<typeof batch>, sparse: boolean): Float32Array {
  model.input.loadBatch(data.pixels, data.labels, data.order, 0, COUNT, NORMALIZATION);
  if (!sparse) model.input.setInput(model.input.inputValues(COUNT).slice(), COUNT, data.labels);
  return model.kernels.floats(model.forward(COUNT), COUNT * 10).slice();
}

/** What a model that never saw other values gives for these parameters. */
function fresh(params: Float32Array, data: ReturnType<typeof batch>, sparse: boolean): Float32Array {
  const model = new Mlp(config, 64);
  model.writeParameters(params);
  return logits(model, data, sparse);
}

describe("the model's parameters", () => {
  for (const sparse of [true, false]) {
    const path = sparse ? "sparse first layer" : "dense first layer";
    it(`a write after a forward pass is seen by the next one (${path})`, () => {
      const data = batch(1);
      const model = built(2);
      // Taken before the forward pass and written after it: today's stale-view case.
      const params = model.parameters();
      const before = logits(model, data, sparse);
      for (let i = 0; i < params.length; i++) params[i] *= i % 3 === 0 ? -1.25 : 0.75;
      model.writeParameters(params);
      const after = logits(model, data, sparse);
      assert.notDeepEqual(after, before, "the write changes the outputs");
      assert.deepEqual(after, fresh(params, data, sparse), "bit for bit what a fresh model with these values gives");
    });
  }

  it("a partial write at an offset reaches the layer it lands in", () => {
    const data = batch(3);
    const model = built(4);
    logits(model, data, true);
    const second = model.layout.linears[1].weight;
    model.writeParameters(new Float32Array(second.size).fill(0.5), second.offset);
    const expected = model.parameters();
    assert.ok(expected.subarray(second.offset, second.offset + second.size).every((v) => v === 0.5));
    assert.deepEqual(logits(model, data, true), fresh(expected, data, true));
  });

  it("reading changes nothing: the copies are the caller's, and outputs stay bit-identical", () => {
    const data = batch(5);
    const model = built(6);
    const before = logits(model, data, true);
    const params = model.parameters();
    params.fill(0);
    model.gradients().fill(1);
    model.momentum().fill(1);
    assert.notDeepEqual(model.parameters(), params, "writing to the copy does not reach the model");
    assert.deepEqual(logits(model, data, true), before);
  });

  // The first layer (32 outputs: SparseFirstLayer.transposedInBlocks) is kept transposed in the
  // blocks, and every way in or out turns it to PyTorch's layout and back.
  it("a write inside the first layer's weight lands at [out, in], as PyTorch lays it out", () => {
    const data = batch(10);
    const model = built(11);
    logits(model, data, true);
    const first = model.layout.linears[0].weight;
    const at = first.offset + 5 * SIZE + 300; // output 5, pixel 300
    model.writeParameters([2.5, -1.5], at);
    const expected = model.parameters();
    assert.equal(expected[at], 2.5);
    assert.equal(expected[at + 1], -1.5);
    assert.equal(model.stateDict()[0].data[5 * SIZE + 301], -1.5);
    assert.deepEqual(logits(model, data, true), fresh(expected, data, true));
    assert.deepEqual(logits(model, data, false), fresh(expected, data, false));
  });

  it("the blocks lent out (readBlocks) are the copies' layout, and training after them is bit-identical", () => {
    const data = batch(12);
    const hyper = { lr: 0.1, momentum: 0.9 };
    const step = (model: Mlp) => {
      model.input.loadBatch(data.pixels, data.labels, data.order, 0, COUNT, NORMALIZATION);
      model.trainStep(COUNT, hyper);
    };
    const lent = built(13);
    const plain = built(13);
    step(lent);
    step(plain);
    const [params, grads] = lent.readBlocks((p, g) => {
      // Nested ways out turn nothing twice: the diagnostics read the update inside readBlocks.
      assert.deepEqual(lent.parameters(), p);
      lent.lastUpdate();
      return [p.slice(), g.slice()];
    });
    assert.deepEqual(params, lent.parameters());
    assert.deepEqual(grads, lent.gradients());
    assert.deepEqual(params, plain.parameters());
    // No pass may run while the blocks are out; the model is whole after the refusal.
    assert.throws(() => lent.readBlocks(() => lent.forward(COUNT)), /lent out/);
    assert.throws(() => lent.readBlocks(() => lent.optimizerStep(hyper)), /lent out/);
    step(lent);
    step(plain);
    assert.deepEqual(lent.parameters(), plain.parameters());
    assert.deepEqual(lent.optimizerState().buffers, plain.optimizerState().buffers);
  });

  it("refuses a write that does not fit the block", () => {
    const model = built(7);
    assert.throws(() => model.writeParameters(new Float32Array(model.parameterCount + 1)), /do not fit/);
    assert.throws(() => model.writeParameters(new Float32Array(2), model.parameterCount - 1), /do not fit/);
  });

  it("reserves the diagnostics' scratch when built: diagnostics allocate no wasm memory", () => {
    const data = batch(8);
    const model = built(9);
    // alloc(0) reserves nothing and returns where the next allocation would start.
    const top = model.kernels.alloc(0);
    const memory = model.kernels.exports.memory.buffer.byteLength;
    const stats = new UnitStatistics(model);
    model.input.loadBatch(data.pixels, data.labels, data.order, 0, COUNT, NORMALIZATION);
    model.trainStep(COUNT, { lr: 0.1, momentum: 0.9 });
    logits(model, data, true);
    stats.observe(COUNT);
    diagnoseEpoch(model, stats);
    assert.equal(model.kernels.alloc(0), top);
    assert.equal(model.kernels.exports.memory.buffer.byteLength, memory);
  });
});
