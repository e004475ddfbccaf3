// The optimisers (src/optim.ts): the SIMD kernels against the float64 references on odd sizes, the
// engine's steps against PyTorch's (test/fixtures/optim_<name>.json), the checks of their knobs, and
// resume with an optimiser's state bit-identical to the run that was never stopped.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it, test } from "node:test";
import { loadResumeState } from "../src/checkpoint/modelCheckpoint.js";
import { writeSafetensorsSync } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { Mlp } from "../src/engine/mlp.js";
import { Kernels } from "../src/engine/kernels.js";
import { optimizerStep } from "../src/engine/reference.js";
import { InputError } from "../src/errors.js";
import { mlpConfig } from "../src/model.js";
import {
  hyperProblems, KNOBS as KNOBS_BY_NAME, OPTIMIZER_NAMES, type Knob, OPTIMIZERS, optimizerStateFloats, resolveHyper, type OptimizerHyper, type OptimizerName,
} from "../src/optim.js";
import { runExperiments, type ExperimentSpec } from "../src/train/experiment.js";
import { StopFlag } from "../src/train/pool.js";
import { loadSavedRun } from "../src/train/runConfig.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { toTrainingFlags, type ParsedTrainingFlags } from "../src/cli/commands/trainingFlags.js";
import { TRAINING } from "../src/cli/flagTable.js";
import { assertClose, readFixture, REPO_ROOT, type FixtureTensor } from "./support/fixtures.js";
import { seededRandom, temporaryDir } from "./support/scratch.js";

/** Knobs away from every default, weight decay on: each path of each kernel runs. */
const KNOBS: Record<OptimizerName, OptimizerHyper> = {
  sgd: resolveHyper("sgd", { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
  nesterov: resolveHyper("nesterov", { lr: 0.1, momentum: 0.8, weightDecay: 0.01 }),
  adam: resolveHyper("adam", { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.01 }),
  adamw: resolveHyper("adamw", { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }),
  rmsprop: resolveHyper("rmsprop", { lr: 0.01, momentum: 0.9, eps: 1e-6, weightDecay: 0.01 }),
};

describe("each optimiser's kernel matches its float64 reference on odd sizes", () => {
  const random = seededRandom(11);
  for (const name of OPTIMIZER_NAMES) {
    it(name, () => {
      for (const n of [1, 2, 3, 5, 7, 13, 64, 1001]) {
        const k = new Kernels();
        const blocks = 2 + OPTIMIZERS[name].state.length;
        const [params, grads, ...state] = Array.from({ length: blocks }, () => k.allocFloats(n));
        k.floats(params, n).set(Array.from({ length: n }, () => random() * 2 - 1));
        for (let t = 1; t <= 3; t++) {
          // Some exact zeros among the gradients: Adam and RMSprop then divide 0 by eps.
          k.floats(grads, n).set(Array.from({ length: n }, (_, i) => (i % 5 === 4 ? 0 : (random() * 2 - 1) * 10 ** (-3 * random()))));
          // The reference starts from the kernel's own float32 state each step, so each step is held alone.
          const before = [params, grads, ...state].map((pointer) => k.floats(pointer, n).slice());
          OPTIMIZERS[name].step(k.exports, { params, grads, state, n }, KNOBS[name], t);
          const expected = optimizerStep(name, before[0], before[1], before.slice(2), KNOBS[name], t);
          // A few float32 roundings per element: a few ulps of the result, or of the step for values near 0.
          assertClose(k.floats(params, n), expected.params, 1e-7, 1e-6, `${name} n=${n} t=${t} params`);
          // A state update adds two terms that may cancel (μ·b against g/(√s + eps) ~ ±10 in RMSprop): a few
          // ulps of the terms, bounded here by 1e-6 of the block's largest value.
          state.forEach((pointer, i) => {
            const largest = expected.state[i].reduce((a, v) => Math.max(a, Math.abs(v)), 0);
            assertClose(k.floats(pointer, n), expected.state[i], 1e-6 * largest, 1e-6, `${name} n=${n} t=${t} ${OPTIMIZERS[name].state[i]}`);
          });
        }
      }
    });
  }
});

test("sgd without weight decay is the old kernel's arithmetic to the bit: v = μ·v + g, p = p − lr·v in float32", () => {
  const random = seededRandom(3);
  const n = 1003;
  const k = new Kernels();
  const [params, grads, velocity] = [k.allocFloats(n), k.allocFloats(n), k.allocFloats(n)];
  const p = Float32Array.from({ length: n }, () => random() - 0.5);
  const v = new Float32Array(n);
  k.floats(params, n).set(p);
  const f = Math.fround;
  const [lr, mu] = [f(0.01), f(0.9)];
  for (let t = 1; t <= 3; t++) {
    const g = Float32Array.from({ length: n }, () => random() - 0.5);
    k.floats(grads, n).set(g);
    OPTIMIZERS.sgd.step(k.exports, { params, grads, state: [velocity], n }, resolveHyper("sgd"), t);
    for (let i = 0; i < n; i++) {
      v[i] = f(f(mu * v[i]) + g[i]);
      p[i] = f(p[i] - f(lr * v[i]));
    }
    assert.deepEqual(k.floats(velocity, n), v, `momentum after step ${t}`);
    assert.deepEqual(k.floats(params, n), p, `params after step ${t}`);
  }
});

interface OptimFixture {
  optimizer: OptimizerName;
  knobs: Partial<OptimizerHyper>;
  activation: string;
  config: { in_size: number; out_size: number; hidden_sizes: number[]; num_hidden_layers: number };
  params_initial: Record<string, FixtureTensor>;
  inputs: FixtureTensor;
  labels: number[];
  steps: Array<{
    loss: number;
    grads: Record<string, FixtureTensor>;
    params: Record<string, FixtureTensor>;
    state: Record<string, Record<string, FixtureTensor>>;
    step?: number;
  }>;
}

// The engine computes in float32, PyTorch here in float64. Values of order 1 agree to a few float32 ulps
// per operation (mlpStep.test.ts's bounds). The state blocks hold values far below 1 (Adam's exp_avg_sq is
// of order g² ~ 1e-4), so they are held to the same relative bound with an absolute floor scaled to the
// block's largest value: a bare 2e-6 would let any exp_avg_sq pass.
const ATOL = 2e-6;
const RTOL = 2e-5;

describe("three steps of each optimiser on the small MLP match PyTorch (float64)", () => {
  for (const name of OPTIMIZER_NAMES) {
    it(name, () => {
      const f = readFixture<OptimFixture>(`optim_${name}.json`);
      assert.equal(f.optimizer, name);
      const config = mlpConfig({
        inSize: f.config.in_size, outSize: f.config.out_size, hiddenSize: f.config.hidden_sizes,
        numHiddenLayers: f.config.num_hidden_layers, activation: f.activation,
      });
      const batch = f.labels.length;
      const model = new Mlp(config, batch, name);
      model.loadStateDict(new Map(Object.entries(f.params_initial).map(([key, t]) => [key, t.data])));
      model.input.setInput(new Float32Array(f.inputs.data), batch, f.labels);
      const knobs = { ...f.knobs };
      // Before the first step there is no update: zeros, over whatever the buffer held.
      assert.deepEqual(model.lastUpdate(0, 3, new Float64Array(3).fill(NaN)), new Float64Array(3));
      f.steps.forEach((expected, index) => {
        const what = `${name} step ${index + 1}`;
        const before = model.parameters();
        const loss = model.trainStep(batch, knobs);
        // The diagnostics' update: the step just taken, to float32 rounding of the parameters (~1e-7).
        const after = model.parameters();
        const taken = Float64Array.from(before, (p, i) => p - after[i]);
        const update = model.lastUpdate();
        assertClose(update, taken, 2e-7, 1e-3, `${what} lastUpdate`);
        // In pieces into one reused buffer (the diagnostics' way), whose stale tail is not returned.
        const piece = new Float64Array(7).fill(NaN);
        for (let from = 0; from < update.length; from += piece.length) {
          const count = Math.min(piece.length, update.length - from);
          assert.deepEqual(model.lastUpdate(from, count, piece), update.subarray(from, from + count), `${what} lastUpdate from ${from}`);
        }
        assert.throws(() => model.lastUpdate(0, 8, piece), /8 floats asked into 7/);
        assertClose([loss], [expected.loss], ATOL, RTOL, `${what} loss`);
        for (const tensor of model.stateDict(model.gradients())) assertClose(tensor.data, expected.grads[tensor.name].data, ATOL, RTOL, `${what} grad ${tensor.name}`);
        for (const tensor of model.stateDict()) assertClose(tensor.data, expected.params[tensor.name].data, ATOL, RTOL, `${what} ${tensor.name}`);
        const state = model.optimizerState();
        assert.equal(state.step, index + 1);
        if (expected.step !== undefined) assert.equal(state.step, expected.step);
        // Every state entry PyTorch keeps is compared (RMSprop at momentum 0 would have no momentum_buffer).
        assert.deepEqual(Object.keys(expected.state), [...OPTIMIZERS[name].state], `${what}: state names`);
        OPTIMIZERS[name].state.forEach((stateName, i) => {
          const tensors = model.stateDict(state.buffers[i]);
          const largest = Math.max(...tensors.flatMap((t) => expected.state[stateName][t.name].data.map(Math.abs)));
          for (const tensor of tensors) {
            assertClose(tensor.data, expected.state[stateName][tensor.name].data, ATOL * largest, RTOL, `${what} ${stateName}.${tensor.name}`);
          }
        });
      });
    });
  }
});

describe("the optimiser table", () => {
  test("state size, knobs and PyTorch's defaults", () => {
    assert.equal(optimizerStateFloats("sgd", 100), 100);
    assert.equal(optimizerStateFloats("adam", 100), 200);
    assert.equal(new Mlp(mlpConfig({ inSize: 6, outSize: 3, hiddenSize: 5, numHiddenLayers: 2, activation: "relu" }), 4, "adamw").optimizerState().buffers.length, 2);
    assert.deepEqual(resolveHyper("adamw"), { lr: 0.001, momentum: 0, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 });
    assert.equal(resolveHyper("rmsprop").momentum, 0);
    assert.equal(resolveHyper("sgd").momentum, 0.9);
  });

  test("the README's table has every optimiser with its PyTorch call, defaults and state", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    for (const name of OPTIMIZER_NAMES) {
      const o = OPTIMIZERS[name];
      const defaults = Object.entries(o.defaults).map(([k, v]) => `\`${KNOBS_BY_NAME[k as Knob].flag} ${Array.isArray(v) ? v.join(",") : v}\``).join(", ");
      assert.ok(readme.includes(`| \`${name}\` | \`${o.torch}\` | ${defaults} | ${o.state.join(", ")} |`), `README row for ${name}`);
    }
  });

  /** The training flags as parsed, with only `typed` given (the knobs have no flag defaults). */
  function flags(typed: Partial<ParsedTrainingFlags>): ParsedTrainingFlags {
    const defaults = Object.fromEntries(Object.entries(TRAINING).map(([key, f]) => [key, f.default]));
    return { ...defaults, ...typed } as ParsedTrainingFlags;
  }

  test("nonsense is refused with the flag named (InputError, exit 2)", () => {
    const refusals: Array<[Partial<ParsedTrainingFlags>, RegExp]> = [
      [{ optimizer: "sgd", betas: [0.9, 0.99] }, /--betas has no meaning for --optimizer sgd/],
      [{ optimizer: "nesterov", eps: 1e-6 }, /--eps has no meaning for --optimizer nesterov/],
      [{ optimizer: "adam", momentum: 0.9 }, /--momentum has no meaning for --optimizer adam/],
      [{ optimizer: "rmsprop", betas: [0.9, 0.99] }, /--betas has no meaning for --optimizer rmsprop/],
      [{ optimizer: "nesterov", momentum: 0 }, /nesterov needs --momentum > 0/],
    ];
    for (const [typed, message] of refusals) {
      assert.throws(() => toTrainingFlags(flags(typed)), (error) => error instanceof InputError && message.test(error.message), JSON.stringify(typed));
    }
    assert.match(hyperProblems("adam", { ...resolveHyper("adam"), betas: [0.9, 1] }).join(), /--betas must be two numbers in \[0, 1\)/);
    assert.match(hyperProblems("adam", { ...resolveHyper("adam"), eps: 0 }).join(), /--eps must be a positive/);
    assert.match(hyperProblems("sgd", { ...resolveHyper("sgd"), weightDecay: -1 }).join(), /--weight-decay must be/);
    // The flag parsers refuse out-of-range values before that.
    for (const [key, raw] of [["betas", "0.9,1"], ["betas", "0.9"], ["betas", "-0.1,0.5"], ["eps", "0"], ["weightDecay", "-0.01"], ["optimizer", "lbfgs"]] as const) {
      assert.equal(TRAINING[key].parser(TRAINING[key].name).safeParse(raw).success, false, `${key} ${raw}`);
    }
  });

  test("the knobs typed become settings; those not typed take the optimiser's defaults", () => {
    const adamw = toTrainingFlags(flags({ optimizer: "adamw", betas: [0.8, 0.9] })).settings;
    assert.deepEqual([adamw.optimizer, adamw.lr, adamw.weightDecay, adamw.betas, adamw.eps], ["adamw", 0.001, 0.01, [0.8, 0.9], 1e-8]);
    const sgd = toTrainingFlags(flags({})).settings;
    assert.deepEqual(sgd, DEFAULT_SETTINGS);
  });
});

describe("resume keeps every optimiser's state (library, one thread)", () => {
  const scratch = temporaryDir("optimizers");
  after(() => scratch.remove());

  test("files from before the optimiser table read as SGD: config.json without its fields, a resume state with momentum_buffer only", () => {
    const dir = scratch.fresh();
    const settings = { lr: 0.01, momentum: 0.9, batchSize: 64, testBatchSize: 256, epochs: 1, mean: 0.1307, std: 0.3081 };
    const model = { model: "relu", config: { inSize: 6, outSize: 3, hiddenSizes: [5], activation: "relu", leakySlope: 0.01 } };
    writeFileSync(join(dir, "config.json"), JSON.stringify({ name: "old", seeds: [0], models: [model], settings }));
    assert.deepEqual(loadSavedRun(dir).settings, { ...DEFAULT_SETTINGS, epochs: 1 });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ name: "bad", seeds: [0], models: [model], settings: { ...settings, optimizer: "nesterov", momentum: 0 } }));
    assert.throws(() => loadSavedRun(dir), /nesterov needs --momentum > 0/);

    const config = mlpConfig({ inSize: 6, outSize: 3, hiddenSize: 5, numHiddenLayers: 2, activation: "relu" });
    const net = new Mlp(config, 1);
    const params = Float32Array.from({ length: net.parameterCount }, (_, i) => i / 100);
    const momentum = Float32Array.from({ length: net.parameterCount }, (_, i) => -i);
    const position = { epoch: 1, step: 2, shuffleStateAtEpochStart: [1, 2, 3, 4], lossSum: 0.5, secondsSoFar: 1, history: [] };
    const path = join(dir, "old.safetensors");
    writeSafetensorsSync(path, [
      ...net.stateDict(params).map((t) => ({ ...t, dtype: "F32" as const })),
      ...net.stateDict(momentum).map((t) => ({ ...t, name: `momentum_buffer.${t.name}`, dtype: "F32" as const })),
    ], { format: "actlab-mlp/1", in_size: "6", out_size: "3", hidden_sizes: "[5]", num_hidden_layers: "2", activation: "relu", leaky_slope: "0.01", resume: JSON.stringify(position) });
    const { state } = loadResumeState(path);
    assert.deepEqual([state.optimizer.name, state.optimizer.step, state.optimizer.buffers], ["sgd", 0, [momentum]]);
    assert.deepEqual(state.params, params);
  });
  const data = loadMnist();
  for (const optimizer of ["adam", "rmsprop"] as const) {
    test(`${optimizer}: stopped mid-epoch and resumed, the weights are those of the uninterrupted run`, async () => {
      const spec = (dir: string): ExperimentSpec => ({
        name: optimizer, dir, seeds: [5], trainLimit: 600,
        settings: { ...DEFAULT_SETTINGS, ...resolveHyper(optimizer, { momentum: optimizer === "rmsprop" ? 0.5 : undefined }), optimizer, epochs: 2, batchSize: 50 },
        models: [{ model: "tanh", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "tanh" }) }],
      });
      const whole = join(scratch.path, `${optimizer}-whole`);
      const [uninterrupted] = await runExperiments([spec(whole)], { data, workers: 0 });
      assert.equal(uninterrupted.status, "finished");

      const dir = join(scratch.path, `${optimizer}-stopped`);
      const stopFlag = new StopFlag();
      let seen = 0;
      const [first] = await runExperiments([spec(dir)], {
        data, workers: 0, stopFlag, stepEventIntervalMs: 0,
        onEvent: (_, event) => { if (event.type === "step" && ++seen === 17) stopFlag.raise(); },
      });
      assert.equal(first.status, "interrupted");
      const { state } = loadResumeState(join(dir, "resume", "tanh.safetensors"));
      assert.deepEqual([state.epoch, state.step, state.optimizer.name, state.optimizer.step], [1, 5, optimizer, 17]);
      assert.equal(state.optimizer.buffers.length, 2);
      assert.ok(state.optimizer.buffers.every((b) => b.some((v) => v !== 0)), "the saved state blocks hold the optimiser's state");
      const [second] = await runExperiments([spec(dir)], { data, workers: 0, resume: true });
      assert.equal(second.status, "finished");
      assert.deepEqual(readFileSync(join(dir, "tanh.safetensors")), readFileSync(join(whole, "tanh.safetensors")), `${optimizer}: weights after resume`);
    });
  }
});
