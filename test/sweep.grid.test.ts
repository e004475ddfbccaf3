// Sweep grids: expansion and trial ids, the spec file (YAML and JSON) read as the flags are, and the
// refusals (bad values naming the flag or file field, duplicates, collisions, nets that cannot be built).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../src/errors.js";
import { SWEEP_FLAGS } from "../src/cli/commands/sweep.js";
import { AXES, AXIS_KEYS, buildGrid, expandGrid, gridDifferences, rawFromFlag, SPEC_NAMES, specName, trialId, type RawGrid } from "../src/sweep/grid.js";
import { ORIGINAL_ACTIVATIONS, PRESETS } from "../src/sweep/presets.js";
import { parseSpecText, readSpecFile } from "../src/sweep/specFile.js";
import { sweepFileSchema, trialRowSchema } from "../src/sweepFormat.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("sweep-grid");
after(() => scratch.remove());

/** Raw values as the command line gives them. */
function flags(values: Record<string, string>): RawGrid {
  return Object.fromEntries(Object.entries(values).map(([key, text]) => {
    const f = Object.values(SWEEP_FLAGS).find((g) => specName(g) === key)!;
    return [key, rawFromFlag(f, text)];
  }));
}

const ISSUE_EXAMPLE = { activations: "sigmoid,tanh,relu", layers: "2,4,8,16", hidden: "64", init: "pytorch,kaiming-normal", lr: "0.01,0.1", seeds: "0,1,2", epochs: "10" };

test("the issue's example: every combination is a trial, ids name what varies, seeds are not an axis", () => {
  const grid = buildGrid([flags(ISSUE_EXAMPLE)]);
  const trials = expandGrid(grid);
  assert.equal(trials.length, 3 * 4 * 2 * 2);
  assert.deepEqual(grid.seeds, [0, 1, 2]);
  const ids = trials.map((t) => t.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.includes("relu_L8_H64_kaiming-normal_lr0.1"), ids.join(" "));
  assert.equal(ids[0], "sigmoid_L2_H64_pytorch_lr0.01");
  const relu = trials.find((t) => t.id === "relu_L8_H64_kaiming-normal_lr0.1")!;
  assert.deepEqual(relu.settings, {
    activation: "relu", layers: 8, hidden: 64, init: "kaiming-normal", norm: "none", optimizer: "sgd", lr: 0.1, momentum: null, weightDecay: null, betas: null, eps: null,
    batchSize: 64, epochs: 10, leakySlope: 0.01, trainLimit: null,
  });
  assert.deepEqual(relu.config.hiddenSizes, [64, 64, 64, 64, 64, 64, 64]);
  // Ids do not depend on the order the values were listed in.
  const reordered = expandGrid(buildGrid([flags({ ...ISSUE_EXAMPLE, activations: "relu,tanh,sigmoid", lr: "0.1,0.01" })]));
  assert.deepEqual(new Set(reordered.map((t) => t.id)), new Set(ids));
});

test("the depth preset: the twelve original activations × 8 depths, width 64, PyTorch init, 3 seeds, 10 epochs; flags override", () => {
  const grid = buildGrid([PRESETS.depth]);
  assert.deepEqual(grid.activation, [...ORIGINAL_ACTIVATIONS]);
  assert.deepEqual(grid.layers, [2, 3, 4, 6, 8, 10, 15, 20]);
  assert.deepEqual(grid.hidden, [64]);
  assert.deepEqual(grid.init, ["pytorch"]);
  assert.deepEqual(grid.seeds, [0, 1, 2]);
  assert.deepEqual(grid.epochs, [10]);
  assert.equal(expandGrid(grid).length, 96);
  const quick = buildGrid([PRESETS.depth, flags({ epochs: "1", seeds: "0", "train-limit": "2000" })]);
  assert.deepEqual([quick.epochs, quick.seeds, quick.trainLimit], [[1], [0], [2000]]);
  assert.equal(expandGrid(quick)[0].id, "sigmoid_L2_H64");
});

test("a spec file, YAML or JSON, is the same grid as the flags", () => {
  const yaml = join(scratch.path, "grid.yaml");
  writeFileSync(yaml, "activations: [sigmoid, tanh, relu]\nlayers: [2, 4, 8, 16]\nhidden: 64\ninit: pytorch,kaiming-normal\nlr: [0.01, 0.1]\nseeds: [0, 1, 2]\nepochs: 10\n");
  const json = join(scratch.path, "grid.json");
  writeFileSync(json, JSON.stringify({ activations: "sigmoid,tanh,relu", layers: [2, 4, 8, 16], hidden: [64], init: ["pytorch", "kaiming-normal"], lr: [0.01, 0.1], seeds: "0,1,2", epochs: [10] }));
  const fromFlags = buildGrid([flags(ISSUE_EXAMPLE)]);
  assert.deepEqual(buildGrid([readSpecFile(yaml)]), fromFlags);
  assert.deepEqual(buildGrid([readSpecFile(json)]), fromFlags);
  // Flags typed as well override the file, name by name.
  assert.deepEqual(buildGrid([readSpecFile(yaml), flags({ lr: "0.5" })]).lr, [0.5]);
  // A nested list is one net's per-layer widths (the flag's own comma form).
  const perLayer = buildGrid([parseSpecText("layers: 3\nhidden: [64, [128, 32]]\n", "w.yaml")]);
  assert.deepEqual(perLayer.hidden, [64, [128, 32]]);
  assert.deepEqual(expandGrid(perLayer).map((t) => t.id), ["relu_L3_H64", "relu_L3_H128-32"]);
});

function refuses(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

test("bad values are refused naming the flag or the file and field, with every problem at once", () => {
  refuses(() => buildGrid([flags({ lr: "0.1,fast", activations: "relu,swish" })]), /--activations: unknown activation "swish"[\s\S]*--lr must be a positive finite number; got "fast"/);
  refuses(() => buildGrid([flags({ lr: "0.1,1e-1" })]), /--lr lists 1e-1 twice/);
  refuses(() => buildGrid([flags({ seeds: "0,0" })]), /--seeds lists seed 0 twice/);
  refuses(() => buildGrid([flags({ mean: "0.1,0.2" })]), /--mean takes one value, not a list/);
  refuses(() => buildGrid([parseSpecText("lr: [0.01, -1]\n", "s.yaml")]), /s\.yaml: lr must be a positive finite number; got "-1"/);
  refuses(() => parseSpecText("learning-rate: 0.1\n", "s.yaml"), /s\.yaml: learning-rate: not a sweep setting \(did you mean "leaky-slope"|s\.yaml: learning-rate: not a sweep setting/);
  refuses(() => parseSpecText("lr: {a: 1}\n", "s.yaml"), /s\.yaml: lr must be a value or a list/);
  refuses(() => parseSpecText("lr: [0.1\n", "s.yaml"), /--spec s\.yaml is not valid YAML/);
  refuses(() => parseSpecText("{", "s.json"), /--spec s\.json is not valid JSON/);
  refuses(() => parseSpecText("lr: 1", "s.toml"), /give a \.yaml, \.yml or \.json file/);
  refuses(() => readSpecFile(join(scratch.path, "missing.yaml")), /--spec .*missing\.yaml cannot be read: ENOENT/);
  // A net that cannot be built is refused before any work, naming the trial.
  refuses(() => expandGrid(buildGrid([flags({ layers: "1,2" })])), /trial relu_L1_H64: numHiddenLayers must be an integer of at least 2/);
  refuses(() => expandGrid(buildGrid([parseSpecText("layers: [3, 4]\nhidden: [[64, 32]]\n", "s.yaml")])), /trial relu_L4_H64-32: hidden size must be .* exactly 3 widths/);
});

test("a grid whose trials would share an id is refused", () => {
  // One width and the per-layer list of the same widths are different values, with different ids.
  const grid = buildGrid([parseSpecText("layers: 3\nhidden: [64, [64, 64]]\n", "s.yaml")]);
  assert.deepEqual(grid.hidden, [64, [64, 64]]);
  assert.doesNotThrow(() => expandGrid(grid)); // H64 and H64-64: distinct ids (the same net, but asked for).
  // Values that parse alike are refused as duplicates before expansion; a grid built otherwise (a
  // sweep.json edited by hand) still meets the id guard.
  const clash = { ...grid, hidden: [64], init: ["pytorch", "pytorch"] as typeof grid.init };
  refuses(() => expandGrid(clash), /two trials would share the id relu_L3_H64_pytorch/);
});

test("every list flag of the sweep is an axis or the seeds; the ids' labels cover every axis", () => {
  const listFlags = Object.values(SWEEP_FLAGS).filter((f) => f.list).map(specName).sort();
  assert.deepEqual(listFlags, [...AXIS_KEYS.map((a) => specName(AXES[a].flag)), "seeds"].sort());
  for (const name of listFlags) assert.ok(SPEC_NAMES.includes(name));
  const grid = buildGrid([flags({ lr: "0.1,0.2", momentum: "0,0.9", "batch-size": "32,64", epochs: "1,2", "leaky-slope": "0.01,0.2", "train-limit": "100,200" })]);
  assert.equal(trialId(expandGrid(grid)[0].settings, AXIS_KEYS), "relu_L5_H64_pytorch_norm-none_sgd_lr0.1_mom0_wddefault_betasdefault_epsdefault_bs32_ep1_slope0.01_n100");
});

test("two grids' differences are named field by field", () => {
  const a = buildGrid([flags({ lr: "0.01" })]);
  const b = buildGrid([flags({ lr: "0.01,0.1", seeds: "1" })]);
  assert.deepEqual(gridDifferences(a, a), []);
  assert.deepEqual(gridDifferences(b, a), ["lr: [0.01,0.1] asked, [0.01] in the folder", "seeds: [1] asked, [0] in the folder"]);
});

test("the sweep schemas refuse what the writer never writes", () => {
  const row = { trial: "relu_L2_H64", seed: 0, settings: { activation: "relu", layers: 2, hidden: 64, init: "pytorch", norm: "none", optimizer: "sgd", lr: 0.1, momentum: 0.9, weightDecay: null, betas: null, eps: null, batchSize: 64, epochs: 1, leakySlope: 0.01, trainLimit: null }, status: "finished", epochs: 1, final_test_acc: 0.9, best_test_acc: 0.9, final_train_loss: null, epoch_first_50: 1, grad_norm_ratio: 2, seconds: 1 };
  assert.ok(trialRowSchema.safeParse(row).success);
  assert.ok(Number.isNaN(trialRowSchema.parse(row).final_train_loss));
  assert.equal(trialRowSchema.safeParse({ ...row, status: "interrupted" }).success, false);
  assert.equal(trialRowSchema.safeParse({ ...row, epoch_first_50: 0 }).success, false);
  assert.equal(sweepFileSchema.safeParse({ format: 1, name: "x", grid: {}, data: {}, trials: [] }).success, false);
});
