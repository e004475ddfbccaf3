// Diagnostics on crafted nets whose answer is known in advance.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Mlp } from "../src/engine/mlp.js";
import { linearShapes, mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { diagnoseEpoch, maxDerivative, UnitStatistics } from "../src/train/diagnostics.js";

function craftedModel(activation: string, biases?: number[][]): Mlp {
  const config = mlpConfig({ inSize: 4, outSize: 3, hiddenSize: [6, 5], numHiddenLayers: 3, activation });
  const model = new Mlp(config, 16);
  model.initialize(Random.fromSeed(1));
  const params = model.parameters();
  // Zero weights into the hidden layers: each hidden unit's pre-activation is its bias, whatever the input.
  if (biases) {
    model.layers.slice(0, 2).forEach((layer, k) => {
      params.fill(0, layer.weight.offset, layer.bias.offset);
      params.set(biases[k], layer.bias.offset);
    });
    model.writeParameters(params);
  }
  const input = new Float32Array(16 * 4);
  Random.fromSeed(2).fillUniform(input, 3);
  model.input.setInput(input, 16, new Array(16).fill(0));
  model.forward(16);
  return model;
}

describe("unit diagnostics", () => {
  it("counts relu units that are never positive as dead", () => {
    const model = craftedModel("relu", [[-1, -1, -1, -1, -1, -1], [1, -1, 1, -1, 1]]);
    const stats = new UnitStatistics(model);
    stats.observe(16);
    const hidden = stats.hidden();
    assert.deepEqual(hidden.map((h) => h.dead_fraction), [1, 2 / 5]);
    assert.deepEqual(hidden.map((h) => h.saturated_fraction), [null, null], "relu is not a saturating activation");
  });

  it("counts sigmoid units whose derivative is below 1% of its peak as saturated", () => {
    assert.equal(maxDerivative("sigmoid", 0.01), 0.25);
    const model = craftedModel("sigmoid", [[10, -10, 0, 0.5, 20, -20], [0, 0, 0, 0, 0]]);
    const stats = new UnitStatistics(model);
    stats.observe(16);
    const hidden = stats.hidden();
    // σ'(±10) ≈ 4.5e-5 and σ'(±20) ≈ 2e-9 are below 0.0025; σ'(0) = 0.25 and σ'(0.5) ≈ 0.235 are not.
    assert.equal(hidden[0].saturated_fraction, 4 / 6);
    // Layer 2 sees the constant outputs of layer 1 through zero weights: pre-activation 0, not saturated.
    assert.equal(hidden[1].saturated_fraction, 0);
    assert.deepEqual(hidden.map((h) => h.dead_fraction), [null, null]);
  });

  it("counts saturation the same when a batch's derivatives go through the scratch in pieces", () => {
    // 300 units × 250 rows = 75,000 derivatives: two pieces of the 65,536-float scratch, cut inside a row.
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 300, numHiddenLayers: 2, activation: "sigmoid" });
    const model = new Mlp(config, 250, "sgd", { trainRows: 64 });
    assert.ok(model.diagnosticScratch.floats < 250 * 300, "the batch needs more than one piece");
    model.initialize(Random.fromSeed(4));
    const params = model.parameters();
    // Large first-layer biases of both signs: many units saturated on every row, some never.
    const layer = model.layers[0];
    for (let n = 0; n < 300; n++) params[layer.bias.offset + n] = (n % 7) * 3 - 9;
    model.writeParameters(params);
    const input = new Float32Array(250 * 784);
    Random.fromSeed(5).fillUniform(input, 1);
    model.input.setInput(input, 250, new Array(250).fill(0));
    model.forward(250, "eval");
    const stats = new UnitStatistics(model);
    stats.observe(250);
    // The same count from Z directly: σ'(z) = σ(z)(1 − σ(z)) below 1% of 0.25, in more than half the rows.
    const z = model.kernels.floats(layer.Z, 250 * 300);
    let saturated = 0;
    for (let n = 0; n < 300; n++) {
      let rows = 0;
      for (let r = 0; r < 250; r++) {
        const s = 1 / (1 + Math.exp(-z[r * 300 + n]));
        if (s * (1 - s) < 0.0025) rows++;
      }
      if (rows > 125) saturated++;
    }
    assert.ok(saturated > 50 && saturated < 250, `${saturated} saturated units: the case tests both kinds`);
    assert.equal(stats.hidden()[0].saturated_fraction, saturated / 300);
  });

  it("refuses a training step larger than the rows the model's training buffers hold", () => {
    const model = new Mlp(mlpConfig({ inSize: 4, outSize: 3, hiddenSize: 8, numHiddenLayers: 2, activation: "tanh" }), 32, "sgd", { trainRows: 8 });
    model.initialize(Random.fromSeed(1));
    model.input.setInput(new Float32Array(32 * 4), 32, new Array(32).fill(0));
    model.forward(32, "eval");
    assert.throws(() => model.forward(9, "train"), /training step of 9 rows, but this model's training buffers hold 8/);
    model.forward(8, "train");
    model.loss(8);
    assert.throws(() => model.backward(9), /trainRows/);
    assert.throws(() => new Mlp(model.config, 32, "sgd", { trainRows: 33 }), /trainRows 33/);
  });

  it("reports each layer's gradient and update norms and counts non-finite values", () => {
    const model = craftedModel("tanh");
    model.loss(16);
    model.backward(16);
    model.optimizerStep({ lr: 0.1, momentum: 0.9 });
    const stats = new UnitStatistics(model);
    const params = model.parameters();
    params[model.layers[2].weight.offset] = NaN;
    params[model.layers[2].weight.offset + 1] = Infinity;
    model.writeParameters(params);
    const result = diagnoseEpoch(model, stats);
    const grads = model.gradients();
    const velocity = model.momentum();
    const shapes = linearShapes(model.config);
    result.layers.forEach((layer, k) => {
      const { weight: { offset: weightOffset }, bias: { offset: biasOffset } } = model.layers[k];
      const norm = (a: Float32Array) => Math.sqrt(a.subarray(weightOffset, biasOffset).reduce((s, v) => s + v * v, 0));
      assert.equal(layer.layer, k + 1);
      assert.ok(Math.abs(layer.grad_norm - norm(grads)) <= 1e-6 * norm(grads), `layer ${k + 1} grad norm`);
      if (k < 2) {
        // Layer 3 holds the injected NaN and infinity. After one step from v = 0, the update is lr·g: its ratio to the weights is lr·‖g‖/‖W‖.
        assert.ok(Math.abs(layer.update_to_weight - (0.1 * norm(velocity)) / norm(params)) < 1e-9, `${layer.update_to_weight} vs ${(0.1 * norm(velocity)) / norm(params)}`);
        assert.ok(Math.abs(layer.grad_to_weight - norm(grads) / norm(params)) < 1e-9);
      }
      assert.equal(shapes[k][0] * shapes[k][1], biasOffset - weightOffset);
    });
    assert.deepEqual(result.layers.map((l) => [l.nan_count, l.inf_count]), [[0, 0], [0, 0], [1, 1]]);
  });
});
