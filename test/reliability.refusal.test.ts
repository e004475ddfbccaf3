// A refused run leaves the file system as it was: no empty <logdir>/resume/, no folder made for a
// run that never started, nothing added to a folder that was there.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runCli } from "./support/cliProcess.js";
import { craftDataFolder } from "./support/craftedData.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("refusal");
after(() => scratch.remove());

describe("a run refused after its folder was checked", () => {
  test("train on data the net cannot take (10 classes, 2 outputs) makes no folder, however deep", async () => {
    const dir = join(scratch.path, "new", "a", "b");
    const result = await runCli(["train", "--out", "2", "--epochs", "1", "--workers", "1", "--logdir", dir]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /its labels go up to 9, but model relu has 2 outputs/);
    assert.equal(existsSync(join(scratch.path, "new")), false);
  });

  test("train into a folder that was there leaves it as it was (no resume/, no lock)", async () => {
    const dir = join(scratch.path, "existing");
    mkdirSync(dir);
    const result = await runCli(["train", "--out", "2", "--epochs", "1", "--workers", "1", "--logdir", dir]);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(readdirSync(dir), []);
  });

  test("experiment on images of another size makes no folder", async () => {
    const data = craftDataFolder(join(scratch.path, "wide-images"), { count: 10, rows: 28, cols: 29 }, { count: 10, rows: 28, cols: 29 });
    const logdir = join(scratch.path, "experiments");
    const result = await runCli(["experiment", "shallow", "--data", data, "--epochs", "1", "--workers", "1", "--logdir", logdir]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /its images are 28×29 = 812 pixels, but model sigmoid takes 784 inputs/);
    assert.equal(existsSync(logdir), false);
  });
});
