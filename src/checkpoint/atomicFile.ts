// Durable file writes: a checkpoint is either the old one or the new one, never half of each, and a
// JSON-lines log never holds half a record that a reader would take for a whole one.
//
// Hand-written rather than `write-file-atomic` because that package neither fsyncs the folder after
// the rename (so the rename itself may be lost on power failure) nor loops on short writes.

import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { InputError } from "../errors.js";

/** The errors that mean "no room left": the device is full, or the user's quota is spent. */
const DISK_FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? "");
}

/**
 * A write refused for want of space, with the file named and what state it was left in. An
 * InputError (exit 2) because the user can fix it by freeing space; `advice` (set by whoever knows
 * the run, see explainDiskFull in fsChecks.ts) says whether and how to continue.
 */
export class DiskFullError extends InputError {
  readonly path: string;
  readonly code: string;
  readonly state: string;
  constructor(path: string, code: string, state: string, advice?: string) {
    super(`${path}: cannot be written: the disk is full (${code}). ${state}${advice ? `\n${advice}` : ""}`);
    this.name = "DiskFullError";
    this.path = path;
    this.code = code;
    this.state = state;
  }

  /** The same error with a line of advice added. */
  withAdvice(advice: string): DiskFullError {
    return new DiskFullError(this.path, this.code, this.state, advice);
  }
}

/** ENOSPC/EDQUOT on `target` as a DiskFullError saying what was left (`state`); any other error as it is. */
export function asDiskFullError(err: unknown, target: string, state: string): unknown {
  return isDiskFull(err) ? new DiskFullError(target, (err as NodeJS.ErrnoException).code!, state) : err;
}

/** What an atomic replace leaves when it fails: the old file, whole, or none. */
function replaceState(target: string, existed: boolean): string {
  return existed
    ? `The previous ${path.basename(target)} is intact (files are replaced whole, through a temporary file, now removed).`
    : `It was not created; its temporary file was removed.`;
}

function tempPathBeside(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  // A leading dot keeps half-written files out of directory listings and globs such as *.safetensors.
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** What an atomic write takes: bytes, text, or pieces written one after another (a checkpoint's header, then each tensor in place). */
export type FileContent = Uint8Array | string | readonly Uint8Array[];

function toPieces(data: FileContent): readonly Uint8Array[] {
  if (typeof data === "string") return [Buffer.from(data, "utf8")];
  return data instanceof Uint8Array ? [data] : data;
}

function writeAllSync(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done);
  }
}

async function writeAll(handle: fsp.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** Makes the folder's entry for a renamed file durable. Some file systems refuse fsync on a folder. */
function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "ENOTSUP") throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Replaces `target` with `data` atomically: a temporary file in the same folder is written, fsynced
 * and renamed over the target, then the folder is fsynced. On any failure the temporary file is
 * removed and the old target (if any) is untouched.
 */
export function writeFileAtomicSync(target: string, data: FileContent): void {
  const pieces = toPieces(data);
  const tmp = tempPathBeside(target);
  const existed = fs.existsSync(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    for (const bytes of pieces) writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // The write error is the one worth reporting.
      }
    }
    fs.rmSync(tmp, { force: true });
    throw asDiskFullError(err, target, replaceState(target, existed));
  }
  fsyncDirSync(path.dirname(target));
}

/** The asynchronous form of {@link writeFileAtomicSync}, with the same guarantees. */
export async function writeFileAtomic(target: string, data: FileContent): Promise<void> {
  const pieces = toPieces(data);
  const tmp = tempPathBeside(target);
  const existed = fs.existsSync(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx", 0o644);
    for (const bytes of pieces) await writeAll(handle, bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw asDiskFullError(err, target, replaceState(target, existed));
  }
  fsyncDirSync(path.dirname(target));
}

function lineBytes(line: string): Uint8Array {
  if (line.includes("\n")) {
    throw new Error(`appendLineDurable: a JSON-lines record must not contain a newline: ${line.slice(0, 80)}`);
  }
  return Buffer.from(line + "\n", "utf8");
}

/**
 * Appends one record and its newline with a single write in append mode, then fsyncs. A crash leaves
 * the line whole or (at worst) a final fragment without its newline, which {@link readJsonLines} drops.
 */
export function appendLineDurableSync(target: string, line: string): void {
  const bytes = lineBytes(line);
  let fd: number;
  try {
    fd = fs.openSync(target, "a", 0o644);
  } catch (err) {
    throw asDiskFullError(err, target, APPEND_NOT_CREATED);
  }
  let size: number | undefined;
  try {
    size = fs.fstatSync(fd).size;
    writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
  } catch (err) {
    // A short write before ENOSPC leaves part of the record: cut it off, so the file ends at its last
    // whole record and a later append does not glue a new record onto a fragment.
    if (size !== undefined && isDiskFull(err)) fs.ftruncateSync(fd, size);
    throw asDiskFullError(err, target, APPEND_STATE);
  } finally {
    fs.closeSync(fd);
  }
}

const APPEND_STATE = "The record was not added; the file still ends at its last whole record.";
const APPEND_NOT_CREATED = "It was not created.";

/** The asynchronous form of {@link appendLineDurableSync}. */
export async function appendLineDurable(target: string, line: string): Promise<void> {
  const bytes = lineBytes(line);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(target, "a", 0o644);
  } catch (err) {
    throw asDiskFullError(err, target, APPEND_NOT_CREATED);
  }
  let size: number | undefined;
  try {
    size = (await handle.stat()).size;
    await writeAll(handle, bytes);
    await handle.sync();
  } catch (err) {
    if (size !== undefined && isDiskFull(err)) await handle.truncate(size);
    throw asDiskFullError(err, target, APPEND_STATE);
  } finally {
    await handle.close();
  }
}

/**
 * Parses a JSON-lines text. A final line without its newline is an interrupted append and is ignored;
 * a malformed line anywhere else is corruption: an InputError naming `source` and the line number.
 */
export function parseJsonLines(text: string, source: string): unknown[] {
  const lines = text.split("\n");
  // After split, the last element is "" when the text ends in "\n"; otherwise it is a partial record.
  lines.pop();
  const records: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      throw new InputError(`${source}: line ${i + 1} is not valid JSON: ${line.slice(0, 80)}`);
    }
  }
  return records;
}

/** Reads a JSON-lines file written by {@link appendLineDurable}; see {@link parseJsonLines}. */
export function readJsonLines(target: string): unknown[] {
  return parseJsonLines(fs.readFileSync(target, "utf8"), target);
}
