// The engine's float32 gradients against central finite differences of an independent float64
// reference, for every activation, on a net whose sizes exercise every GEMM path (full 4×8
// tiles, 4×4 tiles, row and column tails). rrelu is checked in both modes: in training with the
// slopes the engine drew (the reference reads them), in eval mode with its mean slope.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS } from "../src/activations.js";
import { Mlp, type ForwardMode } from "../src/engine/mlp.js";
import { linearShapes, mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { assertClose } from "./support/fixtures.js";
import { referenceActivation, referenceLoss } from "./support/referenceMlp.js";

const H = 1e-5;
// Central differences in float64 are exact to ~1e-10 here; the tolerance is the engine's float32.
const ATOL = 3e-6;
const RTOL = 1e-4;
// A pre-activation closer than this to a kink would make the difference quotient straddle it.
const KINK_MARGIN = 1e-3;

describe("gradients agree with central finite differences", () => {
  for (const activation of ACTIVATION_NAMES) {
    const modes: ForwardMode[] = ACTIVATIONS[activation].randomSlope ? ["train", "eval"] : ["train"];
    for (const mode of modes) it(modes.length > 1 ? `${activation} (${mode})` : activation, () => {
      const slope = 0.05;
      const config = mlpConfig({ inSize: 20, outSize: 10, hiddenSize: [16, 12], numHiddenLayers: 3, activation, leakySlope: slope });
      const batch = 9;
      const random = Random.fromSeed(7);
      const model = new Mlp(config, batch);
      model.initialize(random);
      // A learned slope (PReLU's) set to the same 0.05 through the parameter block, not its initial 0.25.
      const params = model.parameters();
      for (const module of model.layout.modules) if (module.kind === "activation" && module.weight) params[module.weight.offset] = slope;
      model.writeParameters(params);
      const x = new Float32Array(batch * config.inSize);
      random.fillUniform(x, 2);
      const labels = Array.from({ length: batch }, () => random.nextInt(0, 9));
      model.input.setInput(x, batch, labels);
      model.forward(batch, mode);
      model.loss(batch);
      model.backward(batch);
      const engineGradients = model.gradients().slice();

      const net = {
        shapes: linearShapes(config),
        params: Float64Array.from(model.parameters()),
        activation: referenceActivation(activation, slope),
        learnedSlope: ACTIVATIONS[activation].learned === true,
        slopes: ACTIVATIONS[activation].randomSlope && mode === "train"
          ? model.layers.slice(0, -1).map((_, index) => model.drawnSlopes(index, batch)) : undefined,
      };
      const x64 = Float64Array.from(x);
      // Where the derivative jumps, as the catalogue says; elsewhere it is continuous.
      const kinks = ACTIVATIONS[activation].reference.kinks ?? [];
      const { preactivations } = referenceLoss(net, x64, labels);
      const margin = Math.min(Infinity, ...preactivations.flatMap((z) => kinks.map((k) => Math.abs(z - k))));
      assert.ok(margin > KINK_MARGIN, `inputs keep away from the kinks (closest ${margin})`);

      const numeric = new Float64Array(net.params.length);
      for (let p = 0; p < net.params.length; p++) {
        const saved = net.params[p];
        net.params[p] = saved + H;
        const up = referenceLoss(net, x64, labels).loss;
        net.params[p] = saved - H;
        const down = referenceLoss(net, x64, labels).loss;
        net.params[p] = saved;
        numeric[p] = (up - down) / (2 * H);
      }
      assertClose(engineGradients, numeric, ATOL, RTOL, `${activation} gradient`);
    });
  }
});
