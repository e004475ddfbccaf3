// Checks on paths and file-system failures that more than one command needs, each turning what the
// operating system says (ENOENT, ENOSPC) into a sentence that names the path and what to do.
import { existsSync, lstatSync, readlinkSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DiskFullError } from "./checkpoint/atomicFile.js";

/**
 * When `path`, or a folder above it, is a symbolic link whose target does not exist: a sentence
 * saying which link points where. mkdir follows such a link and fails with a bare ENOENT naming the
 * link itself, which reads as if the folder could simply be created.
 */
export function danglingLinkReason(path: string): string | undefined {
  for (let p = resolve(path); ; p = dirname(p)) {
    let isLink: boolean;
    try {
      isLink = lstatSync(p).isSymbolicLink();
    } catch {
      if (dirname(p) === p) return undefined;
      continue;
    }
    if (!isLink) return undefined;
    try {
      statSync(p);
      return undefined;
    } catch {
      let target = "?";
      try {
        target = readlinkSync(p);
      } catch {
        // Raced away: the sentence still names the link.
      }
      return `${p} is a symbolic link to ${target}, which does not exist`;
    }
  }
}

/** Why a folder could not be created, in words: a dangling link, a missing or non-folder parent, or the OS's code. */
export function mkdirFailureReason(error: unknown, dir: string): string {
  const dangling = danglingLinkReason(dir);
  if (dangling) return dangling;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOTDIR: "a path component is a file, not a folder",
    EEXIST: "a file stands where the folder should be",
    ENOSPC: "the disk is full",
    EDQUOT: "the disk quota is spent",
    ELOOP: "too many levels of symbolic links",
    ENAMETOOLONG: "the name is too long",
  };
  return (code && words[code]) ?? (error as Error).message;
}

/**
 * A DiskFullError from a run's writes, with advice on how to go on: when every run folder has its
 * config.json, `resumeCommand` continues them (each model from its last resumable state; those
 * states, the checkpoints and the JSON files are only ever replaced whole, so they are intact);
 * otherwise nothing was recorded to resume from. Any other error is returned as it is.
 */
export function explainDiskFull(error: unknown, runDirs: readonly string[], resumeCommand: string): unknown {
  if (!(error instanceof DiskFullError)) return error;
  const resumable = runDirs.every((dir) => existsSync(join(dir, "config.json")));
  return error.withAdvice(resumable
    ? `The run can be resumed: free some space, then continue with:\n  ${resumeCommand}\n`
      + "(each model goes on from its last completed epoch, or from the start if it had completed none)"
    : "No run was recorded before the disk filled (no config.json): free some space and start it again.");
}
