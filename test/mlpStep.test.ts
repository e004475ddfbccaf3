// The whole small-MLP step against PyTorch (float64) for every activation: forward intermediates,
// loss, dLoss/dlogits, every gradient, and parameters and momentum after two SGD steps. rrelu trains
// with the random slopes PyTorch drew (recorded in its fixture) in place of actlab's own draws.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS } from "../src/activations.js";
import { Mlp } from "../src/engine/mlp.js";
import { mlpConfig } from "../src/model.js";
import { assertClose, readFixture, type FixtureTensor } from "./support/fixtures.js";

// The engine computes in float32 and the reference in float64: values of order 1 agree to a few
// float32 ulps (~1e-7) per operation; a few dozen chained operations stay below these bounds.
const ATOL = 2e-6;
const RTOL = 2e-5;

interface StepFixture {
  activation_params: { negative_slope?: number };
  config: { in_size: number; out_size: number; hidden_sizes: number[]; num_hidden_layers: number; param_count: number };
  sgd: { lr: number; momentum: number };
  param_names: string[];
  params_initial: Record<string, FixtureTensor>;
  inputs: FixtureTensor;
  labels: number[];
  intermediates_step1: Record<string, FixtureTensor>;
  logits: FixtureTensor;
  loss: number;
  dloss_dlogits: FixtureTensor;
  grads_step1: Record<string, FixtureTensor>;
  params_after_step1: Record<string, FixtureTensor>;
  loss_step2: number;
  grads_step2: Record<string, FixtureTensor>;
  momentum_buffer_after_step2: Record<string, FixtureTensor>;
  params_after_step2: Record<string, FixtureTensor>;
  loss_after_step2: number;
  /** rrelu's slopes as PyTorch drew them in each training forward pass, by module name (layers.1, layers.3). */
  noise_step1?: Record<string, FixtureTensor>;
  noise_step2?: Record<string, FixtureTensor>;
  noise_after_step2?: Record<string, FixtureTensor>;
}

function tensors(record: Record<string, FixtureTensor>): Map<string, number[]> {
  return new Map(Object.entries(record).map(([name, t]) => [name, t.data]));
}

/** The next training forward pass takes PyTorch's slopes, where the activation draws them. */
function usePyTorchSlopes(model: Mlp, noise: Record<string, FixtureTensor> | undefined): void {
  if (!ACTIVATIONS[model.config.activation].randomSlope) return;
  assert.ok(noise, "the fixture holds the slopes PyTorch drew");
  // The activation modules follow the Linear ones: layers.1, layers.3, ...
  model.useSlopesOnce(model.layers.slice(0, -1).map((_, index) => noise[`layers.${2 * index + 1}`].data));
}

function compareBlock(model: Mlp, block: Float32Array, expected: Record<string, FixtureTensor>, what: string): void {
  for (const tensor of model.stateDict(block)) {
    assert.deepEqual(tensor.shape, expected[tensor.name].shape, `${what} ${tensor.name} shape`);
    assertClose(tensor.data, expected[tensor.name].data, ATOL, RTOL, `${what} ${tensor.name}`);
  }
}

describe("one SGD step of the small MLP matches PyTorch", () => {
  for (const activation of ACTIVATION_NAMES) {
    it(activation, () => {
      const f = readFixture<StepFixture>(`mlp_step_${activation}.json`);
      const config = mlpConfig({
        inSize: f.config.in_size, outSize: f.config.out_size, hiddenSize: f.config.hidden_sizes,
        numHiddenLayers: f.config.num_hidden_layers, activation, leakySlope: f.activation_params.negative_slope,
      });
      const batch = f.labels.length;
      const model = new Mlp(config, batch);
      // 74, and 76 with PReLU's two learned slopes (layers.1.weight, layers.3.weight), in PyTorch's order.
      assert.equal(model.parameterCount, f.config.param_count);
      assert.deepEqual(model.stateDict(model.parameters()).map((t) => t.name), f.param_names);
      model.loadStateDict(tensors(f.params_initial));
      model.input.setInput(new Float32Array(f.inputs.data), batch, f.labels);

      // Forward: Sequential indices 0, 2, 4 are the Linear outputs, 1 and 3 the activations.
      usePyTorchSlopes(model, f.noise_step1);
      model.forward(batch);
      const k = model.kernels;
      model.layers.forEach((layer, index) => {
        const z = f.intermediates_step1[`layers.${2 * index}`];
        assertClose(k.floats(layer.Z, batch * layer.outSize), z.data, ATOL, RTOL, `layers.${2 * index} output`);
        if (index < model.layers.length - 1) {
          const a = f.intermediates_step1[`layers.${2 * index + 1}`];
          assertClose(k.floats(layer.A, batch * layer.outSize), a.data, ATOL, RTOL, `layers.${2 * index + 1} output`);
        }
      });
      const logits = model.layers[model.layers.length - 1].Z;
      assertClose(k.floats(logits, batch * 3), f.logits.data, ATOL, RTOL, "logits");

      const loss = model.loss(batch);
      assertClose([loss], [f.loss], ATOL, RTOL, "loss");
      const dLogits = k.allocFloats(batch * 3);
      k.exports.softmaxCrossEntropyBackward(dLogits, model.probs, model.input.labels, batch, 3);
      assertClose(k.floats(dLogits, batch * 3), f.dloss_dlogits.data, ATOL, RTOL, "dloss/dlogits");

      model.backward(batch);
      compareBlock(model, model.gradients(), f.grads_step1, "grad step 1");
      model.optimizerStep(f.sgd);
      compareBlock(model, model.parameters(), f.params_after_step1, "params after step 1");

      usePyTorchSlopes(model, f.noise_step2);
      const loss2 = model.trainStep(batch, f.sgd);
      assertClose([loss2], [f.loss_step2], ATOL, RTOL, "loss at step 2");
      compareBlock(model, model.gradients(), f.grads_step2, "grad step 2");
      compareBlock(model, model.momentum(), f.momentum_buffer_after_step2, "momentum after step 2");
      compareBlock(model, model.parameters(), f.params_after_step2, "params after step 2");

      usePyTorchSlopes(model, f.noise_after_step2);
      model.forward(batch);
      assertClose([model.loss(batch)], [f.loss_after_step2], ATOL, RTOL, "loss after step 2");
    });
  }
});
