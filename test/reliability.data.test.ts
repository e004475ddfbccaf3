// Resuming on other data is refused: config.json records what the data were (sizes and SHA-256 of the
// four IDX files), and `--resume` compares them with the files it is given before anything is
// written. Moved or compressed copies of the same files pass.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { craftIdx } from "./support/bytes.js";
import { runCli } from "./support/cliProcess.js";
import { seededRandom, temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("resume-data");
after(() => scratch.remove());

/** A 28×28 set with seeded pixels and labels 0..9; `change` alters one byte of one file. */
function writeSet(dir: string, options: { gzip?: boolean; change?: "test-label" | "train-pixel" } = {}): void {
  const random = seededRandom(7);
  const pixels = (count: number) => Uint8Array.from({ length: count * 784 }, () => (random() < 0.8 ? 0 : Math.floor(random() * 256)));
  const labels = (count: number) => Uint8Array.from({ length: count }, (_, i) => i % 10);
  const files: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": craftIdx([300, 28, 28], pixels(300)),
    "train-labels-idx1-ubyte": craftIdx([300], labels(300)),
    "t10k-images-idx3-ubyte": craftIdx([100, 28, 28], pixels(100)),
    "t10k-labels-idx1-ubyte": craftIdx([100], labels(100)),
  };
  if (options.change === "test-label") files["t10k-labels-idx1-ubyte"][8 + 5] = 3;
  if (options.change === "train-pixel") files["train-images-idx3-ubyte"][16 + 1000] ^= 0xff;
  for (const [name, bytes] of Object.entries(files)) {
    if (options.gzip) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
}

describe("resume on other data", () => {
  const original = scratch.fresh();
  writeSet(original);
  const train = ["train", "--activations", "tanh", "--layers", "2", "--hidden", "16", "--epochs", "2", "--workers", "1"];

  test("differing files are refused with exit 2, naming each file, and the run folder is left as it was", async () => {
    const run = join(scratch.fresh(), "run");
    const first = await runCli([...train, "--data", original, "--logdir", run]);
    assert.equal(first.code, 0, first.stderr);
    const config = JSON.parse(readFileSync(join(run, "config.json"), "utf8"));
    assert.match(config.dataIdentity.sha256, /^[0-9a-f]{64}$/);
    const before = ["config.json", "metrics.jsonl", "summary.json", "tanh.safetensors"].map((f) => readFileSync(join(run, f)));

    for (const change of ["test-label", "train-pixel"] as const) {
      const other = scratch.fresh();
      writeSet(other, { change });
      const r = await runCli(["train", "--resume", run, "--data", other, "--workers", "1"]);
      assert.equal(r.code, 2, r.stderr);
      const file = change === "test-label" ? "t10k-labels-idx1-ubyte" : "train-images-idx3-ubyte";
      assert.match(r.stderr, new RegExp(`the data in .* are not the data this run was trained on \\(${file}: content differs`));
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    }
    const after = ["config.json", "metrics.jsonl", "summary.json", "tanh.safetensors"].map((f) => readFileSync(join(run, f)));
    assert.deepEqual(after, before, "nothing in the run folder changed");
  });

  test("a moved, gzipped copy of the same files resumes; a run without a recorded identity resumes with a warning", async () => {
    const run = join(scratch.fresh(), "run");
    assert.equal((await runCli([...train, "--data", original, "--logdir", run])).code, 0);
    const moved = scratch.fresh();
    writeSet(moved, { gzip: true });
    const r = await runCli(["train", "--resume", run, "--data", moved, "--workers", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/);

    const configPath = join(run, "config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    delete config.dataIdentity;
    writeFileSync(configPath, JSON.stringify(config));
    const old = await runCli(["train", "--resume", run, "--data", moved, "--workers", "1"]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stderr, /records no data identity \(written by an older actlab\)/);
  });
});
