// The notebook's MLP constructor: parameter counts, state_dict names, and what it refuses,
// against the PyTorch record in param_counts.json.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../src/errors.js";
import { parameterLayout, tensorView } from "../src/layout.js";
import { linearShapes, mlpConfig, parameterCount, stateDictNames } from "../src/model.js";
import { readFixture } from "./support/fixtures.js";

interface CountsFixture {
  configs: Array<{
    label: string;
    args: { in_size: number; out_size: number; hidden_size?: number | number[]; num_hidden_layers?: number };
    param_count: number;
    linear_layers_in_out: Array<[number, number]>;
    state_dict_keys: string[];
  }>;
  errors: Array<{ label: string; args: { in_size: number; out_size: number; hidden_size?: unknown; num_hidden_layers?: number; activation?: string } }>;
}

const fixture = readFixture<CountsFixture>("param_counts.json");

describe("MLP configs match PyTorch's", () => {
  for (const c of fixture.configs) {
    it(c.label, () => {
      const config = mlpConfig({
        inSize: c.args.in_size, outSize: c.args.out_size, hiddenSize: c.args.hidden_size, numHiddenLayers: c.args.num_hidden_layers,
      });
      assert.equal(parameterCount(config), c.param_count);
      assert.deepEqual(linearShapes(config), c.linear_layers_in_out);
      assert.deepEqual(stateDictNames(config), c.state_dict_keys);
    });
  }

  it("uses the notebook's defaults: width 64, 5 Linear layers, sigmoid, slope 0.01, no norm", () => {
    assert.deepEqual(mlpConfig({ inSize: 784, outSize: 10 }), {
      inSize: 784, outSize: 10, hiddenSizes: [64, 64, 64, 64], activation: "sigmoid", leakySlope: 0.01, norm: "none",
    });
  });
});

describe("MLP configs PyTorch's notebook refuses are refused with a clear message", () => {
  // JSON (and JavaScript) cannot tell 64.0 from 64: the float case is a Python type check with no
  // counterpart here, so a width of 64.0 is simply the integer 64.
  for (const e of fixture.errors.filter((e) => !(typeof e.args.hidden_size === "number" && e.label.startsWith("float")))) {
    it(e.label, () => {
      const build = () => mlpConfig({
        inSize: e.args.in_size, outSize: e.args.out_size, hiddenSize: e.args.hidden_size as number | number[] | undefined,
        numHiddenLayers: e.args.num_hidden_layers, activation: e.args.activation,
      });
      assert.throws(build, (error: unknown) => {
        assert.ok(error instanceof InputError, `InputError, got ${String(error)}`);
        if (Array.isArray(e.args.hidden_size)) assert.match(error.message, new RegExp(`exactly ${(e.args.num_hidden_layers ?? 5) - 1} widths`));
        if (e.args.activation) assert.match(error.message, /unknown activation "softmax".*valid names: sigmoid, tanh, relu/);
        if (e.args.num_hidden_layers === 1) assert.match(error.message, /numHiddenLayers must be an integer of at least 2/);
        return true;
      });
    });
  }

  it("suggests the closest activation name", () => {
    assert.throws(() => mlpConfig({ inSize: 4, outSize: 2, activation: "leaky-relu" }), /did you mean "leaky_relu"\?/);
  });
});

describe("the parameter layout", () => {
  const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: [48, 20, 12], numHiddenLayers: 4, activation: "relu" });
  const layout = parameterLayout(config);

  it("numbers the modules as nn.Sequential does, activations included", () => {
    assert.deepEqual(layout.modules.map((m) => `${m.module}:${m.kind}`), [
      "0:linear", "1:activation", "2:linear", "3:activation", "4:linear", "5:activation", "6:linear",
    ]);
    assert.deepEqual(layout.linears.map((l) => l.module), [0, 2, 4, 6]);
    assert.deepEqual(layout.modules.filter((m) => m.kind === "activation").map((m) => m.kind === "activation" && m.width), [48, 20, 12]);
  });

  it("places every tensor back to back, weight [out, in] then bias [out], under its state_dict name", () => {
    let offset = 0;
    for (const t of layout.tensors) {
      assert.equal(t.offset, offset, t.name);
      assert.equal(t.size, t.shape.reduce((n, d) => n * d, 1), t.name);
      assert.equal(t.name, `layers.${t.module}.${t.role}`);
      offset += t.size;
    }
    assert.equal(layout.size, offset);
    assert.equal(layout.size, parameterCount(config));
    assert.deepEqual(layout.tensors.map((t) => t.shape), [[48, 784], [48], [20, 48], [20], [12, 20], [12], [10, 12], [10]]);
    for (const l of layout.linears) {
      assert.deepEqual([l.weight.shape, l.bias.shape], [[l.outSize, l.inSize], [l.outSize]]);
      assert.equal(l.bias.offset, l.weight.offset + l.weight.size);
    }
  });

  it("gives a view of one tensor in a block", () => {
    const block = Float32Array.from({ length: layout.size }, (_, i) => i);
    const bias = layout.linears[1].bias;
    assert.deepEqual(Array.from(tensorView(block, bias)), Array.from({ length: 20 }, (_, i) => bias.offset + i));
  });
});
