// Disk full, for real: a small tmpfs is mounted (the tests run as root), filled, and written to.
// Every write path refuses with the same clean message (the file, "the disk is full", what was left)
// and leaves what was there whole; a real `actlab train` that runs out of space mid-run exits 2,
// says how to resume, and resumes once space is freed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  appendLineDurable,
  appendLineDurableSync,
  DiskFullError,
  readJsonLines,
  writeFileAtomic,
  writeFileAtomicSync,
} from "../src/checkpoint/atomicFile.js";
import { readSafetensors } from "../src/checkpoint/safetensors.js";
import { readEventFile } from "../src/log/eventReader.js";
import { EventFileWriter } from "../src/log/events.js";
import { runCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("diskfull");
const mountPoint = join(scratch.path, "tmpfs");
fs.mkdirSync(mountPoint);
let mounted = false;
let whyNot = "";

function mountTmpfs(size: string): void {
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint], { encoding: "utf8" });
  mounted = r.status === 0;
  whyNot = mounted ? "" : `cannot mount a tmpfs here (${(r.stderr || r.error?.message || "").trim()}): disk-full tests skipped`;
}

function unmount(): void {
  if (!mounted) return;
  const r = spawnSync("umount", [mountPoint]);
  if (r.status !== 0) spawnSync("umount", ["-l", mountPoint]);
  mounted = false;
}

/** Fills the tmpfs until only `leave` bytes are free (0: write until ENOSPC). */
function fill(leave: number): void {
  const free = () => { const s = fs.statfsSync(mountPoint); return s.bavail * s.bsize; };
  const fd = fs.openSync(join(mountPoint, `filler-${Date.now()}-${Math.random()}`), "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let left = free() - leave; left > 0; left = free() - leave) {
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    fs.closeSync(fd);
  }
}

function emptyTmpfs(): void {
  for (const name of fs.readdirSync(mountPoint)) fs.rmSync(join(mountPoint, name), { recursive: true, force: true });
}

const isDiskFull = (file: string, state: RegExp) => (e: unknown) =>
  e instanceof DiskFullError && e.message.startsWith(`${file}: cannot be written: the disk is full (ENOSPC). `) && state.test(e.message);

/** Files under `dir` that look like atomicFile's temporaries. */
function temporaries(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((p) => /\.tmp$/.test(p));
}

before(() => mountTmpfs("16m"));
after(() => {
  unmount();
  scratch.remove();
});

describe("disk full", () => {
  it("atomic replaces and appends refuse cleanly and leave the file as it was", async (t) => {
    if (!mounted) return t.skip(whyNot);
    emptyTmpfs();
    const old = join(mountPoint, "summary.json");
    fs.writeFileSync(old, '{"old": true}\n');
    const lines = join(mountPoint, "metrics.jsonl");
    fs.writeFileSync(lines, '{"epoch":1}\n');
    fill(0);
    const big = JSON.stringify({ rows: "x".repeat(200_000) });
    assert.throws(() => writeFileAtomicSync(old, big), isDiskFull(old, /The previous summary\.json is intact/));
    await assert.rejects(writeFileAtomic(old, big), isDiskFull(old, /The previous summary\.json is intact/));
    assert.equal(fs.readFileSync(old, "utf8"), '{"old": true}\n');
    const fresh = join(mountPoint, "jobs.json");
    assert.throws(() => writeFileAtomicSync(fresh, big), isDiskFull(fresh, /It was not created/));
    assert.equal(fs.existsSync(fresh), false);
    // The line is larger than the room left in the file's last page: part of it is written before
    // ENOSPC, and must be cut off again.
    assert.throws(() => appendLineDurableSync(lines, big), isDiskFull(lines, /the file still ends at its last whole record/));
    await assert.rejects(appendLineDurable(lines, big), isDiskFull(lines, /the file still ends at its last whole record/));
    assert.equal(fs.readFileSync(lines, "utf8"), '{"epoch":1}\n');
    assert.deepEqual(temporaries(mountPoint), []);
  });

  it("an event file that runs out of space is cut back to its last whole record, with the same message", (t) => {
    if (!mounted) return t.skip(whyNot);
    emptyTmpfs();
    const dir = join(mountPoint, "events");
    const writer = new EventFileWriter(dir, { flushSecs: 1e9, maxQueue: 1e9 });
    writer.addScalar("warm", 1, 1);
    writer.flush();
    fill(0);
    // Far more than any page left: part of it lands before ENOSPC.
    for (let i = 0; i < 20_000; i++) writer.addScalar(`loss/${"x".repeat(40)}`, i, i);
    assert.throws(() => writer.flush(), isDiskFull(writer.path, /The event file ends at its last whole record/));
    const events = readEventFile(writer.path);
    assert.deepEqual(events.flatMap((e) => e.scalars.map((s) => s.tag)), ["warm"]);
  });

  it("`actlab train` out of space at a resumable state: exit 2, the file named, the folder intact, and it resumes", async (t) => {
    if (!mounted) return t.skip(whyNot);
    emptyTmpfs();
    // A net whose resumable state (weights and momentum, 3.2 MB) dwarfs an epoch's logs (~0.1 MB):
    // with 5 MB free the first state fits with room to spare for logs, and the second (written
    // beside the first, then renamed over it) cannot.
    fill(5 * 1024 * 1024);
    const dir = join(mountPoint, "run");
    const args = ["train", "--logdir", dir, "--hidden", "512", "--layers", "2", "--epochs", "3", "--train-limit", "300", "--workers", "1"];
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    const state = join(dir, "resume", "relu.safetensors");
    assert.match(r.stderr, new RegExp(`actlab: ${state.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: cannot be written: the disk is full \\(ENOSPC\\)`));
    assert.match(r.stderr, /The previous relu\.safetensors is intact/);
    assert.match(r.stderr, /The run can be resumed: free some space, then continue with:\n.*actlab train --resume /);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");

    // What is there is whole: the JSON parses, every safetensors decodes, no temporary is left.
    JSON.parse(fs.readFileSync(join(dir, "config.json"), "utf8"));
    assert.ok(readJsonLines(join(dir, "metrics.jsonl")).length >= 1);
    const saved = readSafetensors(state);
    assert.ok(saved.metadata.resume, "the epoch-1 resumable state");
    assert.deepEqual(temporaries(dir), []);

    // Free the space: the advice holds.
    for (const name of fs.readdirSync(mountPoint)) if (name.startsWith("filler")) fs.rmSync(join(mountPoint, name));
    const resumed = await runCli(["train", "--resume", dir, "--workers", "1"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readSafetensors(join(dir, "relu.safetensors")).metadata.epochs, "3");
    JSON.parse(fs.readFileSync(join(dir, "summary.json"), "utf8"));
  });

  it("`actlab train` with no room at all: a clean refusal, whichever file comes first", async (t) => {
    if (!mounted) return t.skip(whyNot);
    emptyTmpfs();
    fill(0);
    const r = await runCli(["train", "--logdir", join(mountPoint, "run"), "--hidden", "16", "--layers", "2", "--epochs", "1", "--train-limit", "100", "--workers", "1"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /disk is full|no space left on device/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  });
});
