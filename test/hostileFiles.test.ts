// Hostile checkpoint files: whatever sits at the path `eval` or `--resume` is given, the reader refuses
// it with a clear InputError (exit 2 from the CLI) after reading only what it needs, and never hangs,
// never grows memory without bound, never prints a stack trace. Large files are sparse (truncate), so
// they take no real disk space.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadModelCheckpoint, loadResumeState } from "../src/checkpoint/modelCheckpoint.js";
import {
  encodeSafetensors,
  MAX_CHECKPOINT_BYTES,
  readSafetensorsFile,
  type SafetensorsLimits,
} from "../src/checkpoint/safetensors.js";
import { InputError } from "../src/errors.js";
import { danglingLinkReason } from "../src/fsChecks.js";
import { prepareWritableDir } from "../src/train/runDirectory.js";
import { CLI } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("hostile");
after(() => scratch.remove());
const dir = scratch.fresh();

/** `actlab eval <path>` in a child with a time limit: a hang ends as a failed assertion, not a stuck suite. */
function evalCli(path: string): { status: number | null; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, "eval", path], { encoding: "utf8", timeout: 15_000, killSignal: "SIGKILL" });
  return { status: r.status, stderr: r.stderr ?? "", ms: Date.now() - started };
}

function assertCliRefuses(path: string, pattern: RegExp): void {
  const r = evalCli(path);
  assert.equal(r.status, 2, `actlab eval ${path}: exit status (null: killed after hanging ${r.ms} ms); stderr:\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

function assertRefused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && pattern.test(e.message), String(pattern));
}

/** A file of `size` bytes (sparse past `head`) whose first bytes are `head`. */
function sparseFile(name: string, size: number, head: Uint8Array = new Uint8Array(0)): string {
  const path = join(dir, name);
  fs.writeFileSync(path, head);
  fs.truncateSync(path, size);
  return path;
}

/** A header (8-byte length + JSON) declaring `header`, with no data after it. */
function headerOnly(header: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe("hostile checkpoint files are refused, quickly and cleanly", () => {
  it("a FIFO: refused without waiting for a writer (eval and the library)", (t) => {
    const fifo = join(dir, "pipe.safetensors");
    const made = spawnSync("mkfifo", [fifo]);
    if (made.status !== 0) {
      t.skip("mkfifo is not available on this machine");
      return;
    }
    assertCliRefuses(fifo, /pipe\.safetensors: is a named pipe \(FIFO\), not a regular safetensors file/);
    assertRefused(() => readSafetensorsFile(fifo), /FIFO/);
    assertRefused(() => loadResumeState(fifo), /FIFO/);
  });

  it("/dev/zero, directly and through a symbolic link: refused, no unbounded read", () => {
    const link = join(dir, "zero.safetensors");
    fs.symlinkSync("/dev/zero", link);
    assertCliRefuses("/dev/zero", /\/dev\/zero: is a character device/);
    assertCliRefuses(link, /zero\.safetensors: is a character device/);
  });

  it("a directory", () => {
    assertCliRefuses(dir, /is a directory, not a safetensors file/);
    assertRefused(() => readSafetensorsFile(dir), /is a directory/);
  });

  it("a 3 GB file (sparse): refused by its header, not a stack trace", () => {
    const zeros = sparseFile("zeros3g.safetensors", 3e9);
    assertCliRefuses(zeros, /zeros3g\.safetensors: not a valid safetensors file: header does not start with '\{'/);
    // A sound header declaring one small tensor, then 3 GB of nothing: trailing bytes, data never read.
    const small = encodeSafetensors([{ name: "w", dtype: "F32", shape: [2], data: new Float32Array(2) }]);
    const padded = sparseFile("trailing3g.safetensors", 3e9, small);
    assertCliRefuses(padded, /trailing bytes/);
  });

  it("a file over the size limit is refused before any of it is read", () => {
    const big = sparseFile("huge.safetensors", MAX_CHECKPOINT_BYTES + 8);
    assertRefused(() => readSafetensorsFile(big), /over the 4294967296-byte limit/);
    const limits: SafetensorsLimits = { maxHeaderBytes: 1000, maxFileBytes: 100 };
    const small = sparseFile("small.safetensors", 101);
    assertRefused(() => readSafetensorsFile(small, limits), /101 bytes, over the 100-byte limit/);
  });

  it("a 1.5 GB file with a bad header is refused without reading it whole (time and memory)", () => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, 2n ** 63n, true);
    const path = sparseFile("bad1g5.safetensors", 1.5e9, head);
    const before = process.memoryUsage();
    const started = performance.now();
    assertRefused(() => readSafetensorsFile(path), /header length 9223372036854775808 exceeds the 100000000-byte limit/);
    const ms = performance.now() - started;
    const grown = process.memoryUsage().arrayBuffers - before.arrayBuffers;
    assert.ok(grown < 50e6, `read ${grown} bytes of buffers for an 8-byte header`);
    assert.ok(ms < 500, `took ${ms} ms: the file was read`);
  });

  it("a header claiming a huge header length, huge tensors or a huge net", () => {
    // Header length larger than the file.
    const h = new Uint8Array(16);
    new DataView(h.buffer).setBigUint64(0, 1000n, true);
    fs.writeFileSync(join(dir, "short.safetensors"), h);
    assertRefused(() => readSafetensorsFile(join(dir, "short.safetensors")), /header length 1000 is larger than the 8 bytes/);
    // A tensor of 4e15 bytes in a file of a few hundred.
    fs.writeFileSync(join(dir, "bigtensor.safetensors"), headerOnly({ w: { dtype: "F32", shape: [1e15], data_offsets: [0, 4e15] } }));
    assertCliRefuses(join(dir, "bigtensor.safetensors"), /data_offsets \[0, 4000000000000000\] beyond the 0-byte data buffer/);
    // Metadata describing a net of 1e18 parameters over a file that holds 2 values.
    const metadata = { format: "actlab-mlp/1", in_size: "1000000000", out_size: "10", hidden_sizes: "[1000000000]", num_hidden_layers: "2", activation: "relu", leaky_slope: "0.01" };
    const lying = encodeSafetensors([{ name: "layers.0.weight", dtype: "F32", shape: [2], data: new Float32Array(2) }], metadata);
    fs.writeFileSync(join(dir, "bignet.safetensors"), lying);
    assertRefused(() => loadModelCheckpoint(join(dir, "bignet.safetensors")), /metadata declares a net of \d.* parameters but the file holds 2 values/);
    assertCliRefuses(join(dir, "bignet.safetensors"), /bignet\.safetensors: metadata declares a net/);
  });
});

describe("a log folder that is a dangling symbolic link", () => {
  it("train and experiment refuse --logdir with exit 2, naming the link and its target", () => {
    const link = join(dir, "dangling-logdir");
    fs.symlinkSync(join(dir, "no", "such", "target"), link);
    for (const args of [
      ["train", "--logdir", link, "--epochs", "1", "--train-limit", "10"],
      ["train", "--logdir", join(link, "below"), "--epochs", "1", "--train-limit", "10"],
      ["experiment", "shallow", "--logdir", link, "--epochs", "1", "--train-limit", "10"],
    ]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /dangling-logdir is a symbolic link to .*no\/such\/target, which does not exist/, args.join(" "));
      assert.doesNotMatch(r.stderr, /ENOENT|mkdir/, args.join(" "));
    }
  });

  it("the library check (any folder a command creates) says the same", () => {
    const link = join(dir, "dangling-folder");
    fs.symlinkSync(join(dir, "missing"), link);
    assertRefused(() => prepareWritableDir(join(link, "run"), "log directory"), /dangling-folder is a symbolic link to .*missing, which does not exist/);
    assert.equal(danglingLinkReason(dir), undefined);
    assert.equal(danglingLinkReason(join(dir, "not-there", "x")), undefined);
  });
});
