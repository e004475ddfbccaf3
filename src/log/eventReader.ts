// A strict reader for TensorBoard event files: every CRC checked, every length bounded by the
// bytes present, every record a well-formed Event, or an InputError naming the file and record.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join, relative } from "node:path";
import { InputError } from "../errors.js";
import type { HistogramData } from "./histogram.js";
import { EventType } from "./proto.js";
import { splitRecords, type SplitOptions } from "./tfrecord.js";

export interface DecodedScalar {
  tag: string;
  value: number;
}

export interface DecodedHistogram extends HistogramData {
  tag: string;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: DecodedScalar[];
  histograms: DecodedHistogram[];
}

export type ReadOptions = SplitOptions;

type Long = { low: number; high: number };

/** int64 as protobufjs hands it over (number or Long) to a number, refusing what a number can't hold. */
function int64ToNumber(v: number | Long, where: string): number {
  const n = typeof v === "number" ? v : v.high * 4294967296 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) throw new InputError(`${where}: step ${n} is beyond ±2^53`);
  return n;
}

function has(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function decodeEvent(data: Uint8Array, where: string): DecodedEvent {
  let msg: any;
  try {
    msg = EventType.decode(data);
  } catch (err) {
    // protobufjs reports malformed bytes (bad wire types, lengths past the end, nesting too deep
    // for the stack) as plain errors; all of them mean a corrupt record here.
    throw new InputError(`${where}: not a valid Event protobuf (${(err as Error).message})`);
  }
  const event: DecodedEvent = {
    wallTime: msg.wall_time,
    step: int64ToNumber(msg.step, where),
    scalars: [],
    histograms: [],
  };
  if (has(msg, "file_version")) event.fileVersion = msg.file_version;
  if (has(msg, "summary")) {
    for (const value of msg.summary.value) {
      // Other kinds of value (images, tensors) are TensorBoard's business, not ours: skipped.
      if (has(value, "simple_value")) event.scalars.push({ tag: value.tag, value: value.simple_value });
      if (has(value, "histo")) {
        const h = value.histo;
        if (h.bucket_limit.length !== h.bucket.length) {
          throw new InputError(
            `${where}: histogram ${JSON.stringify(value.tag)} has ${h.bucket_limit.length} bucket limits `
            + `but ${h.bucket.length} buckets`,
          );
        }
        event.histograms.push({
          tag: value.tag,
          min: h.min,
          max: h.max,
          num: h.num,
          sum: h.sum,
          sumSquares: h.sum_squares,
          bucketLimit: Array.from(h.bucket_limit as number[]),
          bucket: Array.from(h.bucket as number[]),
        });
      }
    }
  }
  return event;
}

/** Decodes the records of an event file held in memory; `source` names it in errors. */
export function parseEventRecords(bytes: Uint8Array, source: string, options: ReadOptions = {}): DecodedEvent[] {
  const records = splitRecords(bytes, source, options);
  return records.map((data, i) => decodeEvent(data, `${source}: record ${i}`));
}

/**
 * The most of an event file read at once. actlab logs about 0.1 MB per model and epoch, so a real
 * file is megabytes; a larger one is refused before it is read rather than held in memory whole.
 */
export const MAX_EVENT_FILE_BYTES = 2 ** 30;

/** One readSync call's length: it must fit a signed 32-bit integer, so a long range goes in chunks. */
const READ_CHUNK_BYTES = 2 ** 26;

/**
 * Bytes [offset, end) of the event file at `path` (end: its size when left out, and never past it),
 * read in chunks. Refuses (InputError naming the file) anything but a regular file, opened without
 * blocking so a FIFO cannot hang the reader, and a range longer than `maxBytes`. A file that shrinks
 * while being read gives what was there.
 */
export function readEventFileRange(path: string, offset = 0, end?: number, maxBytes = MAX_EVENT_FILE_BYTES): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new InputError(`cannot read event file ${path}: ${(err as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputError(`cannot read event file ${path}: not a regular file`);
    const stop = Math.min(end ?? stat.size, stat.size);
    const length = Math.max(0, stop - offset);
    if (length > maxBytes) {
      throw new InputError(`event file ${path}: ${length} bytes to read, over the ${maxBytes}-byte limit for an event file`);
    }
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, Math.min(READ_CHUNK_BYTES, length - done), offset + done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read event file ${path}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export function readEventFile(path: string, options: ReadOptions = {}): DecodedEvent[] {
  return parseEventRecords(readEventFileRange(path), path, options);
}

/** One event file found by readEventDir: its events, or why it could not be read. */
export type EventFileResult =
  | { path: string; run: string; ok: true; events: DecodedEvent[] }
  | { path: string; run: string; ok: false; error: InputError };

/** TensorBoard's own test for an event file: "tfevents" in the file name. */
export function isEventFileName(name: string): boolean {
  return name.includes("tfevents");
}

/**
 * Every event file under `dir`, recursively, sorted by path; `run` is the file's folder relative
 * to `dir` ("." for `dir` itself), which is how TensorBoard names runs. A bad file (or a sub-folder
 * that cannot be listed) is reported in its result rather than thrown, so one corrupt file does not
 * hide the others. Symbolic links are not followed: nothing outside `dir` is read.
 * @throws InputError when `dir` itself cannot be listed.
 */
export function readEventDir(dir: string, options: ReadOptions = {}): EventFileResult[] {
  const runOf = (path: string) => relative(dir, join(path, "..")) || ".";
  const files: string[] = [];
  const unlisted: EventFileResult[] = [];
  const walk = (folder: string): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (err) {
      const error = new InputError(`cannot list log directory ${folder}: ${(err as Error).message}`);
      if (folder === dir) throw error;
      unlisted.push({ path: folder, run: runOf(folder), ok: false, error });
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && isEventFileName(entry.name)) files.push(path);
    }
  };
  walk(dir);
  const results = files.map((path): EventFileResult => {
    try {
      return { path, run: runOf(path), ok: true, events: readEventFile(path, options) };
    } catch (err) {
      if (err instanceof InputError) return { path, run: runOf(path), ok: false, error: err };
      throw err;
    }
  });
  return [...results, ...unlisted].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
