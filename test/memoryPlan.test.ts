// The memory plan: a model allocates exactly what mlpMemoryPlan placed (checked through the kernels'
// bump pointer), so the size checked before a run is the size allocated; a net past wasm32's 4 GiB
// is refused by that check, with exit 2 and no folder made, instead of crashing in memory.grow.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { kernelMemoryLimits } from "../src/engine/kernels.js";
import { memoryProblem, Mlp, mlpMemoryPlan } from "../src/engine/mlp.js";
import { InputError } from "../src/errors.js";
import { mlpConfig, type MlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { runExperiments } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { runCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("memory-plan");
after(() => scratch.remove());

const GiB = 1024 ** 3;

// Dense and sparse first layers (width a multiple of 4 or not), kept lists (inputs of 256 or more)
// or not, one hidden layer or many, mixed widths.
const CONFIGS: Array<[string, MlpConfig, number]> = [
  ["notebook shallow, batch 64", mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 64, numHiddenLayers: 5, activation: "sigmoid" }), 64],
  ["notebook deeper, batch 1000", mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 48, numHiddenLayers: 10, activation: "relu" }), 1000],
  ["no sparse path (width 3)", mlpConfig({ inSize: 10, outSize: 2, hiddenSize: 3, numHiddenLayers: 2, activation: "tanh" }), 5],
  ["small inputs, sparse without kept lists", mlpConfig({ inSize: 100, outSize: 7, hiddenSize: [12, 5], numHiddenLayers: 3, activation: "gelu" }), 33],
  ["wide and odd", mlpConfig({ inSize: 300, outSize: 5, hiddenSize: [1024, 7, 9], numHiddenLayers: 4, activation: "leaky_relu" }), 257],
  ["rrelu's slope buffers, after batch norm", mlpConfig({ inSize: 784, outSize: 10, hiddenSize: [32, 13], numHiddenLayers: 3, activation: "rrelu", norm: "batch" }), 17],
];

describe("a model's memory plan", () => {
  for (const [name, config, batch] of CONFIGS) {
    test(`is exactly what the model allocates: ${name}`, () => {
      const { plan } = mlpMemoryPlan(config, batch);
      const model = new Mlp(config, batch);
      assert.equal(model.kernels.allocated, plan.end, "the bump pointer after construction is the plan's end");
      assert.ok(model.kernels.exports.memory.buffer.byteLength >= plan.end);
      // Regions in order, disjoint, 64-byte aligned, inside the plan.
      let previousEnd = plan.base;
      for (const region of plan.regions) {
        assert.ok(region.offset >= previousEnd && region.offset % 64 === 0, `${region.name} at ${region.offset}`);
        previousEnd = region.offset + region.bytes;
      }
      assert.ok(previousEnd <= plan.end);
      // Training steps, evaluation and diagnostics allocate nothing beyond the plan.
      model.initialize(Random.fromSeed(1));
      const count = Math.min(batch, 4);
      const x = Float32Array.from({ length: count * config.inSize }, (_, i) => Math.sin(i));
      model.input.setInput(x, count, Array.from({ length: count }, (_, i) => i % config.outSize));
      model.trainStep(count, { lr: 0.01, momentum: 0.9 });
      model.correct(count);
      assert.equal(model.kernels.allocated, plan.end, "nothing allocated after construction");
    });
  }
});

describe("the memory limit", () => {
  test("is wasm32's 4 GiB (the kernels' memory declares no lower maximum), less their static data", () => {
    const { maxBytes, heapBase } = kernelMemoryLimits();
    assert.equal(maxBytes, 4 * GiB);
    assert.ok(heapBase > 0 && heapBase < 1024 * 1024);
  });

  test("accepts a model just under it and refuses one just over it, naming both sizes (nothing is allocated)", () => {
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 2048, numHiddenLayers: 5, activation: "relu" });
    // The largest batch that fits, by bisection on the plan alone.
    let low = 1;
    let high = 1 << 20;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (mlpMemoryPlan(config, mid).plan.end <= kernelMemoryLimits().maxBytes) low = mid;
      else high = mid;
    }
    assert.ok(mlpMemoryPlan(config, low).plan.end > 3.9 * GiB, "the largest accepted model is close to the limit");
    assert.equal(memoryProblem(config, low), undefined);
    const problem = memoryProblem(config, low + 1);
    assert.ok(problem);
    assert.match(problem, /4\.00 GiB \(4294967296 bytes, the wasm32 limit\)/);
    assert.match(problem, new RegExp(`batches of ${low + 1} needs 4\\.00 GiB \\(${mlpMemoryPlan(config, low + 1).plan.end - mlpMemoryPlan(config, 1).plan.base} bytes\\)`));
  });

  test("is checked by the model itself before any memory is allocated", () => {
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 100_000, numHiddenLayers: 3, activation: "relu" });
    assert.throws(() => new Mlp(config, 64), (error: unknown) => error instanceof InputError && /needs 1\d\d\.\d GiB/.test(error.message));
  });

  test("is checked by runExperiments before a run folder is made", async () => {
    const dir = join(scratch.path, "library");
    await assert.rejects(runExperiments([{
      name: "huge", dir, seeds: [0], settings: { ...DEFAULT_SETTINGS, batchSize: 60_000 },
      models: [{ model: "relu", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 2048, numHiddenLayers: 5, activation: "relu" }) }],
    }], { workers: 0 }), (error: unknown) => error instanceof InputError && /model relu: .* needs 5\.\d\d GiB/.test(error.message));
    assert.equal(existsSync(dir), false);
  });

  for (const args of [["--hidden", "100000", "--layers", "3"], ["--batch-size", "60000", "--hidden", "2048"]]) {
    test(`refuses train ${args.join(" ")} with exit 2, naming the limit and the size, and makes no folder`, async () => {
      const dir = join(scratch.path, `cli-${args[1]}`);
      const result = await runCli(["train", ...args, "--epochs", "1", "--workers", "1", "--logdir", dir]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /needs \d+\.\d+ GiB \(\d+ bytes\) of kernel memory, but the kernels' WebAssembly memory holds at most 4\.00 GiB/);
      assert.doesNotMatch(result.stderr, /RangeError/);
      assert.equal(existsSync(dir), false);
    });
  }
});
