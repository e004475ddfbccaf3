// One run, one writer: a second process pointed at a run directory in use is refused (exit 2, the
// holder named); a lock left by a killed process is detected and taken over.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { InputError } from "../src/errors.js";
import { RunDirectory } from "../src/train/runDirectory.js";
import { lockPaths, lockRunDirectory } from "../src/train/runLock.js";
import { runCli, startCli } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("lock");
after(() => scratch.remove());

function folder(name: string): string {
  const dir = join(scratch.path, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("the run directory lock (library)", () => {
  test("a second open in use is refused naming the holder; closing releases lock and owner file", () => {
    const dir = folder("twice");
    const first = RunDirectory.open(dir, { multipleSeeds: false });
    const { lock, owner } = lockPaths(dir);
    assert.deepEqual(
      { ...JSON.parse(readFileSync(owner, "utf8")), since: "-" },
      { pid: process.pid, host: hostname(), since: "-" },
    );
    assert.throws(() => RunDirectory.open(dir, { multipleSeeds: false }),
      (error: Error) => error instanceof InputError && error.message.includes(`run directory ${dir} is in use by another actlab process (process ${process.pid} on ${hostname()}`));
    first.close();
    assert.equal(existsSync(lock), false);
    assert.equal(existsSync(owner), false);
    RunDirectory.open(dir, { multipleSeeds: false }).close();
  });

  test("stale locks are taken over: a dead owner on this host, or an old lock with no owner file", () => {
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    // A pid that cannot be running: above the kernel's pid_max (at most 2^22).
    const dead = folder("dead-owner");
    mkdirSync(lockPaths(dead).lock);
    writeFileSync(lockPaths(dead).owner, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), since: "then" }));
    lockRunDirectory(dead, warn)();
    assert.match(warnings[0], /taking over the stale lock on .*dead-owner \(held by process 4194311, which is no longer running\)/);

    const anonymous = folder("no-owner");
    mkdirSync(lockPaths(anonymous).lock);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPaths(anonymous).lock, old, old);
    lockRunDirectory(anonymous, warn)();
    assert.match(warnings[1], /held by a lock without an owner, untouched for 60 s/);
  });

  test("live locks are kept: a fresh lock without owner file, another host's recent lock, a live process here", () => {
    const refused = (dir: string) => assert.throws(() => lockRunDirectory(dir, () => assert.fail("no takeover expected")), /is in use by another actlab process/);
    const fresh = folder("fresh-anonymous");
    mkdirSync(lockPaths(fresh).lock);
    refused(fresh);
    const foreign = folder("foreign");
    mkdirSync(lockPaths(foreign).lock);
    writeFileSync(lockPaths(foreign).owner, JSON.stringify({ pid: 2 ** 22 + 7, host: `not-${hostname()}`, since: "then" }));
    refused(foreign);
    const live = folder("live");
    mkdirSync(lockPaths(live).lock);
    // pid 1 always runs.
    writeFileSync(lockPaths(live).owner, JSON.stringify({ pid: 1, host: hostname(), since: "then" }));
    refused(live);
  });
});

describe("the run directory lock between processes", () => {
  test("a second actlab is refused while the first trains; after the first is SIGKILLed its lock is taken over", async () => {
    const dir = join(scratch.path, "busy");
    const args = ["train", "--activations", "tanh", "--epochs", "4", "--train-limit", "2000", "--workers", "1"];
    const first = startCli([...args, "--logdir", dir]);
    await first.waitForStderr(/train\/tanh epoch 1:/);
    // Stopped, it holds the lock and stays alive for as long as the others take to start.
    first.child.kill("SIGSTOP");
    const [resume, fresh] = await Promise.all([
      runCli(["train", "--resume", dir, "--workers", "1"]),
      runCli([...args, "--logdir", dir]),
    ]);
    for (const second of [resume, fresh]) {
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`actlab: run directory ${dir} is in use by another actlab process \\(process ${first.child.pid} on ${hostname()}, since `));
    }
    first.child.kill("SIGKILL");
    await first.done;
    assert.ok(existsSync(lockPaths(dir).lock), "SIGKILL leaves the lock behind");
    const after = await runCli(["train", "--resume", dir, "--workers", "1"]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stderr, new RegExp(`actlab: warning: taking over the stale lock on ${dir} \\(held by process ${first.child.pid}, which is no longer running\\)`));
    assert.equal(existsSync(lockPaths(dir).lock), false, "released at exit");
    assert.equal(existsSync(lockPaths(dir).owner), false);
    const epochs = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line).epoch);
    assert.deepEqual(epochs, Array.from({ length: 4 }, (_, i) => i + 1), "the resumed run has every epoch once");
  });
});
