// The safetensors format, read and written without a dependency, so that a checkpoint loads into
// PyTorch's `load_state_dict` as it is:
//
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   a UTF-8 JSON object: { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [b, e] },
//             ..., "__metadata__": { "<key>": "<string>" } }, padded with spaces to a multiple of 8
//   the rest  the byte buffer; each tensor's bytes (little-endian, row-major) lie at [b, e) relative
//             to its start; tensors are contiguous, do not overlap and cover the buffer exactly
//
// Order: the encoder lays tensors out in the order it is given (PyTorch's writer sorts by dtype
// alignment, then by name; the format allows any order). The decoder returns tensors in data-offset
// order, which for a file written here is the order given to the encoder.
//
// The decoder treats the file as hostile: every number in the header is checked against the bytes
// actually present before it is used, so a lying header costs an InputError, never a large allocation.
//
// This file is the format alone, bytes in and bytes out, with no file system: the browser writes
// checkpoints with it too. Reading and writing files is safetensors.ts's.

import { InputError } from "../errors.js";

export type DType = "F32" | "F64" | "I32" | "I64" | "U8";

export interface Tensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

type TypedArrayCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor;

const DTYPES: Record<DType, { size: number; ctor: TypedArrayCtor }> = {
  F32: { size: 4, ctor: Float32Array },
  F64: { size: 8, ctor: Float64Array },
  I32: { size: 4, ctor: Int32Array },
  I64: { size: 8, ctor: BigInt64Array },
  U8: { size: 1, ctor: Uint8Array },
};

/** Valid in the format, but not types this lab stores; named so the error can say "unsupported". */
const OTHER_FORMAT_DTYPES = new Set([
  "BOOL", "I8", "I16", "U16", "U32", "U64", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
]);

/** The reference implementation's limit; a real header of a few tensors is a few hundred bytes. */
export const MAX_HEADER_BYTES = 100_000_000;

const HEADER_ALIGN = 8;
const METADATA_KEY = "__metadata__";
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DTYPES, value);
}

/** Reverses each element's bytes in place: only needed on a big-endian host. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkTensorForEncoding(t: Tensor, seen: Set<string>): void {
  if (typeof t.name !== "string" || t.name === METADATA_KEY) {
    throw new TypeError(`safetensors: invalid tensor name ${JSON.stringify(t.name)}`);
  }
  if (seen.has(t.name)) throw new TypeError(`safetensors: duplicate tensor name "${t.name}"`);
  seen.add(t.name);
  if (!isDType(t.dtype)) throw new TypeError(`safetensors: tensor "${t.name}" has unknown dtype ${String(t.dtype)}`);
  const { ctor } = DTYPES[t.dtype];
  if (!(t.data instanceof ctor)) {
    throw new TypeError(`safetensors: tensor "${t.name}" is ${t.dtype} but its data is a ${t.data?.constructor?.name}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`safetensors: tensor "${t.name}" has an invalid shape ${JSON.stringify(t.shape)}`);
  }
  if (elementCount(t.shape) !== t.data.length) {
    throw new RangeError(
      `safetensors: tensor "${t.name}" has shape [${t.shape.join(", ")}] but ${t.data.length} elements`,
    );
  }
}

/** Serialises tensors (in the order given) and string metadata to the bytes of a safetensors file. */
export function encodeSafetensors(tensors: readonly Tensor[], metadata?: Record<string, string>): Uint8Array {
  const parts = safetensorsParts(tensors, metadata);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The same bytes as pieces to be written one after another: the length and header, then each
 * tensor's data as a view of the tensor itself (a copy only on a big-endian host), so that a large
 * checkpoint is written without a second copy of its tensors in memory.
 */
export function safetensorsParts(tensors: readonly Tensor[], metadata?: Record<string, string>): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new TypeError(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    checkTensorForEncoding(t, seen);
    const end = offset + t.data.byteLength;
    // defineProperty, not assignment: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, t.name, {
      value: { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  const head = new Uint8Array(8 + headerLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length, 8 + headerLength);
  return [head, ...tensors.map((t) => {
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (HOST_IS_LITTLE_ENDIAN) return raw;
    const swapped = raw.slice();
    swapBytes(swapped, DTYPES[t.dtype].size);
    return swapped;
  })];
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** A name from a hostile header may be megabytes long; an error message shows its start. */
function quoteName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}...` : name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseEntry(name: string, value: unknown, dataLength: number, fail: (msg: string) => never): Entry {
  const label = quoteName(name);
  if (!isPlainObject(value)) fail(`tensor ${label} is not an object with dtype, shape and data_offsets`);
  for (const key of Object.keys(value)) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets") fail(`tensor ${label} has an unknown field ${quoteName(key)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string") fail(`tensor ${label} has no dtype string`);
  if (!isDType(dtype)) {
    const why = OTHER_FORMAT_DTYPES.has(dtype) ? "unsupported" : "unknown";
    fail(`tensor ${label} has ${why} dtype ${quoteName(dtype)} (supported: ${Object.keys(DTYPES).join(", ")})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor ${label} has an invalid shape (expected a list of non-negative integers)`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`tensor ${label} has invalid data_offsets (expected [begin, end], non-negative integers)`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor ${label} has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) {
    fail(`tensor ${label} has data_offsets [${begin}, ${end}] beyond the ${dataLength}-byte data buffer`);
  }
  // Stop multiplying once past the span: a lying shape then never overflows into a false match.
  const dims = shape as number[];
  const span = end - begin;
  let needed = dims.includes(0) ? 0 : DTYPES[dtype].size;
  for (const d of dims) {
    needed *= d;
    if (needed > span) break;
  }
  if (needed !== span) {
    const shown = dims.length > 8 ? `${dims.slice(0, 8).join(", ")}, ...` : dims.join(", ");
    const need = needed > span ? `more than ${span} bytes` : `${needed} bytes`;
    fail(`tensor ${label}: shape [${shown}] of ${dtype} needs ${need} but data_offsets span ${span}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The checked header: entries in data-offset order, tiling the data buffer exactly. */
interface Header {
  entries: Entry[];
  metadata: Record<string, string>;
}

/** @internal for safetensors.ts's file reader */
export type Fail = (msg: string) => never;

/** @internal for safetensors.ts's file reader */
export function failFor(source: string): Fail {
  return (msg) => {
    throw new InputError(`${source}: not a valid safetensors file: ${msg}`);
  };
}

/** The 8-byte header length, checked against the limit and the bytes that follow it. */
/** @internal for safetensors.ts's file reader */
export function checkHeaderLength(first8: Uint8Array, fileBytes: number, maxHeaderBytes: number, fail: Fail): number {
  if (fileBytes < 8) fail(`${fileBytes} bytes is too short to hold the 8-byte header length`);
  const claimed = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (claimed > BigInt(maxHeaderBytes)) fail(`header length ${claimed} exceeds the ${maxHeaderBytes}-byte limit`);
  const headerLength = Number(claimed);
  if (8 + headerLength > fileBytes) {
    fail(`header length ${headerLength} is larger than the ${fileBytes - 8} bytes that follow it`);
  }
  return headerLength;
}

/** Parses and checks the JSON header against a data buffer of `dataLength` bytes (not yet read). */
/** @internal for safetensors.ts's file reader */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, fail: Fail): Header {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    return fail("header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail("header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    // V8 quotes the offending text; keep the message one printable line.
    const detail = (err as Error).message.replace(/[^\x20-\x7e]/g, "?").slice(0, 120);
    return fail(`header is not valid JSON (${detail})`);
  }
  if (!isPlainObject(header)) fail("header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === METADATA_KEY) {
      if (value === null) continue;
      if (!isPlainObject(value)) fail(`"${METADATA_KEY}" is not an object of strings`);
      for (const [mk, mv] of Object.entries(value)) {
        if (typeof mv !== "string") fail(`metadata ${quoteName(mk)} is a ${mv === null ? "null" : typeof mv}, not a string`);
        // defineProperty: a metadata key "__proto__" must stay data, not become the record's prototype.
        Object.defineProperty(metadata, mk, { value: mv, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(parseEntry(key, value, dataLength, fail));
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin < expected) fail(`tensor ${quoteName(e.name)} at [${e.begin}, ${e.end}] overlaps the tensor before it`);
    if (e.begin > expected) fail(`gap: bytes [${expected}, ${e.begin}) of the data buffer belong to no tensor`);
    expected = e.end;
  }
  if (expected !== dataLength) {
    fail(`the tensors cover ${expected} bytes but the data buffer holds ${dataLength} (trailing bytes)`);
  }
  return { entries, metadata };
}

/** A tensor from its own copy of its bytes (aligned, whatever the header's offsets were). */
/** @internal for safetensors.ts's file reader */
export function tensorOf(e: Entry, raw: Uint8Array): Tensor {
  const { size, ctor } = DTYPES[e.dtype];
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(raw, size);
  const data = new (ctor as Float64ArrayConstructor)(raw.buffer, raw.byteOffset, (e.end - e.begin) / size) as Tensor["data"];
  return { name: e.name, dtype: e.dtype, shape: e.shape, data };
}

/**
 * Parses the bytes of a safetensors file strictly. `source` names the input in every error
 * (an InputError), so a user knows which file is damaged and how.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): Safetensors {
  const fail = failFor(source);
  const headerLength = checkHeaderLength(bytes.subarray(0, 8), bytes.length, MAX_HEADER_BYTES, fail);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, fail);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    // A copy, so each tensor owns an aligned buffer. (Not bytes.slice: on a Node Buffer that is a
    // view into a shared pool, not a copy.)
    tensors.set(e.name, tensorOf(e, new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end))));
  }
  return { tensors, metadata };
}

