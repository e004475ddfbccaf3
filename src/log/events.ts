// TensorBoard event files, written the way tensorboardX writes them, so that TensorBoard (and
// anything reading tensorboardX output) opens actlab's runs unchanged.
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, writeSync } from "node:fs";
import { asDiskFullError, isDiskFull } from "../checkpoint/atomicFile.js";
import { hostname } from "node:os";
import { join, resolve, sep } from "node:path";
import { InputError } from "../errors.js";
import { makeHistogram, type HistogramData } from "./histogram.js";
import { encodeEvent, FILE_VERSION, type EventMessage, type ValueMessage } from "./proto.js";
import { frameRecord } from "./tfrecord.js";

export interface EventFileWriterOptions {
  /** Appended to the file name after the host, as tensorboardX's `filename_suffix` (default ""). */
  filenameSuffix?: string;
  /** Records held in memory before they are appended on their own (tensorboardX's max_queue). */
  maxQueue?: number;
  /** Seconds after which the next record added triggers a flush (tensorboardX's flush_secs). */
  flushSecs?: number;
  /** Clock in seconds since the epoch; tests pin it. */
  now?: () => number;
}

const defaultNow = () => Date.now() / 1000;

/**
 * tensorboardX's tag sanitising: characters other than letters, digits, `_`, `-`, `/` and `.`
 * become `_`, and leading slashes go.
 */
export function cleanTag(tag: string): string {
  return tag.replace(/[^\p{L}\p{N}_\-/.]/gu, "_").replace(/^\/+/, "");
}

function checkStep(step: number, what: string): void {
  if (!Number.isSafeInteger(step)) throw new RangeError(`${what}: step must be an integer, got ${step}`);
}

/** Wraps the file-system errors a user can fix (permissions, a file where a folder should be). */
function asInputError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const fixable: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOTDIR: "a path component is a file, not a folder",
    EEXIST: "a file stands where a folder is needed",
    ENOSPC: "no space left on device",
  };
  return code && code in fixable
    ? new InputError(`log directory ${path} cannot be written: ${fixable[code]}`)
    : err;
}

/**
 * One event file in one folder. Records are framed whole in memory and appended in one write per
 * flush, so a crash loses at most the unflushed records and never leaves a half record of ours.
 */
export class EventFileWriter {
  readonly dir: string;
  readonly path: string;
  private fd: number | undefined;
  /** Bytes of whole records in the file: where a write cut short by a full disk is cut back to. */
  private committedBytes = 0;
  private pending: Uint8Array[] = [];
  private lastFlush: number;
  private readonly maxQueue: number;
  private readonly flushSecs: number;
  private readonly now: () => number;

  constructor(dir: string, options: EventFileWriterOptions = {}) {
    this.dir = dir;
    this.now = options.now ?? defaultNow;
    this.maxQueue = options.maxQueue ?? 10;
    this.flushSecs = options.flushSecs ?? 120;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw asInputError(err, dir);
    }
    const wallTime = this.now();
    // tensorboardX: "events.out.tfevents." + str(time.time())[:10] + "." + hostname + suffix.
    const base = `events.out.tfevents.${String(Math.floor(wallTime)).padStart(10, "0")}.${hostname()}`
      + (options.filenameSuffix ?? "");
    // Exclusive create: two writers in one folder within the same second (a resumed run, a second
    // worker) get distinct files instead of truncating each other, as tensorboardX would.
    let path = join(dir, base);
    for (let attempt = 1; this.fd === undefined; attempt++) {
      try {
        this.fd = openSync(path, "ax");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 1000) throw asInputError(err, dir);
        path = join(dir, `${base}.${attempt}`);
      }
    }
    this.path = path;
    this.lastFlush = wallTime;
    this.pending.push(frameRecord(encodeEvent({ wall_time: wallTime, file_version: FILE_VERSION })));
    // TensorBoard recognises a file by its first record, so it reaches the disk at once.
    this.flush();
  }

  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addValue({ tag: cleanTag(tag), simple_value: value }, step, wallTime, "addScalar");
  }

  /**
   * @throws RangeError when `values` is empty or holds no finite value (see makeHistogram);
   * nothing is written then.
   */
  addHistogram(tag: string, values: ArrayLike<number>, step: number, wallTime?: number): void {
    this.addHistogramData(tag, makeHistogram(values), step, wallTime);
  }

  /** A histogram made already (where its tensor lives: a training worker), as addHistogram writes it. */
  addHistogramData(tag: string, h: HistogramData, step: number, wallTime?: number): void {
    const histo = {
      min: h.min, max: h.max, num: h.num, sum: h.sum, sum_squares: h.sumSquares,
      bucket_limit: h.bucketLimit, bucket: h.bucket,
    };
    this.addValue({ tag: cleanTag(tag), histo }, step, wallTime, "addHistogramData");
  }

  private addValue(value: ValueMessage, step: number, wallTime: number | undefined, what: string): void {
    if (this.fd === undefined) throw new Error(`${what}: event file ${this.path} is already closed`);
    checkStep(step, what);
    const event: EventMessage = { wall_time: wallTime ?? this.now(), summary: { value: [value] } };
    // proto3 leaves a zero step off the wire, as tensorboardX's output does.
    if (step !== 0) event.step = step;
    this.pending.push(frameRecord(encodeEvent(event)));
    if (this.pending.length >= this.maxQueue || this.now() - this.lastFlush >= this.flushSecs) this.flush();
  }

  /** Appends every pending record to the file (to the OS; `close` also syncs to the disk). */
  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const bytes = Buffer.concat(this.pending);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    } catch (err) {
      // A record cut by a full disk would end the file in a partial record: cut back to the last
      // whole one, so the file stays readable and a resumed run appends cleanly.
      if (isDiskFull(err) && written > 0) {
        try { ftruncateSync(this.fd, this.committedBytes); } catch { /* the message below still holds */ }
      }
      throw isDiskFull(err)
        ? asDiskFullError(err, this.path, "The event file ends at its last whole record.")
        : asInputError(err, this.dir);
    }
    this.committedBytes += bytes.length;
    this.pending = [];
    this.lastFlush = this.now();
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** The folder a series of `addScalars` goes to; refuses keys that would leave the log folder. */
function seriesDir(logdir: string, mainTag: string, key: string): string {
  const parts = [mainTag, key];
  for (const part of parts) {
    const segments = part.split(/[/\\]/);
    if (part === "" || segments.some((s) => s === "" || s === "." || s === "..")) {
      throw new InputError(`addScalars: ${JSON.stringify(part)} cannot name a folder under ${logdir}`);
    }
  }
  const dir = resolve(logdir, mainTag, key);
  if (!dir.startsWith(resolve(logdir) + sep)) {
    throw new InputError(`addScalars: ${JSON.stringify(key)} would leave ${logdir}`);
  }
  return join(logdir, mainTag, key);
}

/**
 * tensorboardX's SummaryWriter: scalars and histograms in an event file in `logdir`, and
 * `addScalars(main, {series: value})` in one event file per series under `<logdir>/<main>/<series>/`
 * with tag `main`, which TensorBoard overlays on one chart. Files are created on first use, so a
 * writer that logs only through addScalars leaves no empty file in `logdir`.
 */
export class SummaryWriter {
  readonly logdir: string;
  private main: EventFileWriter | undefined;
  private readonly series = new Map<string, EventFileWriter>();
  private readonly options: EventFileWriterOptions;
  private closed = false;

  constructor(logdir: string, options: EventFileWriterOptions = {}) {
    this.logdir = logdir;
    this.options = options;
  }

  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.mainWriter().addScalar(tag, value, step, wallTime);
  }

  addScalars(mainTag: string, values: Record<string, number>, step: number, wallTime?: number): void {
    this.checkOpen();
    const time = wallTime ?? (this.options.now ?? defaultNow)();
    for (const [key, value] of Object.entries(values)) {
      const dir = seriesDir(this.logdir, mainTag, key);
      let writer = this.series.get(dir);
      if (writer === undefined) {
        writer = new EventFileWriter(dir, this.options);
        this.series.set(dir, writer);
      }
      writer.addScalar(mainTag, value, step, time);
    }
  }

  /** @throws RangeError when `values` is empty or holds no finite value (see makeHistogram). */
  addHistogram(tag: string, values: ArrayLike<number>, step: number, wallTime?: number): void {
    this.mainWriter().addHistogram(tag, values, step, wallTime);
  }

  addHistogramData(tag: string, h: HistogramData, step: number, wallTime?: number): void {
    this.mainWriter().addHistogramData(tag, h, step, wallTime);
  }

  /** Paths of the event files written so far, main file first. */
  files(): string[] {
    return [...(this.main ? [this.main.path] : []), ...[...this.series.values()].map((w) => w.path)];
  }

  flush(): void {
    for (const writer of this.writers()) writer.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    let firstError: unknown;
    for (const writer of this.writers()) {
      try {
        writer.close();
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  private writers(): EventFileWriter[] {
    return [...(this.main ? [this.main] : []), ...this.series.values()];
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`SummaryWriter for ${this.logdir} is already closed`);
  }

  private mainWriter(): EventFileWriter {
    this.checkOpen();
    this.main ??= new EventFileWriter(this.logdir, this.options);
    return this.main;
  }
}
