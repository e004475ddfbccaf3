// A strict reader for the IDX format MNIST ships in: a 4-byte magic (two zero bytes, a type code,
// the number of dimensions), one big-endian uint32 per dimension, then the data, nothing after it.
// Only unsigned bytes in 1 (labels) or 3 (images) dimensions are accepted; anything else is refused
// with an InputError naming the file. No allocation is ever sized by a header's claim: the data
// returned is a view into the bytes already read, and gzip output is capped.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { InputError } from "../errors.js";

export type IdxKind = "images" | "labels";

export interface IdxArray {
  /** The big-endian uint32 at the start of the file: 0x00000803 for images, 0x00000801 for labels. */
  magic: number;
  dims: number[];
  /** Row-major data, exactly the product of dims bytes (a view, not a copy). */
  data: Uint8Array;
}

export const IDX_MAGIC: Readonly<Record<IdxKind, number>> = { images: 0x00000803, labels: 0x00000801 };

/** Largest file, raw or decompressed, the reader accepts: far above any MNIST-format set. */
export const MAX_IDX_BYTES = 1 << 30;

const UNSIGNED_BYTE = 0x08;
// The other IDX element types, named so a refusal can say what the file actually holds.
const OTHER_TYPES: Readonly<Record<number, string>> = {
  0x09: "signed bytes",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};
const MAX_HEADER_BYTES = 4 + 4 * 3;

export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

function hex8(value: number): string {
  return "0x" + value.toString(16).padStart(2, "0");
}

function kindOfMagic(magic: number): IdxKind | undefined {
  if (magic === IDX_MAGIC.images) return "images";
  if (magic === IDX_MAGIC.labels) return "labels";
  return undefined;
}

function describeMagic(magic: number): string {
  const kind = kindOfMagic(magic);
  if (kind !== undefined) return `${hex32(magic)} (${kind})`;
  if (magic >>> 16 !== 0) return `${hex32(magic)} (not an IDX file)`;
  return hex32(magic);
}

interface IdxHeader {
  magic: number;
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

/**
 * Checks the magic and dimensions in the first bytes of a file. `totalBytes` is the whole file's
 * length, so a header claiming more (or less) data than the file holds is refused before anything
 * is allocated for it.
 */
function parseHeader(head: Uint8Array, totalBytes: number, source: string, expected?: IdxKind): IdxHeader {
  if (head.length < 4) {
    throw new InputError(`${source}: too short for an IDX file (${totalBytes} bytes; the magic alone takes 4)`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const magic = view.getUint32(0, false);
  if (expected !== undefined && magic !== IDX_MAGIC[expected]) {
    throw new InputError(
      `${source}: expected magic ${hex32(IDX_MAGIC[expected])} (${expected}), found ${describeMagic(magic)}`,
    );
  }
  if (magic >>> 16 !== 0) {
    throw new InputError(`${source}: not an IDX file (magic ${hex32(magic)}; IDX files start with two zero bytes)`);
  }
  const typeCode = head[2];
  if (typeCode !== UNSIGNED_BYTE) {
    const known = OTHER_TYPES[typeCode];
    throw new InputError(
      known !== undefined
        ? `${source}: holds ${known} (IDX type ${hex8(typeCode)}); only unsigned bytes (type 0x08) are supported`
        : `${source}: unknown IDX type code ${hex8(typeCode)}; only unsigned bytes (type 0x08) are supported`,
    );
  }
  const rank = head[3];
  if (rank !== 1 && rank !== 3) {
    throw new InputError(`${source}: has ${rank} dimensions; expected 1 (labels) or 3 (images: count, rows, cols)`);
  }
  const headerBytes = 4 + 4 * rank;
  if (totalBytes < headerBytes) {
    throw new InputError(
      `${source}: truncated header: ${rank} dimension(s) need ${headerBytes} header bytes, the file has ${totalBytes}`,
    );
  }
  const dims: number[] = [];
  // Numbers stay exact up to 2^53; any product beyond the cap is refused before it gets there.
  let dataBytes = 1;
  for (let i = 0; i < rank; i++) {
    const dim = view.getUint32(4 + 4 * i, false);
    dims.push(dim);
    dataBytes *= dim;
  }
  const shape = `[${dims.join(", ")}]`;
  if (dataBytes > MAX_IDX_BYTES) {
    throw new InputError(
      `${source}: dimensions ${shape} claim ${dataBytes} bytes of data, more than the ${MAX_IDX_BYTES}-byte limit`,
    );
  }
  const available = totalBytes - headerBytes;
  if (available < dataBytes) {
    throw new InputError(
      `${source}: truncated: dimensions ${shape} need ${dataBytes} data bytes after the ${headerBytes}-byte header, found ${available}`,
    );
  }
  if (available > dataBytes) {
    throw new InputError(
      `${source}: ${available - dataBytes} trailing bytes after the ${dataBytes} data bytes that dimensions ${shape} describe`,
    );
  }
  return { magic, dims, headerBytes, dataBytes };
}

/**
 * Parses an uncompressed IDX file held in memory. With `expected`, a file of the other kind (or no
 * IDX file at all) is refused by its magic before anything else is checked.
 */
export function parseIdx(bytes: Uint8Array, source: string, expected?: IdxKind): IdxArray {
  const head = bytes.subarray(0, MAX_HEADER_BYTES);
  const { magic, dims, headerBytes, dataBytes } = parseHeader(head, bytes.length, source, expected);
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, dataBytes);
  return { magic, dims, data };
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips with the output capped, so neither a corrupt stream nor a bomb can exhaust memory. */
export function gunzipBounded(bytes: Uint8Array, source: string, maxOutputLength = MAX_IDX_BYTES): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new InputError(`${source}: decompresses to more than the ${maxOutputLength}-byte limit`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`${source}: not a valid gzip stream (${reason})`);
  }
}

/** Parses file contents that are either raw IDX or gzip-compressed IDX (told apart by content). */
export function decodeIdxBytes(bytes: Uint8Array, source: string, expected?: IdxKind): IdxArray {
  return parseIdx(isGzip(bytes) ? gunzipBounded(bytes, source) : bytes, source, expected);
}

function openForReading(path: string): number {
  try {
    return openSync(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`${path}: no such file`);
    if (code === "EACCES" || code === "EPERM") throw new InputError(`${path}: cannot read it (permission denied)`);
    if (code === "EISDIR") throw new InputError(`${path}: is a directory, not an IDX file`);
    throw error;
  }
}

function readExactly(fd: number, target: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) throw new InputError(`${path}: the file shrank while it was being read`);
    done += n;
  }
}

/**
 * Reads an IDX file of the expected kind from disk, raw or gzip-compressed. The header of a raw file
 * is checked against the file's size before the rest is read. With `shared`, a raw file's data lies
 * in a SharedArrayBuffer.
 */
export function readIdxFile(path: string, expected: IdxKind, options: { shared?: boolean } = {}): IdxArray {
  const fd = openForReading(path);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new InputError(`${path}: is a directory, not an IDX file`);
    if (!stat.isFile()) throw new InputError(`${path}: is not a regular file`);
    if (stat.size > MAX_IDX_BYTES) {
      throw new InputError(`${path}: ${stat.size} bytes, more than the ${MAX_IDX_BYTES}-byte limit`);
    }
    const head = new Uint8Array(Math.min(stat.size, MAX_HEADER_BYTES));
    readExactly(fd, head, 0, path);
    if (!isGzip(head)) {
      const header = parseHeader(head, stat.size, path, expected);
      if (options.shared) {
        // A raw file's data read straight into a SharedArrayBuffer of exactly its size (image 0 at
        // offset 0), not read and then copied: the copy left 47 MB of freed memory in the process.
        const data = new Uint8Array(new SharedArrayBuffer(header.dataBytes));
        const inHead = Math.min(head.length - header.headerBytes, header.dataBytes);
        data.set(head.subarray(header.headerBytes, header.headerBytes + inHead));
        readExactly(fd, data.subarray(inHead), header.headerBytes + inHead, path);
        return { magic: header.magic, dims: header.dims, data };
      }
    }
    const bytes = new Uint8Array(stat.size);
    bytes.set(head);
    readExactly(fd, bytes.subarray(head.length), head.length, path);
    return decodeIdxBytes(bytes, path, expected);
  } finally {
    closeSync(fd);
  }
}
