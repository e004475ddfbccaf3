// The CLI end to end, as a user runs it: the experiment's table and files, eval agreeing with the
// run's own figures, params, help and exit codes.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { actlab } from "./support/cliProcess.js";


describe("actlab CLI", () => {
  it("experiment shallow trains, prints the table, writes the run folder; eval agrees", async () => {
    const logdir = mkdtempSync(join(tmpdir(), "actlab-cli-"));
    const result = await actlab("experiment", "shallow", "--epochs", "1", "--train-limit", "1000", "--logdir", logdir, "--workers", "1");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^shallow \(/m);
    assert.match(result.stdout, /^sigmoid\s+63,370\s/m);
    assert.match(result.stdout, /^tanh\s+63,370\s/m);
    // Non-terminal output: one plain line per model and epoch.
    assert.match(result.stderr, /shallow\/tanh epoch 1: train loss \d\.\d{4}, test acc \d+\.\d\d%/);
    const dir = join(logdir, "05_shallow_mlp");
    const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const tanh = metrics.find((m) => m.model === "tanh");
    const evaluation = await actlab("eval", join(dir, "tanh.safetensors"), "--json");
    assert.equal(evaluation.code, 0, evaluation.stderr);
    assert.equal(JSON.parse(evaluation.stdout).test_acc, tanh.test_acc);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.equal(summary.rows.find((r: { model: string }) => r.model === "tanh").final_test_acc.mean, tanh.test_acc);
  });

  it("params prints the notebook's counts", async () => {
    const deeper = await actlab("params", "--layers", "10", "--hidden", "48", "--json");
    assert.equal(JSON.parse(deeper.stdout).total, 56_986);
    const listed = await actlab("params", "--layers", "3", "--hidden", "128,64");
    assert.match(listed.stdout, /total\s+109,386/);
  });

  it("has --help on every command and exit code 2 for bad usage", async () => {
    for (const command of ["experiment", "train", "params", "eval", "plot", "serve", "report"]) {
      const help = await actlab(command, "--help");
      assert.equal(help.code, 0, `${command} --help`);
      assert.match(help.stdout, new RegExp(`Usage: actlab ${command}`));
    }
    assert.equal((await actlab("no-such-command")).code, 2);
    assert.equal((await actlab("train", "--no-such-flag")).code, 2);
    const badEpochs = await actlab("train", "--epochs", "0");
    assert.equal(badEpochs.code, 2);
    assert.match(badEpochs.stderr, /--epochs must be a whole number from 1/);
    const missing = await actlab("eval", join(tmpdir(), "no-such-checkpoint.safetensors"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-checkpoint\.safetensors/);
  });
});
