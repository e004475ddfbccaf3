// `actlab eval` checks the checkpoint against the data instead of trusting both: it normalises
// with the checkpoint's own mean and std, refuses images of another pixel count and labels without
// a logit (exit 2, naming both), says when it scores other data than the checkpoint was made on,
// and exits 1 when it scores the same data differently from the recorded accuracy. A checkpoint
// written before these keys existed still evaluates, with a note.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadModelCheckpoint, saveModelCheckpoint } from "../src/checkpoint/modelCheckpoint.js";
import { loadMnist, type MnistData, type MnistSplit } from "../src/data/mnist.js";
import { Mlp } from "../src/engine/mlp.js";
import { InputError } from "../src/errors.js";
import { mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { evaluate } from "../src/train/evaluate.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { trainJob } from "../src/train/trainer.js";
import { runCli } from "./support/cliProcess.js";
import { craftDataFolder } from "./support/craftedData.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("eval");
after(() => scratch.remove());

const run = join(scratch.path, "run");
const checkpoint = join(run, "relu.safetensors");
// Trained with a normalisation other than the default, so that eval must read it from the checkpoint.
const MEAN = 0.5;
const STD = 0.25;

before(async () => {
  const result = await runCli(["train", "--epochs", "1", "--train-limit", "600", "--layers", "2", "--hidden", "16", "--workers", "1",
    "--mean", String(MEAN), "--std", String(STD), "--logdir", run]);
  assert.equal(result.code, 0, result.stderr);
});

interface EvalJson {
  test_acc: number; correct: number; count: number; recorded_test_acc: number | null; same_data: boolean | null;
  data_differences: string[] | null; matches_recorded: boolean | null; notes: string[];
  normalization: { mean: number; mean_from: string; std: number; std_from: string };
}

async function evalJson(args: string[]): Promise<{ code: number | null; json: EvalJson; stderr: string }> {
  const result = await runCli(["eval", ...args, "--json"]);
  return { code: result.code, json: JSON.parse(result.stdout) as EvalJson, stderr: result.stderr };
}

/** A copy of the run's checkpoint with its metadata changed (the tensors as they are). */
function variant(name: string, change: (metadata: Record<string, string>) => Record<string, string>, config = loadModelCheckpoint(checkpoint).config): string {
  const loaded = loadModelCheckpoint(checkpoint);
  const path = join(scratch.path, `${name}.safetensors`);
  const { format: _f, in_size: _i, out_size: _o, hidden_sizes: _h, num_hidden_layers: _n, activation: _a, leaky_slope: _l, ...extra } = loaded.metadata;
  saveModelCheckpoint(path, config, loaded.params, change(extra));
  return path;
}

describe("a model checkpoint", () => {
  test("records the normalisation, the data's identity and the final test accuracy and loss, beside the keys it had", () => {
    const { metadata } = loadModelCheckpoint(checkpoint);
    const data = loadMnist();
    assert.equal(Number(metadata.mean), MEAN);
    assert.equal(Number(metadata.std), STD);
    assert.equal(metadata.data_sha256, data.identity.sha256);
    assert.deepEqual(JSON.parse(metadata.data_files), data.identity.files);
    assert.ok(Number.isFinite(Number(metadata.test_loss)) && Number(metadata.test_loss) > 0);
    for (const key of ["format", "in_size", "out_size", "hidden_sizes", "num_hidden_layers", "activation", "leaky_slope", "model", "seed", "epochs", "test_acc", "status"]) {
      assert.ok(key in metadata, `key ${key} kept`);
    }
  });
});

describe("actlab eval", () => {
  test("normalises with the checkpoint's mean and std and finds the recorded accuracy, exit 0", async () => {
    const { code, json, stderr } = await evalJson([checkpoint]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(json.normalization, { mean: MEAN, mean_from: "checkpoint", std: STD, std_from: "checkpoint" });
    assert.equal(json.test_acc, Number(loadModelCheckpoint(checkpoint).metadata.test_acc));
    assert.equal(json.same_data, true);
    assert.equal(json.matches_recorded, true);
    const plain = await runCli(["eval", checkpoint]);
    assert.match(plain.stdout, /, as recorded, /);
  });

  test("uses a typed --mean in place of the checkpoint's, says so, and does not call the different accuracy an error", async () => {
    const { code, json, stderr } = await evalJson([checkpoint, "--mean", "0.1307"]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(json.normalization, { mean: 0.1307, mean_from: "flag", std: STD, std_from: "checkpoint" });
    assert.match(stderr, /note: normalising with mean 0\.1307 \(flag\) and std 0\.25 \(checkpoint\); the checkpoint was trained with mean 0\.5/);
  });

  test("exits 1 when it scores the same data differently from the recorded accuracy, printing both", async () => {
    const recorded = Number(loadModelCheckpoint(checkpoint).metadata.test_acc);
    const altered = variant("altered", (m) => ({ ...m, test_acc: String(recorded + 0.05) }));
    const result = await runCli(["eval", altered]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /test accuracy \d+\.\d\d%/);
    assert.match(result.stderr, /error: on the same data, with the same normalisation, this accuracy differs from the recorded \d+\.\d\d% \(\d+\/10000\)/);
  });

  test("scores other data (of the right shape) with a note naming the files that differ, exit 0", async () => {
    const other = craftDataFolder(join(scratch.path, "other"), { count: 30 }, { count: 20 });
    const { code, json, stderr } = await evalJson([checkpoint, "--data", other]);
    assert.equal(code, 0, stderr);
    assert.equal(json.count, 20);
    assert.equal(json.same_data, false);
    assert.equal(json.matches_recorded, null);
    for (const file of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      assert.ok(json.data_differences!.some((d) => d.startsWith(`${file}: `)), `${file} named`);
    }
    assert.match(stderr, /note: these are not the data .* was trained and tested on/);
  });

  for (const [rows, cols] of [[1, 1], [28, 29], [27, 28]]) {
    test(`refuses ${rows}×${cols} images with exit 2, naming the pixel count and the model's inputs`, async () => {
      const data = craftDataFolder(join(scratch.path, `shape-${rows}x${cols}`), { count: 10, rows, cols }, { count: 10, rows, cols });
      const result = await runCli(["eval", checkpoint, "--data", data]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`its images are ${rows}×${cols} = ${rows * cols} pixels, but checkpoint .* takes 784 inputs`));
      assert.equal(result.stdout, "");
    });
  }

  test("refuses labels without a logit (a 2-output checkpoint on 10-class data) with exit 2, naming both", async () => {
    const config = mlpConfig({ inSize: 784, outSize: 2, hiddenSize: 8, numHiddenLayers: 2, activation: "relu" });
    const two = join(scratch.path, "two-outputs.safetensors");
    const model = new Mlp(config, 1);
    model.initialize(Random.fromSeed(3));
    saveModelCheckpoint(two, config, model.parameters());
    const result = await runCli(["eval", two]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /its labels go up to 9, but checkpoint .* has 2 outputs \(labels 0 to 1\)/);
    assert.equal(result.stdout, "");
  });

  test("still evaluates a checkpoint written before these keys existed, with notes saying what could not be checked", async () => {
    const old = variant("old", ({ mean: _m, std: _s, data_sha256: _d, data_files: _f, test_loss: _l, test_batch_size: _b, ...rest }) => rest);
    const { code, json, stderr } = await evalJson([old]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(json.normalization, { mean: 0.1307, mean_from: "default", std: 0.3081, std_from: "default" });
    assert.equal(json.same_data, null);
    assert.match(stderr, /records no normalisation \(written before actlab recorded it\): using mean 0\.1307 and std 0\.3081 \(the defaults\)/);
    assert.match(stderr, /records no data identity/);
  });

  test("refuses malformed recorded keys, naming the file and the key", async () => {
    const bad = variant("bad-std", (m) => ({ ...m, std: "-1" }));
    const result = await runCli(["eval", bad]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /bad-std\.safetensors: metadata std is not a valid number/);
  });
});

describe("evaluate (the library)", () => {
  const config = mlpConfig({ inSize: 4, outSize: 3, hiddenSize: 4, numHiddenLayers: 2, activation: "tanh" });
  const split = (labels: number[], rows = 2, cols = 2): MnistSplit => ({
    images: new Uint8Array(labels.length * rows * cols).fill(7), labels: Uint8Array.from(labels), count: labels.length, rows, cols,
  });

  test("refuses a label without a logit before any is read as a class", () => {
    const model = new Mlp(config, 4);
    model.initialize(Random.fromSeed(1));
    assert.throws(() => evaluate(model, split([0, 1, 2, 3, 0]), 4, { mean: 0, std: 1 }),
      (error: unknown) => error instanceof InputError && /label 3 of image 3 has no logit: the model has 3 outputs/.test(error.message));
    assert.equal(evaluate(model, split([0, 1, 2, 2, 0]), 4, { mean: 0, std: 1 }).count, 5);
  });

  test("trainJob refuses a training label without a logit before the first step", () => {
    const data = { train: split([0, 1, 5, 2]), test: split([0, 1]), source: "crafted", classes: 6 } as unknown as MnistData;
    const events: string[] = [];
    assert.throws(() => trainJob({ model: "m", seed: 0, config, settings: { ...DEFAULT_SETTINGS, batchSize: 2, testBatchSize: 2, epochs: 1 } }, data, (e) => events.push(e.type)),
      (error: unknown) => error instanceof InputError && /label 5 of image 2 has no logit/.test(error.message));
    assert.deepEqual(events, []);
  });

  test("refuses images of another pixel count", () => {
    const model = new Mlp(config, 4);
    assert.throws(() => evaluate(model, split([0, 1], 1, 1), 4, { mean: 0, std: 1 }),
      (error: unknown) => error instanceof InputError && /1×1 = 1 pixels, but the model takes 4 inputs/.test(error.message));
  });
});
