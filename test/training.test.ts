// Training for real on slices of MNIST: it learns, it is repeatable bit for bit, and the run
// directory holds what the notebook's TensorBoard logging and checkpoints promise.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadModelCheckpoint } from "../src/checkpoint/modelCheckpoint.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { Mlp, mlpMemoryPlan } from "../src/engine/mlp.js";
import { Random } from "../src/random.js";
import { readEventDir, type EventFileResult } from "../src/log/eventReader.js";
import { mlpConfig } from "../src/model.js";
import { evaluate, identityOrder } from "../src/train/evaluate.js";
import { runExperiments, type ExperimentSpec } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { trainJob, trainJobSteps, type EpochRecord, type TrainEvent } from "../src/train/trainer.js";
import { runJobs, StopFlag } from "../src/train/pool.js";

const data = loadMnist();
const CHANCE = 0.1135; // always answering "1", the test set's most common digit

function trainOnce(activation: string, seed: number, epochs: number, trainLimit: number) {
  const events: TrainEvent[] = [];
  trainJob({
    model: activation, seed, trainLimit,
    config: mlpConfig({ inSize: 784, outSize: 10, activation }),
    settings: { ...DEFAULT_SETTINGS, epochs },
  }, data, (e) => events.push(e));
  const records = events.flatMap((e) => (e.type === "epoch" ? [e.record] : []));
  const end = events.find((e) => e.type === "end") as Extract<TrainEvent, { type: "end" }>;
  return { records, params: end.params };
}

describe("training on MNIST slices", () => {
  it("one epoch on 5,000 images lifts shallow relu and tanh nets well above chance", () => {
    // PyTorch reaches about 35% (relu) and 65% (tanh) here with its own initialisation draws.
    const relu = trainOnce("relu", 0, 1, 5000).records[0];
    const tanh = trainOnce("tanh", 0, 1, 5000).records[0];
    assert.ok(relu.test_acc > CHANCE + 0.1, `relu test accuracy ${relu.test_acc}`);
    assert.ok(tanh.test_acc > 0.5, `tanh test accuracy ${tanh.test_acc}`);
    assert.ok(tanh.train_loss < 2.1, `tanh mean train loss ${tanh.train_loss} fell below ln 10 ≈ 2.30`);
  });

  it("the same seed gives bit-identical weights; another seed does not", () => {
    const a = trainOnce("tanh", 3, 1, 1000);
    const b = trainOnce("tanh", 3, 1, 1000);
    const c = trainOnce("tanh", 4, 1, 1000);
    assert.deepEqual(Buffer.from(a.params.buffer), Buffer.from(b.params.buffer));
    assert.deepEqual(a.records.map((r) => r.train_loss), b.records.map((r) => r.train_loss));
    assert.notDeepEqual(Buffer.from(a.params.buffer), Buffer.from(c.params.buffer));
  });
});

describe("trainJobSteps: a job suspended and continued (the Train page's worker)", () => {
  it("yields after every step but an epoch's last and after every epoch but the last, and ends with trainJob's weights bit for bit", () => {
    const job = {
      model: "tanh", seed: 2, trainLimit: 640, // 10 steps an epoch
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 2, activation: "tanh" }),
      settings: { ...DEFAULT_SETTINGS, epochs: 2 },
    };
    const straight: TrainEvent[] = [];
    trainJob(job, data, (e) => straight.push(e));
    const events: TrainEvent[] = [];
    let asked = 0;
    const run = trainJobSteps(job, data, (e) => events.push(e), { shouldYield: () => { asked++; return true; } });
    let yields = 0;
    for (let r = run.next(); !r.done; r = run.next()) yields++;
    // Nine in each epoch of ten steps and one between the two epochs; asked nowhere else.
    assert.equal(yields, 9 + 1 + 9);
    assert.equal(asked, yields);
    assert.deepEqual(events.filter((e) => e.type === "start").length, 1, "the model is built once");
    const end = (list: TrainEvent[]) => list.find((e) => e.type === "end") as Extract<TrainEvent, { type: "end" }>;
    assert.equal(end(events).status, "finished");
    assert.ok(Buffer.from(end(events).params.buffer).equals(Buffer.from(end(straight).params.buffer)), "suspended after every step, the weights are trainJob's");
    const losses = (list: TrainEvent[]) => list.flatMap((e) => (e.type === "epoch" ? [e.record.train_loss, e.record.test_acc] : []));
    assert.deepEqual(losses(events), losses(straight));
  });

  it("time suspended is not training time", () => {
    const job = {
      model: "relu", seed: 0, trainLimit: 256,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 2, activation: "relu" }),
      settings: { ...DEFAULT_SETTINGS, epochs: 1 },
    };
    const events: TrainEvent[] = [];
    const run = trainJobSteps(job, data, (e) => events.push(e), { shouldYield: () => true });
    for (let r = run.next(); !r.done; r = run.next()) {
      const until = performance.now() + 50;
      while (performance.now() < until); // the caller busy elsewhere
    }
    const record = events.flatMap((e) => (e.type === "epoch" ? [e.record] : []))[0];
    assert.ok(record.seconds < 0.1, `3 suspensions of 50 ms each, yet ${record.seconds} s of training`);
  });
});

describe("a run directory", () => {
  const epochs = 2;
  function spec(dir: string): ExperimentSpec {
    return {
      name: "test", dir, seeds: [0], trainLimit: 1500, settings: { ...DEFAULT_SETTINGS, epochs },
      models: ["tanh", "relu"].map((activation) => ({
        model: activation, config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 4, activation }),
      })),
    };
  }

  it("holds metrics, TensorBoard scalars and histograms as the notebook logs them, and loadable checkpoints", async () => {
    const dir = mkdtempSync(join(tmpdir(), "actlab-run-"));
    const [result] = await runExperiments([spec(dir)], { data, workers: 0 });
    assert.equal(result.status, "finished");

    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as EpochRecord);
    assert.equal(lines.length, 2 * epochs);
    for (const line of lines) {
      for (const field of ["model", "seed", "epoch", "train_loss", "test_acc", "seconds", "samples_per_s"]) {
        assert.ok(field in line, `metrics line has ${field}`);
      }
    }
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(config.settings.lr, 0.01);
    assert.ok(config.versions.node);

    // add_scalars('accuracy', {model: acc}, epoch + 1): one folder per series, tag "accuracy".
    const files = readEventDir(dir);
    assert.ok(files.every((f) => f.ok), "every event file decodes");
    for (const model of ["tanh", "relu"]) {
      for (const main of ["accuracy", "loss"]) {
        const series: EventFileResult[] = files.filter((f) => f.run === `${main}/${model}`);
        assert.equal(series.length, 1, `${main}/${model} has one event file`);
        const first = series[0];
        const scalars = first.ok ? first.events.flatMap((e) => e.scalars.map((s) => ({ ...s, step: e.step }))) : [];
        assert.deepEqual(scalars.map((s) => s.tag), [main, main]);
        assert.deepEqual(scalars.map((s) => s.step), [1, 2]);
        const expected = lines.filter((l) => l.model === model).map((l) => (main === "accuracy" ? l.test_acc : l.train_loss));
        assert.deepEqual(scalars.map((s) => s.value), expected.map(Math.fround));
      }
    }
    const root = files.find((f) => f.run === ".");
    assert.ok(root && root.ok);
    const histograms = root.events.flatMap((e) => e.histograms.map((h) => ({ tag: h.tag, step: e.step, num: h.num })));
    for (const tag of ["weight/tanh/1", "weight/tanh/4", "grad_weight/relu/1", "grad_weight/relu/4"]) {
      const found = histograms.filter((h) => h.tag === tag);
      assert.deepEqual(found.map((h) => h.step), [0, 1], `${tag} at step = epoch`);
    }
    assert.equal(histograms.find((h) => h.tag === "weight/tanh/1")!.num, 784 * 32);

    // The checkpoint reloads with PyTorch's names and scores what the run logged.
    const checkpoint = readSafetensors(join(dir, "tanh.safetensors"));
    assert.deepEqual([...checkpoint.tensors.keys()], ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias", "layers.6.weight", "layers.6.bias"]);
    assert.deepEqual(checkpoint.tensors.get("layers.0.weight")!.shape, [32, 784]);
    const loaded = loadModelCheckpoint(join(dir, "tanh.safetensors"));
    const model = new Mlp(loaded.config, 256);
    model.writeParameters(loaded.params);
    const evaluation = evaluate(model, data.test, 256, { mean: 0.1307, std: 0.3081 });
    assert.equal(evaluation.accuracy, lines.filter((l) => l.model === "tanh").at(-1)!.test_acc);

    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.deepEqual(summary.rows.map((r: { model: string }) => r.model), ["tanh", "relu"]);
    assert.ok(readdirSync(dir).includes("jobs.json"));
  });

  it("gives bit-identical weights with 0, 1 or 2 worker threads", async () => {
    const checkpoints = [];
    for (const workers of [0, 1, 2]) {
      const dir = mkdtempSync(join(tmpdir(), `actlab-workers${workers}-`));
      await runExperiments([spec(dir)], { data: loadMnist({ shared: true }), workers });
      checkpoints.push(["tanh", "relu"].map((m) => readFileSync(join(dir, `${m}.safetensors`))));
    }
    assert.deepEqual(checkpoints[1], checkpoints[0]);
    assert.deepEqual(checkpoints[2], checkpoints[0]);
  });

  it("gives one wide model bit-identical weights with 1, 2 or 3 worker threads", async () => {
    // Width 512 takes the wide paths (forward packed from W, dW written from the sparse panels).
    const checkpoints = [];
    for (const workers of [1, 2, 3]) {
      const dir = mkdtempSync(join(tmpdir(), `actlab-one-model-workers${workers}-`));
      await runExperiments([{
        name: "test", dir, seeds: [0], trainLimit: 640, settings: { ...DEFAULT_SETTINGS, epochs: 1 },
        models: [{ model: "relu", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 512, numHiddenLayers: 3, activation: "relu" }) }],
      }], { data: loadMnist({ shared: true }), workers });
      checkpoints.push(readFileSync(join(dir, "relu.safetensors")));
    }
    assert.deepEqual(checkpoints[1], checkpoints[0]);
    assert.deepEqual(checkpoints[2], checkpoints[0]);
  });

  it("hands an epoch's state buffers back to the worker, whose later copies in them hold what a run on this thread gives", async () => {
    // Four epochs: the states of epochs 1-3 and the final parameters; from epoch 2 on the worker may
    // copy into buffers handed back. Each handler reads its event's arrays while it runs, as a run
    // folder's writer does; afterwards they belong to the worker again (detached here).
    const job = {
      model: "tanh", seed: 2, trainLimit: 256,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 16, numHiddenLayers: 3, activation: "tanh" }),
      settings: { ...DEFAULT_SETTINGS, epochs: 4 },
    };
    const collect = async (workers: number) => {
      const states: Float32Array[][] = [];
      const held: Float32Array[] = [];
      let final: Float32Array | undefined;
      let kept: Float32Array | undefined;
      await runJobs([{ job }], loadMnist({ shared: true }), workers, new StopFlag(), (_index, event) => {
        if (event.type === "epoch" && event.resume) {
          states.push([event.resume.params.slice(), ...event.resume.optimizer.buffers.map((b) => b.slice())]);
          held.push(event.resume.params, ...event.resume.optimizer.buffers);
        }
        if (event.type === "end") {
          final = event.params.slice();
          kept = event.params;
        }
      });
      return { states, held, final, kept };
    };
    const here = await collect(0);
    const pooled = await collect(1);
    assert.equal(pooled.states.length, 3);
    assert.deepEqual(pooled.states, here.states);
    assert.deepEqual(pooled.final, here.final);
    assert.ok(pooled.held.every((array) => array.length === 0), "every state's arrays were handed back (detached here)");
    assert.deepEqual(pooled.kept, here.final, "the final parameters stay the receiver's");
    assert.ok(here.held.every((array) => array.length > 0), "a run on this thread hands nothing back");
  });

  it("records nothing more once an event's handling has failed (a worker's queued events are dropped)", async () => {
    // Tiny epochs, and a handler that takes a while to fail (as a slow write does): the worker has
    // posted the later epochs and the end by the time the failure is thrown.
    const job = {
      model: "tanh", seed: 0, trainLimit: 64,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 8, numHiddenLayers: 2, activation: "tanh" }),
      settings: { ...DEFAULT_SETTINGS, epochs: 3 },
    };
    const seen: string[] = [];
    await assert.rejects(runJobs([{ job }], loadMnist({ shared: true }), 1, new StopFlag(), (_index, event) => {
      seen.push(event.type === "epoch" ? `epoch ${event.record.epoch}` : event.type);
      if (event.type === "epoch") {
        const until = Date.now() + 1500;
        while (Date.now() < until);
        throw new Error("the disk is full");
      }
    }), /the disk is full/);
    assert.deepEqual(seen.filter((s) => s !== "step"), ["start", "epoch 1"]);
  });

  it("evaluates to the same bits with the test set's pixel lists kept or made per batch (a one-epoch job keeps none)", () => {
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 3, activation: "tanh" });
    const keptRegions = (keepLists: boolean) => mlpMemoryPlan(config, 256, "sgd", { keepLists }).plan.regions.filter((r) => r.name.startsWith("input.kept"));
    assert.equal(keptRegions(true).length, 5);
    assert.deepEqual(keptRegions(false), []);
    // Nor does a net of more than 2^20 parameters (3 × 1024: 1.9 million), whose evaluation takes
    // half a second against the 3–8 ms of listing the test set; 3 × 512 (0.67 million) keeps them.
    const wide = (width: number) => mlpMemoryPlan(mlpConfig({ inSize: 784, outSize: 10, hiddenSize: width, numHiddenLayers: 3, activation: "relu" }), 256, "sgd")
      .plan.regions.filter((r) => r.name.startsWith("input.kept")).length;
    assert.equal(wide(512), 5);
    assert.equal(wide(1024), 0);
    const normalization = { mean: DEFAULT_SETTINGS.mean, std: DEFAULT_SETTINGS.std };
    const results = [true, false].map((keepLists) => {
      const model = new Mlp(config, 256, "sgd", { keepLists });
      model.initialize(Random.fromSeed(3));
      // Twice: the second pass reads the kept lists where there are any.
      return [0, 1].map(() => evaluate(model, data.test, 256, normalization));
    });
    assert.deepEqual(results[1], results[0]);
    assert.ok(results[0][0].accuracy > 0);
  });

  it("trains to the same bits with the training set's lists kept image by image, and lists each image once", () => {
    // Shuffled epochs over a slice, with the test set evaluated in between (the second kept set), a
    // repeated image in one batch, a new normalisation (the kept lists expanded with the new table),
    // then a third image array (the sets emptied): the kept path must give the bits of lists made per batch.
    const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 3, activation: "tanh" });
    const hyper = { lr: 0.05, momentum: 0.9 };
    const third = data.train.images.slice(0, 64 * 784);
    const run = (keepLists: boolean) => {
      const model = new Mlp(config, 256, "sgd", { keepLists, trainRows: 64 });
      model.initialize(Random.fromSeed(5));
      let listed = 0;
      // Images listed: by sparsePixels (afresh) or listPixels (into the kept area).
      const exports = model.kernels.exports;
      const { sparsePixels, listPixels } = exports;
      Object.defineProperty(model.kernels, "exports", {
        value: {
          ...exports,
          sparsePixels: (...args: Parameters<typeof sparsePixels>) => { listed += args[4]; return sparsePixels(...args); },
          listPixels: (...args: Parameters<typeof listPixels>) => { listed += args[3]; return listPixels(...args); },
        },
      });
      const random = Random.fromSeed(9);
      const losses: number[] = [];
      const listedPerEpoch: number[] = [];
      for (let epoch = 0; epoch < 4; epoch++) {
        const before = listed;
        const order = identityOrder(320);
        random.shuffle(order);
        if (epoch === 0) order[1] = order[0];
        const normalization = epoch < 2 ? { mean: 0.1307, std: 0.3081 } : { mean: 0.5, std: 0.5 };
        for (let start = 0; start < order.length; start += 64) {
          model.input.loadBatch(data.train.images, data.train.labels, order, start, 64, normalization);
          losses.push(model.trainStep(64, hyper));
        }
        losses.push(evaluate(model, { ...data.test, count: 512 }, 256, normalization).loss);
        if (epoch === 3) {
          model.input.loadBatch(third, data.train.labels, Int32Array.from({ length: 64 }, (_, i) => 63 - i), 0, 64, normalization);
          losses.push(model.trainStep(64, hyper));
        }
        listedPerEpoch.push(listed - before);
      }
      return { losses, parameters: model.parameters(), listedPerEpoch };
    };
    const kept = run(true);
    const fresh = run(false);
    assert.deepEqual(kept.losses, fresh.losses);
    assert.deepEqual(kept.parameters, fresh.parameters);
    // Made per batch, every image is listed at every reading. Kept, each once (epoch 1 reads one
    // image twice, listed once, and leaves one out, listed in epoch 2), whatever the table; then
    // the third array's batch (end of epoch 4) empties both sets and is listed.
    assert.deepEqual(fresh.listedPerEpoch, [320 + 512, 320 + 512, 320 + 512, 320 + 512 + 64]);
    assert.deepEqual(kept.listedPerEpoch, [319 + 512, 1, 0, 64]);
  });
});
