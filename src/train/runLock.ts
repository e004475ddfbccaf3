// One run directory, one writer. The lock is proper-lockfile's (an atomic mkdir of <dir>/.lock whose
// mtime is refreshed while held); beside it, <dir>/.lock.owner says which process holds it. A lock
// whose owner has died on this host (SIGKILL, power loss) is taken over at once instead of waiting
// for its mtime to age, and a lock from another host is stale once it has not been refreshed for
// STALE_FOREIGN_MS.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { InputError } from "../errors.js";

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** How often the holder refreshes the lock's mtime. */
const REFRESH_MS = 5_000;
/** A lock held from another host is stale when its mtime is older than this. */
const STALE_FOREIGN_MS = 120_000;
/** A lock without an owner file (killed between mkdir and writing it) is stale after this. */
const STALE_ANONYMOUS_MS = 30_000;
// proper-lockfile's own staleness is set out of reach: a main thread busy training (workers 0) cannot
// refresh the mtime, and that must not let a second process on this host steal the lock. Staleness is
// decided here instead, from the owner file.
const LIBRARY_STALE_MS = 24 * 3_600_000;

export function lockPaths(dir: string): { lock: string; owner: string } {
  return { lock: join(dir, ".lock"), owner: join(dir, ".lock.owner") };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    return Number.isSafeInteger(owner.pid) && typeof owner.host === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** Why the lock at `dir` may be taken over, or undefined when its holder may still be at work. */
function staleReason(dir: string): string | undefined {
  const paths = lockPaths(dir);
  const owner = readOwner(paths.owner);
  const age = ageMs(paths.lock);
  if (!owner) return age > STALE_ANONYMOUS_MS ? `a lock without an owner, untouched for ${Math.round(age / 1000)} s` : undefined;
  if (owner.host === hostname()) {
    if (owner.pid === process.pid) return undefined;
    return isAlive(owner.pid) ? undefined : `process ${owner.pid}, which is no longer running`;
  }
  return age > STALE_FOREIGN_MS ? `process ${owner.pid} on ${owner.host}, silent for ${Math.round(age / 1000)} s` : undefined;
}

/**
 * Whether a writer may still be at work in `dir`: its lock is there and not stale by the rules above
 * (a dead owner on this host, or a silent one elsewhere, does not count). Readers such as the
 * dashboard ask this rather than the lock folder's mere presence, which a SIGKILLed run leaves behind.
 */
export function isLockHeld(dir: string): boolean {
  return existsSync(lockPaths(dir).lock) && staleReason(dir) === undefined;
}

function inUse(dir: string): InputError {
  const owner = readOwner(lockPaths(dir).owner);
  const who = owner ? `process ${owner.pid} on ${owner.host}, since ${owner.since}` : "another process";
  return new InputError(
    `run directory ${dir} is in use by another actlab process (${who}; lock ${lockPaths(dir).lock}); ` +
    "wait for it to finish, or choose another --logdir",
  );
}

/**
 * Takes the lock of run directory `dir` (which must exist), taking over a stale one (`warn` says so).
 * Returns the release function. Throws an InputError when a live process holds it.
 */
export function lockRunDirectory(dir: string, warn: (message: string) => void): () => void {
  const paths = lockPaths(dir);
  const take = () => lockfile.lockSync(dir, {
    lockfilePath: paths.lock,
    realpath: false,
    stale: LIBRARY_STALE_MS,
    update: REFRESH_MS,
    // proper-lockfile's default throws from a timer, which would kill a run over a lost lock; the
    // run's files are still written whole, so say so and carry on.
    onCompromised: (error: Error) => warn(`the lock on ${dir} was lost (${error.message}); another process may now write there`),
  } as lockfile.LockOptions & { lockfilePath: string });
  let release: () => void;
  try {
    release = take();
  } catch (error) {
    if ((error as { code?: string }).code !== "ELOCKED") throw error;
    const reason = staleReason(dir);
    if (!reason) throw inUse(dir);
    warn(`taking over the stale lock on ${dir} (held by ${reason})`);
    rmSync(paths.lock, { recursive: true, force: true });
    rmSync(paths.owner, { force: true });
    try {
      release = take();
    } catch (again) {
      // Another process took it over first.
      if ((again as { code?: string }).code === "ELOCKED") throw inUse(dir);
      throw again;
    }
  }
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  writeFileAtomicSync(paths.owner, JSON.stringify(owner) + "\n");
  const removeOwner = () => {
    // Only our own owner file: after a takeover the file may name someone else.
    if (readOwner(paths.owner)?.pid === process.pid) rmSync(paths.owner, { force: true });
  };
  // proper-lockfile removes the lock itself on exit (process.exit included); the owner file goes too.
  process.once("exit", removeOwner);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    process.off("exit", removeOwner);
    removeOwner();
    release();
  };
}
