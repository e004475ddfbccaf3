// The presets (PRESET_EXPERIMENTS): each model trains with its own settings over the run's, config.json
// records them per model, a resume honours them, and the CLI lists and guards them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { loadMnist } from "../src/data/mnist.js";
import { InputError } from "../src/errors.js";
import { parseRunConfig } from "../src/runFormat.js";
import { StopFlag } from "../src/train/pool.js";
import { loadExperimentSpec, presetExperiment, PRESET_EXPERIMENTS, runExperiments } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { metricsWithoutTimes, runCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("actlab-presets-");
after(() => scratch.remove());

describe("the init preset's models", () => {
  test("the deeper net with sigmoid, tanh and relu under pytorch, xavier-normal and kaiming-normal: nine models, folder-safe names", () => {
    const spec = presetExperiment("init", "runs", DEFAULT_SETTINGS, [0, 1, 2]);
    assert.equal(spec.dir, join("runs", PRESET_EXPERIMENTS.init.folder));
    assert.deepEqual(spec.models.map((m) => m.model), [
      "sigmoid_pytorch", "sigmoid_xavier-normal", "sigmoid_kaiming-normal",
      "tanh_pytorch", "tanh_xavier-normal", "tanh_kaiming-normal",
      "relu_pytorch", "relu_xavier-normal", "relu_kaiming-normal",
    ]);
    for (const m of spec.models) {
      assert.deepEqual(m.config.hiddenSizes, Array(9).fill(48), m.model);
      assert.equal(m.model, `${m.config.activation}_${m.settings?.init}`);
      assert.match(m.model, /^[A-Za-z0-9_.-]+$/);
    }
    // The run's own --init is not the one a model trains with.
    assert.equal(spec.settings.init, "pytorch");
  });
});

describe("per-model settings through a run and its resume (library, one thread)", () => {
  const data = loadMnist();
  const spec = (dir: string) => ({
    ...presetExperiment("init", dir, { ...DEFAULT_SETTINGS, epochs: 2, batchSize: 50 }, [0], { activations: ["sigmoid"], trainLimit: 300 }),
    dir,
  });

  test("config.json records each model's init; its checkpoint was drawn with it; resuming starts the unstarted models with theirs", async () => {
    const whole = join(scratch.path, "whole");
    const [finished] = await runExperiments([spec(whole)], { data, workers: 0 });
    assert.equal(finished.status, "finished");
    const config = parseRunConfig(JSON.parse(readFileSync(join(whole, "config.json"), "utf8")), "config.json");
    assert.deepEqual(config.models.map((m) => [m.model, m.settings?.init]), [
      ["sigmoid_pytorch", "pytorch"], ["sigmoid_xavier-normal", "xavier-normal"], ["sigmoid_kaiming-normal", "kaiming-normal"],
    ]);
    assert.equal(config.settings.init, "pytorch");
    for (const m of config.models) {
      assert.equal(readSafetensors(join(whole, `${m.model}.safetensors`)).metadata.init, m.settings?.init, m.model);
    }
    // The three inits train three different nets from one seed.
    const losses = new Set(finished.rows.map((r) => r.final_train_loss.mean));
    assert.equal(losses.size, 3);

    // Stopped in the first model's first epoch: the other two have not started, and resume (from
    // config.json alone, as the CLI does) must start them with their own inits.
    const parted = join(scratch.path, "parted");
    const stopFlag = new StopFlag();
    let steps = 0;
    const [first] = await runExperiments([spec(parted)], {
      data, workers: 0, stopFlag, stepEventIntervalMs: 0,
      onEvent: (_, event) => { if (event.type === "step" && ++steps === 3) stopFlag.raise(); },
    });
    assert.equal(first.status, "interrupted");
    const { data: _data, ...reloaded } = loadExperimentSpec(parted);
    assert.deepEqual(reloaded.models.map((m) => m.settings), spec(parted).models.map((m) => m.settings));
    const [second] = await runExperiments([reloaded], { data, workers: 0, resume: true });
    assert.equal(second.status, "finished");
    assert.deepEqual(metricsWithoutTimes(parted), metricsWithoutTimes(whole));
    for (const m of config.models) {
      assert.deepEqual(readFileSync(join(parted, `${m.model}.safetensors`)), readFileSync(join(whole, `${m.model}.safetensors`)), m.model);
    }
  });

  test("a model setting this version does not know is refused by name, not trained without", () => {
    const { name, models, seeds, settings } = spec("runs/x");
    const config = JSON.parse(JSON.stringify({ name, models, seeds, settings }));
    assert.deepEqual(parseRunConfig(config, "config.json").models.map((m) => m.settings), models.map((m) => m.settings));
    config.models[1].settings = { init: "xavier-normal", norm: "batch" };
    assert.throws(() => parseRunConfig(config, "config.json"), (error: unknown) =>
      error instanceof InputError && /models\[1\]\.settings/.test(error.message) && /norm/.test(error.message));
    config.models[1].settings = { init: "glorot" };
    assert.throws(() => parseRunConfig(config, "config.json"), /models\[1\]\.settings\.init/);
  });
});

describe("actlab experiment and the presets", () => {
  test("--help lists each preset from the table", async () => {
    const result = await runCli(["experiment", "--help"]);
    assert.equal(result.code, 0);
    const help = result.stdout.replace(/\s+/g, " ");
    for (const [name, preset] of Object.entries(PRESET_EXPERIMENTS)) {
      assert.ok(help.includes(`${name} (${preset.question}`), `${name} in the help`);
      for (const value of preset.vary.values) assert.ok(help.includes(value), `${value} in the help`);
    }
  });

  test("a typed flag that the preset sets per model is refused (exit 2), before any folder is made", async () => {
    const logdir = scratch.fresh();
    const result = await runCli(["experiment", "init", "--init", "xavier-normal", "--logdir", logdir, "--epochs", "1"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /experiment init trains each model with its own --init \(pytorch, xavier-normal, kaiming-normal\); drop --init/);
  });
});
