// One model on several threads (threadTeam.ts): the wide layers' products are cut into bands of
// rows, one per thread, over one shared memory. The result must be the same bits as on one thread,
// for any number of threads, every kind of layer and optimiser; a narrow net gets no threads at all;
// a kernel that fails on a helper thread is an error on the model's thread, not a hang.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { loadMnist } from "../src/data/mnist.js";
import { Mlp } from "../src/engine/mlp.js";
import { band } from "../src/engine/threadTeam.js";
import { nodeThreadTeams } from "../src/engine/threadTeamNode.js";
import { mlpConfig, type MlpOptions as FullOptions } from "../src/model.js";
import type { OptimizerName } from "../src/optim.js";
import { Random } from "../src/random.js";

type MlpOptions = Omit<FullOptions, "inSize" | "outSize">;
const data = loadMnist();
const normalization = { mean: 0.1307, std: 0.3081 };
const open: Mlp[] = [];
after(() => open.forEach((m) => m.close()));

/** Trains `steps` batches of `batch` images, then runs an eval forward; returns parameters and logits. */
function train(options: MlpOptions, optimizer: OptimizerName, threads: number, batch: number, steps: number) {
  const config = mlpConfig({ inSize: 784, outSize: 10, ...options });
  const model = new Mlp(config, 128, optimizer, { teams: threads > 1 ? nodeThreadTeams(threads) : undefined });
  open.push(model);
  model.initialize(Random.fromSeed(7));
  const order = Uint32Array.from({ length: batch * steps }, (_, i) => (i * 7919) % data.train.count);
  for (let s = 0; s < steps; s++) {
    model.input.loadBatch(data.train.images, data.train.labels, order, s * batch, batch, normalization);
    model.trainStep(batch, { lr: 0.05 });
  }
  model.input.loadBatch(data.test.images, data.test.labels, Uint32Array.from({ length: 128 }, (_, i) => i), 0, 128, normalization);
  const logits = model.kernels.floats(model.forward(128, "eval"), 128 * 10).slice();
  const result = { threads: model.threads, params: model.parameters(), logits };
  model.close();
  return result;
}

describe("one model on several threads", () => {
  it("cuts rows into bands of 4 that cover them in order", () => {
    for (let rows = 0; rows <= 70; rows++) {
      for (let parts = 1; parts <= 4; parts++) {
        let next = 0;
        for (let t = 0; t < parts; t++) {
          const [from, to] = band(rows, parts, t);
          assert.equal(from, next, `rows ${rows}, parts ${parts}, band ${t}`);
          assert.ok(to >= from && (to === rows || to % 4 === 0));
          next = to;
        }
        assert.equal(next, rows);
      }
    }
  });

  const cases: Array<{ name: string; options: MlpOptions; optimizer: OptimizerName; batch: number }> = [
    { name: "relu 3 × 300, SGD, a batch of 61 (edges everywhere)", options: { hiddenSize: 300, numHiddenLayers: 3, activation: "relu" }, optimizer: "sgd", batch: 61 },
    { name: "tanh [516, 260], Adam", options: { hiddenSize: [516, 260], numHiddenLayers: 3, activation: "tanh" }, optimizer: "adam", batch: 64 },
    { name: "sigmoid 3 × 256 with batch norm, RMSprop", options: { hiddenSize: 256, numHiddenLayers: 3, activation: "sigmoid", norm: "batch" }, optimizer: "rmsprop", batch: 32 },
    { name: "prelu 3 × 264 (a learned slope: unfused backward)", options: { hiddenSize: 264, numHiddenLayers: 3, activation: "prelu" }, optimizer: "sgd", batch: 64 },
    { name: "rrelu 3 × 256 (slopes drawn per element in training)", options: { hiddenSize: 256, numHiddenLayers: 3, activation: "rrelu" }, optimizer: "sgd", batch: 64 },
    { name: "gelu 3 × 258 (the first layer too narrow a multiple for the sparse path)", options: { hiddenSize: 258, numHiddenLayers: 3, activation: "gelu" }, optimizer: "nesterov", batch: 40 },
  ];
  for (const { name, options, optimizer, batch } of cases) {
    it(`gives the same bits with 1, 2 and 3 threads: ${name}`, () => {
      const one = train(options, optimizer, 1, batch, 3);
      assert.equal(one.threads, 1);
      for (const threads of [2, 3]) {
        const many = train(options, optimizer, threads, batch, 3);
        assert.equal(many.threads, threads, "the net is wide enough for a team");
        assert.ok(Buffer.from(many.params.buffer).equals(Buffer.from(one.params.buffer)), `parameters after 3 steps on ${threads} threads`);
        assert.ok(Buffer.from(many.logits.buffer).equals(Buffer.from(one.logits.buffer)), `eval logits on ${threads} threads`);
      }
    });
  }

  it("gives a narrow net no threads (the notebook's nets never split)", () => {
    const model = new Mlp(mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 64, numHiddenLayers: 5, activation: "relu" }), 64, "sgd", { teams: nodeThreadTeams(2) });
    open.push(model);
    assert.equal(model.threads, 1);
  });

  it("turns a kernel that fails on a helper thread into an error on the model's thread, and goes on working", () => {
    const teams = nodeThreadTeams(2);
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 256, numHiddenLayers: 3, activation: "relu" });
    const model = new Mlp(config, 64, "sgd", { teams });
    open.push(model);
    const team = (model as unknown as { team: { run(calls: unknown[]): void } }).team;
    const outOfBounds = 2 ** 32 - 64;
    assert.throws(() => team.run([[], [{ fn: "columnSums", args: [outOfBounds, outOfBounds, 4, 64] }]]), /a kernel failed on helper thread 1 of the model: .*memory access out of bounds/);
    assert.throws(() => team.run([[{ fn: "noSuchKernel", args: [] }]]), /no kernel named noSuchKernel/);
    // Still usable: a training step after the failures matches a fresh model's.
    model.initialize(Random.fromSeed(1));
    model.input.loadBatch(data.train.images, data.train.labels, Uint32Array.from({ length: 64 }, (_, i) => i), 0, 64, normalization);
    const loss = model.trainStep(64, { lr: 0.01 });
    assert.ok(Number.isFinite(loss));
    model.close();
    assert.throws(() => team.run([[]]), /closed/);
  });
});
