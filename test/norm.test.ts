// --norm batch|layer: the kernels against their float64 references (odd sizes, dX written over dY),
// the references against central differences, the layout's state_dict names, the whole small MLP
// against PyTorch (train-mode forward, gradients, two SGD steps, running statistics, eval mode), a
// bit-identical resume, the ONNX export in onnxruntime, and a real `actlab train --norm batch` whose checkpoint PyTorch loads strictly.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadModelCheckpoint, loadResumeState, saveModelCheckpoint, saveResumeState } from "../src/checkpoint/modelCheckpoint.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { Kernels } from "../src/engine/kernels.js";
import { Mlp } from "../src/engine/mlp.js";
import * as reference from "../src/engine/reference.js";
import { parameterLayout } from "../src/layout.js";
import { mlpConfig } from "../src/model.js";
import { BATCH_NORM_MOMENTUM, NORM_EPS } from "../src/norms.js";
import { Random } from "../src/random.js";
import * as ort from "onnxruntime-node";
import { checkpointToOnnx, INPUT_NAME, OUTPUT_NAME } from "../src/export/onnx.js";
import { evaluate } from "../src/train/evaluate.js";
import { trainJob, type ResumeState, type TrainEvent } from "../src/train/trainer.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { runCli } from "./support/cliProcess.js";
import { assertClose, PYTHON, readFixture, REPO_ROOT, torchUnavailable, type FixtureTensor } from "./support/fixtures.js";
import { temporaryDir } from "./support/scratch.js";

const kernels = new Kernels();
const e = kernels.exports;
const random = Random.fromSeed(31);
const scratch = temporaryDir("norm");
after(() => scratch.remove());

// float32 kernels against float64: the statistics are sums of ≤ 70 terms; these bounds hold with room.
const KERNEL_ATOL = 2e-6;
const KERNEL_RTOL = 2e-5;

function put(values: ArrayLike<number>): number {
  const pointer = kernels.allocFloats(Math.max(values.length, 1));
  kernels.floats(pointer, values.length).set(values);
  return pointer;
}
function uniform(count: number, scale: number, shift = 0): Float32Array {
  const values = new Float32Array(count);
  random.fillUniform(values, scale);
  return values.map((v) => v + shift);
}
const read = (pointer: number, count: number) => kernels.floats(pointer, count).slice();

// Sizes the four-lane loops meet: partial vectors alone and after whole ones; batches of 2 and odd.
const SHAPES: Array<[number, number]> = [[2, 1], [3, 3], [5, 4], [7, 5], [4, 13], [17, 9], [64, 48], [33, 63]];

describe("batch norm and layer norm kernels against the float64 references", () => {
  for (const [batch, n] of SHAPES) {
    it(`batch norm ${batch}×${n}: training and eval forward, running statistics, backward (dX over dY)`, () => {
      // Inputs away from zero: the two-pass variance must not cancel.
      const X = uniform(batch * n, 2, 3);
      const gamma = uniform(n, 1, 1);
      const beta = uniform(n, 1);
      const runMean = uniform(n, 1);
      const runVar = uniform(n, 0.5, 1);
      const [pX, pG, pB, pRM, pRV] = [X, gamma, beta, runMean, runVar].map(put);
      const pY = kernels.allocFloats(batch * n);
      const pMean = kernels.allocFloats(n);
      const pRstd = kernels.allocFloats(n);
      const pTracked = put([7]);
      e.batchNormForward(pY, pX, pG, pB, pMean, pRstd, pRM, pRV, pTracked, batch, n, 1, BATCH_NORM_MOMENTUM, NORM_EPS);
      assert.equal(kernels.floatAt(pTracked), 8, "num_batches_tracked counts the batch");
      const want = reference.batchNormForward(X, gamma, beta, runMean, runVar, batch, n, BATCH_NORM_MOMENTUM, NORM_EPS);
      assertClose(read(pY, batch * n), want.Y, KERNEL_ATOL, KERNEL_RTOL, "Y");
      assertClose(read(pMean, n), want.mean, KERNEL_ATOL, KERNEL_RTOL, "mean");
      assertClose(read(pRstd, n), want.rstd, KERNEL_ATOL, KERNEL_RTOL, "rstd");
      assertClose(read(pRM, n), want.runningMean, KERNEL_ATOL, KERNEL_RTOL, "running_mean");
      assertClose(read(pRV, n), want.runningVar, KERNEL_ATOL, KERNEL_RTOL, "running_var");

      const dY = uniform(batch * n, 1);
      const pD = put(dY);
      const pdG = kernels.allocFloats(n);
      const pdB = kernels.allocFloats(n);
      e.batchNormBackward(pD, pdG, pdB, pD, pX, pG, pMean, pRstd, batch, n);
      const grads = reference.batchNormBackward(dY, X, gamma, batch, n, NORM_EPS);
      assertClose(read(pD, batch * n), grads.dX, KERNEL_ATOL, KERNEL_RTOL, "dX");
      assertClose(read(pdG, n), grads.dGamma, KERNEL_ATOL, KERNEL_RTOL, "dGamma");
      assertClose(read(pdB, n), grads.dBeta, KERNEL_ATOL, KERNEL_RTOL, "dBeta");

      // Eval mode reads the running statistics and writes no statistics at all.
      const runningBefore = [read(pRM, n), read(pRV, n)];
      e.batchNormForward(pY, pX, pG, pB, pMean, pRstd, pRM, pRV, pTracked, batch, n, 0, BATCH_NORM_MOMENTUM, NORM_EPS);
      assert.equal(kernels.floatAt(pTracked), 8, "eval mode counts no batch");
      const evalWant = reference.batchNormEval(X, gamma, beta, runningBefore[0], runningBefore[1], batch, n, NORM_EPS);
      assertClose(read(pY, batch * n), evalWant, KERNEL_ATOL, KERNEL_RTOL, "eval Y");
      assert.deepEqual([read(pRM, n), read(pRV, n)], runningBefore, "eval mode moved the running statistics");
    });

    it(`layer norm ${batch}×${n}: forward and backward (dX over dY)`, () => {
      const X = uniform(batch * n, 2, -3);
      const gamma = uniform(n, 1, 1);
      const beta = uniform(n, 1);
      const [pX, pG, pB] = [X, gamma, beta].map(put);
      const pY = kernels.allocFloats(batch * n);
      const pMean = kernels.allocFloats(batch);
      const pRstd = kernels.allocFloats(batch);
      e.layerNormForward(pY, pX, pG, pB, pMean, pRstd, batch, n, NORM_EPS);
      const want = reference.layerNormForward(X, gamma, beta, batch, n, NORM_EPS);
      assertClose(read(pY, batch * n), want.Y, KERNEL_ATOL, KERNEL_RTOL, "Y");
      assertClose(read(pMean, batch), want.mean, KERNEL_ATOL, KERNEL_RTOL, "mean");
      assertClose(read(pRstd, batch), want.rstd, KERNEL_ATOL, KERNEL_RTOL, "rstd");
      const dY = uniform(batch * n, 1);
      const pD = put(dY);
      const pdG = put(uniform(n, 1)); // stale values: the backward overwrites them
      const pdB = put(uniform(n, 1));
      e.layerNormBackward(pD, pdG, pdB, pD, pX, pG, pMean, pRstd, batch, n);
      const grads = reference.layerNormBackward(dY, X, gamma, batch, n, NORM_EPS);
      assertClose(read(pD, batch * n), grads.dX, KERNEL_ATOL, KERNEL_RTOL, "dX");
      assertClose(read(pdG, n), grads.dGamma, KERNEL_ATOL, KERNEL_RTOL, "dGamma");
      assertClose(read(pdB, n), grads.dBeta, KERNEL_ATOL, KERNEL_RTOL, "dBeta");
    });
  }
});

describe("the norm references' backward against central differences (float64)", () => {
  // L = Σ w ⊙ norm(X) for fixed random w: ∂L/∂X, ∂L/∂γ, ∂L/∂β by differences against the backward given dY = w.
  const cases = {
    batch: {
      forward: (X: Float64Array, g: Float64Array, b: Float64Array, rows: number, n: number) =>
        reference.batchNormForward(X, g, b, new Float64Array(n), new Float64Array(n).fill(1), rows, n, 0.1, NORM_EPS).Y,
      backward: reference.batchNormBackward,
    },
    layer: {
      forward: (X: Float64Array, g: Float64Array, b: Float64Array, rows: number, n: number) => reference.layerNormForward(X, g, b, rows, n, NORM_EPS).Y,
      backward: reference.layerNormBackward,
    },
  };
  for (const [name, { forward, backward }] of Object.entries(cases)) {
    it(name, () => {
      const [rows, n] = [5, 3];
      const f64 = (a: Float32Array) => Float64Array.from(a);
      const X = f64(uniform(rows * n, 1));
      const gamma = f64(uniform(n, 0.5, 1));
      const beta = f64(uniform(n, 1));
      const w = f64(uniform(rows * n, 1));
      const loss = () => forward(X, gamma, beta, rows, n).reduce((s, y, i) => s + y * w[i], 0);
      const grads = backward(w, X, gamma, rows, n, NORM_EPS);
      const h = 1e-6;
      for (const [values, analytic, what] of [[X, grads.dX, "dX"], [gamma, grads.dGamma, "dGamma"], [beta, grads.dBeta, "dBeta"]] as const) {
        const numeric = Array.from(values, (_, i) => {
          const saved = values[i];
          values[i] = saved + h;
          const up = loss();
          values[i] = saved - h;
          const down = loss();
          values[i] = saved;
          return (up - down) / (2 * h);
        });
        assertClose(analytic, numeric, 1e-7, 1e-6, what);
      }
    });
  }
});

describe("the parameter layout with a norm layer", () => {
  it("batch norm: PyTorch's nn.Sequential names, buffers after the trainable prefix", () => {
    const layout = parameterLayout(mlpConfig({ inSize: 6, outSize: 3, hiddenSize: [5, 4], numHiddenLayers: 3, activation: "tanh", norm: "batch" }));
    const f = readFixture<{ state_dict_names: string[] }>("norm_batch.json");
    assert.deepEqual(layout.tensors.map((t) => t.name), f.state_dict_names);
    assert.equal(layout.trainableSize, 6 * 5 + 5 + 5 + 5 + 5 * 4 + 4 + 4 + 4 + 4 * 3 + 3);
    assert.equal(layout.size, layout.trainableSize + 2 * 5 + 1 + 2 * 4 + 1);
    assert.ok(layout.tensors.every((t) => t.buffer === t.offset >= layout.trainableSize), "every buffer after every parameter");
    assert.deepEqual(layout.tensors.filter((t) => t.dtype === "I64").map((t) => [t.name, t.shape]), [["layers.1.num_batches_tracked", []], ["layers.4.num_batches_tracked", []]]);
  });
  it("without norm the names, offsets and size stay as they were", () => {
    const layout = parameterLayout(mlpConfig({ inSize: 6, outSize: 3, hiddenSize: [5, 4], numHiddenLayers: 3, activation: "tanh" }));
    assert.deepEqual(layout.tensors.map((t) => `${t.name}@${t.offset}`), [
      "layers.0.weight@0", "layers.0.bias@30", "layers.2.weight@35", "layers.2.bias@55", "layers.4.weight@59", "layers.4.bias@71",
    ]);
    assert.equal(layout.size, 74);
    assert.equal(layout.trainableSize, 74);
  });
});

// ---- the whole small MLP against PyTorch ----

const ATOL = 2e-6;
const RTOL = 2e-5;

interface NormFixture {
  norm: "batch" | "layer";
  config: { in_size: number; out_size: number; hidden_sizes: number[]; num_hidden_layers: number };
  sgd: { lr: number; momentum: number };
  params_initial: Record<string, FixtureTensor>;
  inputs: FixtureTensor;
  labels: number[];
  intermediates_step1: Record<string, FixtureTensor>;
  loss: number;
  grads_step1: Record<string, FixtureTensor>;
  params_after_step1: Record<string, FixtureTensor>;
  loss_step2: number;
  grads_step2: Record<string, FixtureTensor>;
  params_after_step2: Record<string, FixtureTensor>;
  buffers_after_step2: Record<string, FixtureTensor | number>;
  eval_logits: FixtureTensor;
}

function compareNamed(model: Mlp, block: Float32Array, expected: Record<string, FixtureTensor | number>, what: string): void {
  const present = model.stateDict(block).filter((t) => t.name in expected);
  assert.equal(present.length, Object.keys(expected).length, `${what}: every tensor of the fixture is in the state dict`);
  for (const tensor of present) {
    const want = expected[tensor.name];
    if (typeof want === "number") assert.equal(tensor.data[0], want, `${what} ${tensor.name}`);
    else assertClose(tensor.data, want.data, ATOL, RTOL, `${what} ${tensor.name}`);
  }
}

describe("the small MLP with a norm layer matches PyTorch (float64 fixtures)", () => {
  for (const norm of ["batch", "layer"] as const) {
    it(`--norm ${norm}: train-mode forward, loss, gradients, two SGD steps, running statistics, eval logits`, () => {
      const f = readFixture<NormFixture>(`norm_${norm}.json`);
      const config = mlpConfig({
        inSize: f.config.in_size, outSize: f.config.out_size, hiddenSize: f.config.hidden_sizes,
        numHiddenLayers: f.config.num_hidden_layers, activation: "tanh", norm,
      });
      const batch = f.labels.length;
      const model = new Mlp(config, batch);
      // Fresh norm modules (weight 1, bias 0, running statistics 0 and 1) under the fixture's Linears.
      model.initialize(Random.fromSeed(0));
      const initial = model.parameters();
      const layout = model.layout;
      for (const slot of layout.tensors) {
        if (slot.role === "weight" || slot.role === "bias") {
          const fromNorm = layout.norms.some((n) => n.module === slot.module);
          if (fromNorm) assert.ok(initial.subarray(slot.offset, slot.offset + slot.size).every((v) => v === (slot.role === "weight" ? 1 : 0)), `${slot.name} initial`);
          else initial.set(f.params_initial[slot.name].data, slot.offset);
        }
      }
      compareNamed(model, initial, f.params_initial, "initial");
      model.writeParameters(initial);
      model.input.setInput(new Float32Array(f.inputs.data), batch, f.labels);

      model.forward(batch, "train");
      const k = model.kernels;
      model.layers.forEach((layer, index) => {
        const first = 3 * index;
        const outputs = index < model.layers.length - 1 ? [layer.Y, layer.Z, layer.A] : [layer.Z];
        outputs.forEach((pointer, j) => {
          const want = f.intermediates_step1[`layers.${first + j}`];
          assertClose(k.floats(pointer, batch * layer.outSize), want.data, ATOL, RTOL, `layers.${first + j} output`);
        });
      });
      assertClose([model.loss(batch)], [f.loss], ATOL, RTOL, "loss");
      model.backward(batch);
      compareNamed(model, model.gradients(), f.grads_step1, "grads step 1");
      model.optimizerStep({ lr: f.sgd.lr, momentum: f.sgd.momentum });
      compareNamed(model, model.parameters(), f.params_after_step1, "params after step 1");

      const loss2 = model.trainStep(batch, { lr: f.sgd.lr, momentum: f.sgd.momentum });
      assertClose([loss2], [f.loss_step2], ATOL, RTOL, "loss step 2");
      compareNamed(model, model.gradients(), f.grads_step2, "grads step 2");
      compareNamed(model, model.parameters(), f.params_after_step2, "params after step 2");
      compareNamed(model, model.parameters(), f.buffers_after_step2, "buffers after step 2");

      const before = model.parameters();
      const logits = model.forward(batch, "eval");
      assertClose(k.floats(logits, batch * f.config.out_size), f.eval_logits.data, ATOL, RTOL, "eval logits");
      assert.deepEqual(model.parameters(), before, "an eval forward changes no parameter and no running statistic");
    });
  }

  it("batch norm refuses a training batch of one, as PyTorch does", () => {
    const model = new Mlp(mlpConfig({ inSize: 6, outSize: 3, hiddenSize: 4, numHiddenLayers: 2, activation: "relu", norm: "batch" }), 4);
    model.initialize(Random.fromSeed(1));
    model.input.setInput(new Float32Array(6), 1, [0]);
    assert.throws(() => model.forward(1, "train"), /more than one sample/);
    assert.doesNotThrow(() => model.forward(1, "eval"));
  });
});

// ---- training, resuming and PyTorch loading for real ----

const torchMissing = torchUnavailable();

describe("training with --norm", () => {
  it("an interrupted job resumes bit-identically, running statistics included (through a resumable checkpoint)", () => {
    const data = loadMnist();
    const job = {
      model: "sigmoid", seed: 3, trainLimit: 640,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "sigmoid", norm: "batch" }),
      settings: { ...DEFAULT_SETTINGS, epochs: 2 },
    };
    const finalParams = (events: TrainEvent[]) => (events.find((ev) => ev.type === "end") as Extract<TrainEvent, { type: "end" }>).params;
    const whole: TrainEvent[] = [];
    trainJob(job, data, (ev) => whole.push(ev));
    let steps = 0;
    const first: TrainEvent[] = [];
    trainJob(job, data, (ev) => first.push(ev), { shouldStop: () => ++steps === 13 });
    const stopped = first.find((ev) => ev.type === "end") as Extract<TrainEvent, { type: "end" }>;
    assert.equal(stopped.status, "interrupted");
    const file = join(scratch.fresh(), "state.safetensors");
    saveResumeState(file, job.config, stopped.resume!);
    const loaded = loadResumeState(file);
    assert.equal(loaded.config.norm, "batch");
    const rest: TrainEvent[] = [];
    trainJob(job, data, (ev) => rest.push(ev), { resume: loaded.state as ResumeState });
    const layout = parameterLayout(job.config);
    const tracked = layout.norms[0].numBatchesTracked!;
    assert.equal(finalParams(whole)[tracked.offset], 20, "num_batches_tracked counts every training batch");
    assert.deepEqual(finalParams(rest), finalParams(whole));
    // The diagnostics still read each hidden activation, whose input is now the normalised value.
    const epoch = whole.find((ev) => ev.type === "epoch") as Extract<TrainEvent, { type: "epoch" }>;
    assert.deepEqual(epoch.diagnostics.hidden.map((h) => h.layer), [1, 2]);
    for (const h of epoch.diagnostics.hidden) assert.ok(h.saturated_fraction !== null && h.saturated_fraction >= 0 && h.saturated_fraction <= 1, JSON.stringify(h));
    assert.deepEqual(epoch.diagnostics.layers.map((l) => l.layer), [1, 2, 3]);
  });

  it("--norm batch with a training batch of one sample is refused up front (exit 2, naming the flags)", async () => {
    const result = await runCli(["train", "--activations", "relu", "--norm", "batch", "--batch-size", "64", "--train-limit", "129",
      "--epochs", "1", "--workers", "1", "--logdir", join(scratch.fresh(), "run")]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--norm batch needs at least 2 samples in every training batch.*--batch-size 64 on 129 images/);
  });

  it("`actlab train --norm batch` for an epoch on a slice; PyTorch loads its checkpoint strictly", { skip: torchMissing }, async () => {
    const dir = join(scratch.fresh(), "run");
    const result = await runCli(["train", "--activations", "relu", "--norm", "batch", "--layers", "3", "--hidden", "32", "--epochs", "1",
      "--train-limit", "2000", "--seeds", "0", "--workers", "1", "--logdir", dir]);
    assert.equal(result.code, 0, result.stderr);
    const file = join(dir, "relu.safetensors");
    assert.ok(existsSync(file), "the run wrote its checkpoint");
    const { tensors, metadata } = readSafetensors(file);
    assert.equal(metadata.norm, "batch");
    const tracked = tensors.get("layers.1.num_batches_tracked")!;
    assert.equal(tracked.dtype, "I64");
    assert.deepEqual(Array.from(tracked.data as BigInt64Array), [32n]);
    const checkpoint = loadModelCheckpoint(file);
    assert.equal(checkpoint.config.norm, "batch");
    const run = spawnSync(PYTHON, [join(REPO_ROOT, "scripts", "pytorch_load_check.py"), file], { encoding: "utf8" });
    assert.equal(run.status, 0, `pytorch_load_check.py failed:\n${run.stderr}`);
    const line = JSON.parse(run.stdout.trim().split("\n")[0]);
    assert.equal(line.config.norm, "batch");
    // PyTorch's eval-mode accuracy (running statistics) is the one actlab logged for the epoch.
    const metrics = (await import("node:fs")).readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const logged = metrics.find((m) => m.model === "relu").test_acc as number;
    assert.ok(Math.abs(line.test_acc - logged) <= 0.002, `PyTorch ${line.test_acc} against actlab's ${logged}`);
    assert.ok(logged > 0.5, `one epoch with batch norm learns (chance: 0.1) (${logged})`);
  });
});

describe("checkpoints with a norm layer", () => {
  const config = mlpConfig({ inSize: 6, outSize: 3, hiddenSize: [5, 4], numHiddenLayers: 3, activation: "tanh", norm: "batch" });
  const model = new Mlp(config, 4);
  model.initialize(Random.fromSeed(2));
  const params = model.parameters();
  params[model.layout.norms[1].numBatchesTracked!.offset] = 1234;

  it("round-trip: every tensor, num_batches_tracked as int64, norm in the metadata", () => {
    const file = join(scratch.fresh(), "m.safetensors");
    saveModelCheckpoint(file, config, params);
    const { tensors, metadata } = readSafetensors(file);
    assert.equal(metadata.norm, "batch");
    assert.deepEqual(Array.from(tensors.get("layers.4.num_batches_tracked")!.data as BigInt64Array), [1234n]);
    const loaded = loadModelCheckpoint(file);
    assert.deepEqual(loaded.config, config);
    assert.deepEqual(loaded.params, params);
  });

  it("an unknown norm, or a norm whose tensors are missing, is an InputError naming the file", async () => {
    const { InputError } = await import("../src/errors.js");
    const { writeSafetensorsSync } = await import("../src/checkpoint/safetensors.js");
    const dir = scratch.fresh();
    const file = join(dir, "m.safetensors");
    saveModelCheckpoint(file, config, params);
    const { tensors, metadata } = readSafetensors(file);
    const odd = join(dir, "odd.safetensors");
    writeSafetensorsSync(odd, [...tensors.values()], { ...metadata, norm: "group" });
    assert.throws(() => loadModelCheckpoint(odd), (error: unknown) => error instanceof InputError && /odd\.safetensors.*unknown norm "group"/.test(error.message));
    const missing = join(dir, "missing.safetensors");
    writeSafetensorsSync(missing, [...tensors.values()].filter((t) => t.name !== "layers.1.running_var"), metadata);
    assert.throws(() => loadModelCheckpoint(missing), (error: unknown) => error instanceof InputError && /missing\.safetensors: metadata declares a net of 112 parameters but the file holds 107 values/.test(error.message));
  });
});

describe("`actlab params --norm`", () => {
  for (const norm of ["batch", "layer"] as const) {
    it(`${norm}: counts what PyTorch's parameters() holds, running statistics left out`, async () => {
      const result = await runCli(["params", "--in", "6", "--out", "3", "--layers", "3", "--hidden", "5,4", "--norm", norm, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const f = readFixture<NormFixture>(`norm_${norm}.json`);
      const torchCount = Object.values(f.params_initial).reduce((n, t) => n + t.data.length, 0);
      const printed = JSON.parse(result.stdout) as { total: number; layers: Array<{ name: string }> };
      assert.equal(printed.total, torchCount);
      assert.deepEqual(printed.layers.map((l) => l.name), ["layers.0", "layers.1", "layers.3", "layers.4", "layers.6"]);
    });
  }
});

describe("PyTorch loads a --norm layer checkpoint strictly", { skip: torchMissing }, () => {
  it("layer norm: strict load, and PyTorch's accuracy is actlab's", () => {
    const data = loadMnist();
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "gelu", norm: "layer" });
    let params: Float32Array | undefined;
    trainJob({ model: "gelu", seed: 0, trainLimit: 1000, config, settings: { ...DEFAULT_SETTINGS, epochs: 1 } }, data, (ev) => {
      if (ev.type === "end") params = ev.params;
    });
    const file = join(scratch.fresh(), "gelu.safetensors");
    saveModelCheckpoint(file, config, params!);
    const model = new Mlp(config, 256);
    model.writeParameters(params!);
    const ours = evaluate(model, data.test, 256, DEFAULT_SETTINGS);
    const run = spawnSync(PYTHON, [join(REPO_ROOT, "scripts", "pytorch_load_check.py"), file], { encoding: "utf8" });
    assert.equal(run.status, 0, `pytorch_load_check.py failed:\n${run.stderr}`);
    const line = JSON.parse(run.stdout.trim());
    assert.equal(line.config.norm, "layer");
    assert.ok(Math.abs(line.correct - ours.correct) <= 5, `PyTorch ${line.correct} against actlab's ${ours.correct}`);
  });
});

describe("ONNX export with a norm layer", () => {
  for (const norm of ["batch", "layer"] as const) {
    it(`--norm ${norm}: onnxruntime gives actlab's eval-mode logits on 2,000 test images`, async () => {
      const data = loadMnist();
      const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "tanh", norm });
      let params: Float32Array | undefined;
      trainJob({ model: "tanh", seed: 0, trainLimit: 1000, config, settings: { ...DEFAULT_SETTINGS, epochs: 1 } }, data, (ev) => {
        if (ev.type === "end") params = ev.params;
      });
      const count = 2000;
      const split = { ...data.test, count, images: data.test.images.subarray(0, count * 784), labels: data.test.labels.subarray(0, count) };
      const model = new Mlp(config, 250);
      model.writeParameters(params!);
      const ours = new Float32Array(count * 10);
      let offset = 0;
      evaluate(model, split, 250, DEFAULT_SETTINGS, (m, n) => {
        ours.set(m.kernels.floats(m.layers[m.layers.length - 1].Z, n * 10), offset);
        offset += n * 10;
      });
      const bytes = checkpointToOnnx({ config, params: params!, metadata: { activation: "tanh", norm } });
      const f = Math.fround;
      const table = Float32Array.from({ length: 256 }, (_, u) => f(f(f(u) / 255 - f(DEFAULT_SETTINGS.mean)) / f(DEFAULT_SETTINGS.std)));
      const input = Float32Array.from(split.images, (u) => table[u]);
      const session = await ort.InferenceSession.create(bytes);
      const theirs = (await session.run({ [INPUT_NAME]: new ort.Tensor("float32", input, [count, 784]) }))[OUTPUT_NAME].data as Float32Array;
      await session.release();
      // Both float32, different summation orders: the ONNX tests' tolerance.
      assertClose(theirs, ours, 1e-4, 0, `${norm} logits`);
    });
  }
});
