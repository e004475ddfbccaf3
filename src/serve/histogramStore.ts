// The histograms of a run's event files, kept in memory and brought up to date by reading only what
// was appended since the last look (a file being written ends in at most one incomplete record,
// which waits for the next look). A corrupt file is skipped with a warning; it is read afresh once
// it changes.
import { statSync } from "node:fs";
import { relative } from "node:path";
import { parseEventRecords, readEventFileRange } from "../log/eventReader.js";
import type { HistogramData } from "../log/histogram.js";
import { splitRecords } from "../log/tfrecord.js";
import { walkFiles } from "./walkFiles.js";

const RECORD_FRAMING_BYTES = 16;

interface FileEntry {
  ino: number;
  size: number;
  mtimeMs: number;
  /** Bytes decoded so far: always a whole number of records. */
  offset: number;
  /** tag → step → histogram. */
  histograms: Map<string, Map<number, HistogramData>>;
  error?: string;
}

/** Event files under `dir` (TensorBoard's test: "tfevents" in the name), symlinks not followed. */
function eventFiles(dir: string): string[] {
  return walkFiles(dir, 3, (name) => name.includes("tfevents"));
}

/** Bytes [offset, end) of an event file (fewer if it is shorter now): bounded, chunked, regular files only. */
function readFrom(path: string, offset: number, end: number): Uint8Array {
  return readEventFileRange(path, offset, end);
}

/** Bytes decoded per slice of work: a few tens of milliseconds, after which other requests get a turn. */
const SLICE_BYTES = 256 * 1024;
/** A single record larger than this is not a histogram actlab wrote: the file is skipped as corrupt. */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export class HistogramStore {
  private readonly files = new Map<string, FileEntry>();
  /** Files being decoded now: a second reader waits for the first instead of decoding the same bytes again. */
  private readonly pending = new Map<string, Promise<FileEntry>>();

  constructor(private readonly pause: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve))) {}

  private update(path: string, source: string): Promise<FileEntry> {
    let running = this.pending.get(path);
    if (!running) {
      running = this.decode(path, source).finally(() => this.pending.delete(path));
      this.pending.set(path, running);
    }
    return running;
  }

  /** `source` names the file in messages, relative to the log directory. */
  private async decode(path: string, source: string): Promise<FileEntry> {
    const stats = statSync(path);
    let entry = this.files.get(path);
    const unchanged = entry && entry.ino === stats.ino && entry.size === stats.size && entry.mtimeMs === stats.mtimeMs;
    if (entry && unchanged) return entry;
    // Appended to: continue from the last whole record. Replaced, shrunk or once corrupt: start over.
    if (!entry || entry.ino !== stats.ino || stats.size < entry.offset || entry.error !== undefined) {
      entry = { ino: stats.ino, size: 0, mtimeMs: 0, offset: 0, histograms: new Map() };
      this.files.set(path, entry);
    }
    entry.size = stats.size;
    entry.mtimeMs = stats.mtimeMs;
    try {
      // Slice by slice, each a whole number of records; a record longer than a slice is read whole.
      while (entry.offset < stats.size) {
        let bytes = readFrom(path, entry.offset, Math.min(stats.size, entry.offset + SLICE_BYTES));
        let records = splitRecords(bytes, source, { allowTruncatedTail: true });
        if (records.length === 0) {
          if (bytes.length < 8) break;
          const needed = RECORD_FRAMING_BYTES + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
          if (needed > MAX_RECORD_BYTES) throw new Error(`${source}: a record of ${needed} bytes at byte ${entry.offset}, over ${MAX_RECORD_BYTES}`);
          if (entry.offset + needed > stats.size) break; // the record being written now
          bytes = readFrom(path, entry.offset, entry.offset + needed);
          records = splitRecords(bytes, source, { allowTruncatedTail: true });
          if (records.length === 0) break;
        }
        const consumed = records.reduce((n, r) => n + r.length + RECORD_FRAMING_BYTES, 0);
        for (const event of parseEventRecords(bytes.subarray(0, consumed), source)) {
          for (const { tag, ...histogram } of event.histograms) {
            let steps = entry.histograms.get(tag);
            if (!steps) entry.histograms.set(tag, (steps = new Map()));
            steps.set(event.step, histogram);
          }
        }
        entry.offset += consumed;
        if (entry.offset < stats.size) await this.pause();
      }
    } catch (error) {
      entry.error = (error as Error).message;
      entry.histograms = new Map();
    }
    return entry;
  }

  /**
   * Histograms of the given tags, step by step, merged over the run's event files (a later file wins
   * a step both hold), with a warning for every file skipped. Decoding new bytes yields to the event
   * loop every SLICE_BYTES, so a large event file never holds up other requests.
   */
  async read(dir: string, runName: string, tags: string[]): Promise<{ byTag: Map<string, Map<number, HistogramData>>; warnings: string[] }> {
    const byTag = new Map<string, Map<number, HistogramData>>(tags.map((t) => [t, new Map()]));
    const warnings: string[] = [];
    for (const path of eventFiles(dir)) {
      const source = `${runName}/${relative(dir, path)}`;
      let entry: FileEntry;
      try {
        entry = await this.update(path, source);
      } catch (error) {
        warnings.push(`${source} cannot be read (${(error as Error).message}); skipped`);
        continue;
      }
      if (entry.error !== undefined) {
        warnings.push(`skipped a corrupt event file: ${entry.error}`);
        continue;
      }
      for (const tag of tags) {
        const steps = entry.histograms.get(tag);
        if (steps) for (const [step, h] of steps) byTag.get(tag)!.set(step, h);
      }
    }
    return { byTag, warnings };
  }
}
