// Safetensors files: reading (hostile input, capped) and atomic writing. The format itself, bytes in
// and bytes out, is safetensorsCodec.ts's, re-exported here.
import * as fs from "node:fs";
import { InputError } from "../errors.js";
import { writeFileAtomic, writeFileAtomicSync } from "./atomicFile.js";
import {
  checkHeaderLength, failFor, MAX_HEADER_BYTES, parseHeader, safetensorsParts, tensorOf,
  type Fail, type Safetensors, type Tensor,
} from "./safetensorsCodec.js";

export { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, safetensorsParts, type DType, type Safetensors, type Tensor } from "./safetensorsCodec.js";
/** Writes a checkpoint atomically (temporary file, fsync, rename): a crash leaves the old file or the new one. */
export async function writeSafetensors(
  path: string,
  tensors: readonly Tensor[],
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, safetensorsParts(tensors, metadata));
}

/** The synchronous form of {@link writeSafetensors}, for exit paths that cannot wait on a promise. */
export function writeSafetensorsSync(path: string, tensors: readonly Tensor[], metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, safetensorsParts(tensors, metadata));
}

/** How much a checkpoint file may claim before a byte of its tensors is read. */
export interface SafetensorsLimits {
  /** The JSON header's length (the 8-byte prefix is checked against this before the header is read). */
  maxHeaderBytes: number;
  /** The whole file: more than any net that fits in WebAssembly memory can need. */
  maxFileBytes: number;
}

/**
 * A model trains in one 32-bit WebAssembly memory (4 GiB), which must hold its parameters, gradients
 * and momentum at once; a resumable state holds two of those three, so no checkpoint of a net that
 * can train here reaches 4 GiB. A larger file is refused before any of it is read.
 */
export const MAX_CHECKPOINT_BYTES = 2 ** 32;

export const DEFAULT_SAFETENSORS_LIMITS: SafetensorsLimits = {
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxFileBytes: MAX_CHECKPOINT_BYTES,
};

function describeKind(stat: fs.Stats): string {
  if (stat.isFIFO()) return "a named pipe (FIFO)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

/** Reads exactly `length` bytes at `position`; a file that shrank under us is refused. */
function readExactly(fd: number, length: number, position: number, fail: Fail): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) fail(`the file ended at byte ${position + done}, before the ${position + length} its header declares (changed while being read?)`);
    done += n;
  }
  return out;
}

/**
 * Reads and strictly checks a safetensors file, treating it as hostile and reading only what is
 * needed, in this order: open without blocking (a FIFO would wait for a writer) and require a
 * regular file by fstat on the open descriptor (no race with a swap after a stat); check the file
 * size; read the 8-byte header length and check it; read and check the header against the file
 * size; only then read each tensor's bytes. Every refusal is an InputError naming `path`.
 */
export function readSafetensorsFile(path: string, limits: SafetensorsLimits = DEFAULT_SAFETENSORS_LIMITS): Safetensors {
  const fail = failFor(path);
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new InputError(`${path}: no such checkpoint file`);
    if (e.code === "EISDIR") throw new InputError(`${path}: is a directory, not a safetensors file`);
    if (e.code === "EACCES" || e.code === "EPERM") throw new InputError(`${path}: permission denied`);
    if (e.code === "ENOTDIR") throw new InputError(`${path}: a path component is a file, not a folder`);
    if (e.code === "ELOOP") throw new InputError(`${path}: too many levels of symbolic links`);
    if (e.code === "ENXIO") throw new InputError(`${path}: is a socket or device, not a safetensors file`);
    throw new InputError(`${path}: cannot open the checkpoint (${e.code ?? e.message})`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new InputError(`${path}: is a directory, not a safetensors file`);
    if (!stat.isFile()) throw new InputError(`${path}: is ${describeKind(stat)}, not a regular safetensors file`);
    const size = stat.size;
    if (size > limits.maxFileBytes) {
      fail(`the file holds ${size} bytes, over the ${limits.maxFileBytes}-byte limit for a checkpoint`);
    }
    const headerLength = checkHeaderLength(readExactly(fd, Math.min(8, size), 0, fail), size, limits.maxHeaderBytes, fail);
    const dataStart = 8 + headerLength;
    const { entries, metadata } = parseHeader(readExactly(fd, headerLength, 8, fail), size - dataStart, fail);
    const tensors = new Map<string, Tensor>();
    for (const e of entries) tensors.set(e.name, tensorOf(e, readExactly(fd, e.end - e.begin, dataStart + e.begin, fail)));
    return { tensors, metadata };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new InputError(`${path}: is a directory, not a safetensors file`);
    if (code === "EIO" || code === "EAGAIN") throw new InputError(`${path}: cannot read the checkpoint (${code})`);
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link readSafetensorsFile} with the default limits: every checkpoint the lab reads comes through here. */
export function readSafetensors(path: string): Safetensors {
  return readSafetensorsFile(path);
}
