// Divergence: with lr 10 a relu net's loss turns non-finite within the first epoch. It must be
// stopped and marked (epoch and step) in metrics.jsonl, summary.json, the table and the event files,
// while the other model trains on; exit 0 with a warning, or 1 with --fail-on-divergence.
import assert from "node:assert/strict";
import { finiteHistogram } from "../src/log/histogram.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseJsonLines } from "../src/checkpoint/atomicFile.js";
import { loadModelCheckpoint } from "../src/checkpoint/modelCheckpoint.js";
import { readEventDir, type DecodedEvent } from "../src/log/eventReader.js";
import { mlpConfig } from "../src/model.js";
import { RunDirectory } from "../src/train/runDirectory.js";
import { runCli } from "./support/cliProcess.js";
import { craftDataFolder } from "./support/craftedData.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("divergence");
after(() => scratch.remove());

// relu first: the model that diverges runs before the one that must go on after it.
const args = (dir: string) => ["train", "--activations", "relu,tanh", "--lr", "10", "--epochs", "2", "--train-limit", "2000", "--workers", "1", "--logdir", dir];

interface Record_ { model: string; epoch: number; train_loss: number | null; test_acc: number | null; diverged?: { epoch: number; step: number } }

function allEvents(dir: string): Array<{ run: string; event: DecodedEvent }> {
  return readEventDir(dir).flatMap((file) => {
    assert.ok(file.ok, `${file.path}: ${file.ok ? "" : file.error.message}`);
    return file.events.map((event) => ({ run: file.run, event }));
  });
}

describe("a model whose loss turns NaN or infinite", () => {
  const plain = join(scratch.path, "plain");
  const strict = join(scratch.path, "strict");
  const results = Promise.all([runCli(args(plain)), runCli([...args(strict), "--fail-on-divergence"])]);

  test("is stopped and marked diverged in metrics.jsonl, summary.json, jobs.json, its checkpoint and the table; the others go on; exit 0 with a warning", async () => {
    const [result] = await results;
    assert.equal(result.code, 0, result.stderr);
    const records = parseJsonLines(readFileSync(join(plain, "metrics.jsonl"), "utf8"), "metrics.jsonl") as Record_[];
    const relu = records.filter((r) => r.model === "relu");
    const tanh = records.filter((r) => r.model === "tanh");
    assert.equal(relu.length, 1, "relu stops in the epoch it diverged in");
    const { epoch, step } = relu[0].diverged!;
    assert.equal(epoch, 1);
    assert.ok(Number.isInteger(step) && step >= 1 && step <= 32, `step ${step} within the epoch's 32 steps`);
    // JSON has no NaN: a non-finite loss is written as null.
    assert.equal(relu[0].train_loss, null);
    assert.deepEqual(tanh.map((r) => r.epoch), [1, 2], "tanh trains both epochs after relu diverged");
    assert.ok(tanh.every((r) => r.diverged === undefined && Number.isFinite(r.train_loss)));

    const summary = JSON.parse(readFileSync(join(plain, "summary.json"), "utf8"));
    const rows = Object.fromEntries(summary.rows.map((row: { model: string }) => [row.model, row]));
    assert.deepEqual(rows.relu.diverged, [{ seed: 0, epoch, step }]);
    assert.deepEqual(rows.tanh.diverged, []);
    assert.equal(summary.status, "finished");
    assert.deepEqual(JSON.parse(readFileSync(join(plain, "jobs.json"), "utf8")), { relu: "diverged", tanh: "finished" });
    assert.equal(loadModelCheckpoint(join(plain, "relu.safetensors")).metadata.status, "diverged");

    const reluRow = result.stdout.split("\n").find((line) => line.startsWith("relu "));
    assert.ok(reluRow?.endsWith(`diverged: seed 0 epoch ${epoch} step ${step}`), `table row: ${reluRow}`);
    assert.match(result.stderr, new RegExp(`train/relu epoch 1: diverged at step ${step} \\(loss is not finite\\)`));
    assert.match(result.stderr, new RegExp(`warning: 1 model\\(s\\) diverged .*train/relu seed 0 \\(epoch ${epoch}, step ${step}\\)`));
  });

  test("is marked in the event files (diverged/<series> = step at step = epoch), which stay readable with no NaN histogram", async () => {
    await results;
    const events = allEvents(plain);
    const marks = events.flatMap(({ event }) => event.scalars.filter((s) => s.tag.startsWith("diverged/")).map((s) => ({ tag: s.tag, value: s.value, step: event.step })));
    const records = parseJsonLines(readFileSync(join(plain, "metrics.jsonl"), "utf8"), "metrics.jsonl") as Record_[];
    const { epoch, step } = records.find((r) => r.model === "relu")!.diverged!;
    assert.deepEqual(marks, [{ tag: "diverged/relu", value: step, step: epoch }]);
    const histograms = events.flatMap(({ event }) => event.histograms);
    assert.ok(histograms.some((h) => h.tag === "weight/tanh/1"), "the healthy model's histograms are there");
    for (const h of histograms) {
      assert.ok([h.min, h.max, h.sum, h.sumSquares].every(Number.isFinite), `${h.tag}: non-finite statistics`);
    }
    // relu's weights are NaN after the step that diverged: no histogram rather than a broken one.
    assert.equal(histograms.some((h) => h.tag.startsWith("weight/relu/")), false);
  });

  test("makes the run exit with 1 under --fail-on-divergence, with the same warning", async () => {
    const [, result] = await results;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /warning: 1 model\(s\) diverged/);
    assert.deepEqual(JSON.parse(readFileSync(join(strict, "jobs.json"), "utf8")), { relu: "diverged", tanh: "finished" });
  });
});

// A test loss that is not finite while every training step's loss is: training images all 0 and
// normalised with mean 0 stay 0 (finite logits), while test pixels of 255 divided by std 1e-45 (the
// smallest float32) are infinite, so the test logits, and the test loss, are NaN.
describe("a model whose test loss turns NaN or infinite while its training loss stays finite", () => {
  const data = craftDataFolder(join(scratch.path, "overflowing-test-set"), { count: 128, pixel: () => 0 }, { count: 20, pixel: () => 255 });
  const testArgs = (dir: string) => ["train", "--data", data, "--mean", "0", "--std", "1e-45", "--batch-size", "64", "--epochs", "3", "--workers", "1", "--logdir", dir];
  const plain = join(scratch.path, "test-loss");
  const strict = join(scratch.path, "test-loss-strict");
  const results = Promise.all([runCli(testArgs(plain)), runCli([...testArgs(strict), "--fail-on-divergence"])]);

  test("is marked diverged at the epoch's last step in metrics.jsonl, summary.json, jobs.json, its checkpoint, the table and the event files; no accuracy is reported", async () => {
    const [result] = await results;
    assert.equal(result.code, 0, result.stderr);
    const records = parseJsonLines(readFileSync(join(plain, "metrics.jsonl"), "utf8"), "metrics.jsonl") as Array<Record_ & { test_loss: number | null }>;
    assert.equal(records.length, 1, "training stops in the epoch whose test loss was not finite");
    assert.ok(Number.isFinite(records[0].train_loss), "the training loss was finite");
    assert.equal(records[0].test_loss, null);
    assert.equal(records[0].test_acc, null, "no accuracy counted from non-finite logits");
    assert.deepEqual(records[0].diverged, { epoch: 1, step: 2 });
    const summary = JSON.parse(readFileSync(join(plain, "summary.json"), "utf8"));
    assert.deepEqual(summary.rows[0].diverged, [{ seed: 0, epoch: 1, step: 2 }]);
    assert.deepEqual(JSON.parse(readFileSync(join(plain, "jobs.json"), "utf8")), { relu: "diverged" });
    const { metadata } = loadModelCheckpoint(join(plain, "relu.safetensors"));
    assert.equal(metadata.status, "diverged");
    assert.equal(metadata.test_loss, "NaN");
    const row = result.stdout.split("\n").find((line) => line.startsWith("relu "));
    assert.ok(row?.endsWith("diverged: seed 0 epoch 1 step 2"), `table row: ${row}`);
    assert.match(result.stderr, /warning: 1 model\(s\) diverged/);
    const marks = allEvents(plain).flatMap(({ event }) => event.scalars.filter((s) => s.tag.startsWith("diverged/")).map((s) => ({ tag: s.tag, value: s.value, step: event.step })));
    assert.deepEqual(marks, [{ tag: "diverged/relu", value: 2, step: 1 }]);
  });

  test("makes the run exit with 1 under --fail-on-divergence", async () => {
    const [, result] = await results;
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(strict, "jobs.json"), "utf8")), { relu: "diverged" });
  });

  test("makes eval of that checkpoint exit 1 rather than print an accuracy of non-numbers", async () => {
    await results;
    const result = await runCli(["eval", join(plain, "relu.safetensors"), "--data", data]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: the test loss is not finite/);
  });
});

describe("the run directory's histograms", () => {
  test("skips layers with NaN, infinite or out-of-range (|x| > 1e20) values instead of failing the run", () => {
    const dir = join(scratch.path, "histograms");
    const run = RunDirectory.open(dir, { multipleSeeds: false });
    try {
      run.registerModel("m", mlpConfig({ inSize: 4, outSize: 2, hiddenSize: 3, numHiddenLayers: 2, activation: "relu" }));
      // As the trainer makes them: a tensor's histogram only where finiteHistogram gives one.
      const layer = (k: number, values: number[]) => {
        const h = finiteHistogram(Float32Array.from(values));
        return { layer: k, ...(h ? { weight: h, gradWeight: h } : {}) };
      };
      assert.doesNotThrow(() => run.record({
        type: "epoch",
        record: { model: "m", seed: 0, epoch: 1, train_loss: NaN, test_acc: NaN, test_loss: NaN, seconds: 1, samples_per_s: 1, diverged: { epoch: 1, step: 3 } },
        layers: [layer(1, [NaN, NaN]), layer(2, [1, NaN]), layer(3, [1e25, -1e30]), layer(4, [Infinity, 1]), layer(5, [0.5, -0.25])],
        diagnostics: { layers: [], hidden: [] },
      }));
    } finally {
      run.close();
    }
    const tags = allEvents(dir).flatMap(({ event }) => event.histograms.map((h) => h.tag)).sort();
    assert.deepEqual(tags, ["grad_weight/m/5", "weight/m/5"]);
  });
});
