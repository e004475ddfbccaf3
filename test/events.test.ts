// Event files checked from the raw bytes up, with a decoder written here that shares nothing with
// the library: its own CRC32C table, its own TFRecord framing, its own protobuf wire parser.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { InputError } from "../src/errors.js";
import { EventFileWriter, SummaryWriter, cleanTag } from "../src/log/events.js";
import { parseEventRecords, readEventDir, readEventFile } from "../src/log/eventReader.js";
import { makeHistogram } from "../src/log/histogram.js";

// ---------- independent decoder ----------

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
}

/** TFRecord payloads, asserting both CRCs and exact framing (no bytes left over). */
function framedRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 12 <= bytes.length, `header of record ${out.length} complete`);
    const length = Number(view.getBigUint64(at, true));
    assert.equal(view.getUint32(at + 8, true), masked(bytes.subarray(at, at + 8)), `length CRC of record ${out.length}`);
    assert.ok(at + 12 + length + 4 <= bytes.length, `record ${out.length} complete`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(view.getUint32(at + 12 + length, true), masked(data), `data CRC of record ${out.length}`);
    out.push(data);
    at += 12 + length + 4;
  }
  return out;
}

type Field = { num: number; wire: number; varint?: bigint; bytes?: Uint8Array; f64?: number; f32?: number };

function wireFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[at++];
      assert.ok(b !== undefined, "varint runs past the end");
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
    }
  };
  const fields: Field[] = [];
  while (at < bytes.length) {
    const key = Number(varint());
    const field: Field = { num: key >>> 3, wire: key & 7 };
    if (field.wire === 0) field.varint = varint();
    else if (field.wire === 1) { field.f64 = view.getFloat64(at, true); at += 8; }
    else if (field.wire === 5) { field.f32 = view.getFloat32(at, true); at += 4; }
    else if (field.wire === 2) {
      const n = Number(varint());
      field.bytes = bytes.subarray(at, at + n);
      at += n;
    } else assert.fail(`unexpected wire type ${field.wire}`);
    fields.push(field);
  }
  assert.equal(at, bytes.length, "message ends exactly");
  return fields;
}

const only = (fields: Field[], num: number) => fields.filter((f) => f.num === num);
const text = (b?: Uint8Array) => new TextDecoder().decode(b);
function packedDoubles(b: Uint8Array): number[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
}

interface RawEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: { tag: string; simple?: number; histo?: Record<string, number | number[]> }[];
}

function rawEvents(path: string): RawEvent[] {
  return framedRecords(readFileSync(path)).map((record) => {
    const fields = wireFields(record);
    const event: RawEvent = {
      wallTime: only(fields, 1)[0]?.f64 ?? 0,
      step: Number(only(fields, 2)[0]?.varint ?? 0n),
      values: [],
    };
    const version = only(fields, 3)[0];
    if (version) event.fileVersion = text(version.bytes);
    for (const summary of only(fields, 5)) {
      for (const value of only(wireFields(summary.bytes!), 1)) {
        const vf = wireFields(value.bytes!);
        const entry: RawEvent["values"][number] = { tag: text(only(vf, 1)[0]?.bytes) };
        const simple = only(vf, 2)[0];
        if (simple) entry.simple = simple.f32;
        const histo = only(vf, 5)[0];
        if (histo) {
          const hf = wireFields(histo.bytes!);
          entry.histo = {
            min: only(hf, 1)[0]?.f64 ?? 0, max: only(hf, 2)[0]?.f64 ?? 0, num: only(hf, 3)[0]?.f64 ?? 0,
            sum: only(hf, 4)[0]?.f64 ?? 0, sumSquares: only(hf, 5)[0]?.f64 ?? 0,
            bucketLimit: only(hf, 6).flatMap((f) => packedDoubles(f.bytes!)),
            bucket: only(hf, 7).flatMap((f) => packedDoubles(f.bytes!)),
          };
          assert.ok(only(hf, 6).every((f) => f.wire === 2), "bucket_limit is packed");
        }
        event.values.push(entry);
      }
    }
    return event;
  });
}

// ---------- helpers ----------

const tempRoot = mkdtempSync(join(tmpdir(), "actlab-events-"));
after(() => rmSync(tempRoot, { recursive: true, force: true }));
let tempCount = 0;
const tempDir = () => join(tempRoot, String(tempCount++));

const eventFiles = (dir: string) => readdirSync(dir).filter((n) => n.includes("tfevents"));

function throwsInput(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    for (const f of fragments) assert.ok(error.message.includes(f), `"${error.message}" lacks "${f}"`);
    return true;
  });
}

/** TensorFlow's default edges, recomputed here: ±1e-12·1.1^k below 1e20, and 0. */
const TF_POSITIVE: number[] = [];
for (let v = 1e-12; v < 1e20; v *= 1.1) TF_POSITIVE.push(v);
const TF_EDGES = [...TF_POSITIVE.map((v) => -v).reverse(), 0, ...TF_POSITIVE];

function pinnedClock(start: number) {
  let t = start;
  return () => (t += 0.25);
}

// ---------- tests ----------

describe("CRC32C written here", () => {
  test("matches the standard check value crc32c('123456789') = 0xE3069283", () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  });
});

describe("EventFileWriter", () => {
  test("names the file as tensorboardX does and starts it with brain.Event:2", () => {
    const dir = join(tempDir(), "nested", "run");
    const writer = new EventFileWriter(dir, { now: () => 987654321.75 });
    writer.close();
    assert.deepEqual(eventFiles(dir), [`events.out.tfevents.0987654321.${hostname()}`]);
    assert.match(eventFiles(dir)[0], /^events\.out\.tfevents\.\d{10}\./);
    const events = rawEvents(writer.path);
    assert.equal(events.length, 1);
    assert.equal(events[0].fileVersion, "brain.Event:2");
    assert.equal(events[0].wallTime, 987654321.75);
    assert.equal(events[0].step, 0);
  });

  test("scalars keep tag, step, float32 value and wall time; zero values and steps survive", () => {
    const writer = new EventFileWriter(tempDir(), { now: pinnedClock(1.7e9) });
    writer.addScalar("loss", 2.302585, 1, 1700000001.5);
    writer.addScalar("loss", 0, 0, 1700000002);
    writer.addScalar("weird tag!", -1.5, 2 ** 40, 1700000003);
    writer.addScalar("nan", NaN, 3, 1700000004);
    writer.close();
    const events = rawEvents(writer.path);
    assert.equal(events.length, 5);
    assert.deepEqual(events.slice(1).map((e) => [e.wallTime, e.step, e.values]), [
      [1700000001.5, 1, [{ tag: "loss", simple: Math.fround(2.302585) }]],
      [1700000002, 0, [{ tag: "loss", simple: 0 }]],
      [1700000003, 2 ** 40, [{ tag: "weird_tag_", simple: -1.5 }]],
      [1700000004, 3, [{ tag: "nan", simple: NaN }]],
    ]);
  });

  test("buffers records until flush, then appends them whole", () => {
    const writer = new EventFileWriter(tempDir(), { maxQueue: 100, flushSecs: 1e9 });
    const sizeAfterHeader = statSync(writer.path).size;
    assert.equal(rawEvents(writer.path).length, 1, "the file_version record is on disk at once");
    for (let i = 0; i < 5; i++) writer.addScalar("x", i, i);
    assert.equal(statSync(writer.path).size, sizeAfterHeader, "nothing appended before flush");
    writer.flush();
    assert.deepEqual(rawEvents(writer.path).slice(1).map((e) => e.values[0].simple), [0, 1, 2, 3, 4]);
    writer.close();
    assert.throws(() => writer.addScalar("x", 1, 1), /closed/);
  });

  test("flushes on its own after maxQueue records or flushSecs seconds", () => {
    let now = 100;
    const writer = new EventFileWriter(tempDir(), { maxQueue: 3, flushSecs: 60, now: () => now });
    writer.addScalar("x", 1, 1);
    writer.addScalar("x", 2, 2);
    assert.equal(rawEvents(writer.path).length, 1);
    writer.addScalar("x", 3, 3);
    assert.equal(rawEvents(writer.path).length, 4, "third record filled the queue");
    now += 61;
    writer.addScalar("x", 4, 4);
    assert.equal(rawEvents(writer.path).length, 5, "a minute passed");
    writer.close();
  });

  test("two writers in one folder within the same second get distinct files", () => {
    const dir = tempDir();
    const a = new EventFileWriter(dir, { now: () => 1234567890 });
    const b = new EventFileWriter(dir, { now: () => 1234567890 });
    a.addScalar("who", 1, 1);
    b.addScalar("who", 2, 1);
    a.close();
    b.close();
    assert.notEqual(a.path, b.path);
    assert.equal(eventFiles(dir).length, 2);
    assert.deepEqual(rawEvents(a.path)[1].values, [{ tag: "who", simple: 1 }]);
    assert.deepEqual(rawEvents(b.path)[1].values, [{ tag: "who", simple: 2 }]);
  });

  test("a log folder that cannot be created is an InputError naming it", () => {
    const blocker = join(tempDir() + "-file");
    writeFileSync(blocker, "not a folder");
    throwsInput(() => new EventFileWriter(join(blocker, "run")), blocker);
  });

  test("refuses a non-integer step", () => {
    const writer = new EventFileWriter(tempDir());
    assert.throws(() => writer.addScalar("x", 1, 1.5), RangeError);
    writer.close();
  });
});

describe("SummaryWriter.addScalars", () => {
  test("one sub-folder per series, tag = main tag, as the notebook's add_scalars", () => {
    const logdir = tempDir();
    const writer = new SummaryWriter(logdir);
    for (let epoch = 0; epoch < 3; epoch++) {
      writer.addScalars("accuracy", { sigmoid: 0.5 + epoch / 10, tanh: 0.6 + epoch / 10 }, epoch + 1);
      writer.addScalars("loss", { sigmoid: 2 - epoch / 10, tanh: 1.5 - epoch / 10 }, epoch + 1);
    }
    writer.close();
    assert.deepEqual(readdirSync(logdir).sort(), ["accuracy", "loss"], "no event file in the root");
    for (const main of ["accuracy", "loss"]) {
      assert.deepEqual(readdirSync(join(logdir, main)).sort(), ["sigmoid", "tanh"]);
      for (const model of ["sigmoid", "tanh"]) {
        const files = eventFiles(join(logdir, main, model));
        assert.equal(files.length, 1, `${main}/${model} holds one file`);
        const events = rawEvents(join(logdir, main, model, files[0]));
        assert.equal(events[0].fileVersion, "brain.Event:2");
        const base = main === "accuracy" ? (model === "sigmoid" ? 0.5 : 0.6) : (model === "sigmoid" ? 2 : 1.5);
        const sign = main === "accuracy" ? 1 : -1;
        assert.deepEqual(
          events.slice(1).map((e) => [e.step, e.values]),
          [1, 2, 3].map((step) => [step, [{ tag: main, simple: Math.fround(base + sign * (step - 1) / 10) }]]),
        );
      }
    }
    assert.equal(writer.files().length, 4);
  });

  test("refuses series names that would leave the log folder", () => {
    const writer = new SummaryWriter(tempDir());
    throwsInput(() => writer.addScalars("loss", { "../escape": 1 }, 1), "../escape");
    throwsInput(() => writer.addScalars("..", { relu: 1 }, 1), "..");
    writer.close();
  });
});

describe("histograms", () => {
  /** Checks every HistogramProto invariant against values, independently of the library. */
  function checkHistogram(h: Record<string, number | number[]>, values: ArrayLike<number>): void {
    const xs = Array.from(values, Number);
    const finite = xs.filter((x) => Number.isFinite(x));
    assert.equal(h.num, xs.length);
    const naiveSum = xs.reduce((a, b) => a + b, 0);
    const naiveSq = xs.reduce((a, b) => a + b * b, 0);
    assert.ok(Math.abs((h.sum as number) - naiveSum) <= 1e-9 * (1 + naiveSq), `sum ${h.sum} vs ${naiveSum}`);
    assert.ok(Math.abs((h.sumSquares as number) - naiveSq) <= 1e-12 * naiveSq, `sum of squares`);
    assert.equal(h.min, Math.min(...finite));
    assert.equal(h.max, Math.max(...finite));
    const limits = h.bucketLimit as number[];
    const counts = h.bucket as number[];
    assert.equal(limits.length, counts.length);
    assert.equal(counts.reduce((a, b) => a + b, 0), finite.length, "bucket counts sum to num");
    // The limits are a run of consecutive TensorFlow edges.
    const first = TF_EDGES.indexOf(limits[0]);
    assert.ok(first >= 0, `limit ${limits[0]} is a TF edge`);
    assert.deepEqual(limits, TF_EDGES.slice(first, first + limits.length));
    // Bucket 0 is the empty carrier of the left edge; the others are trimmed to non-empty ends.
    assert.equal(counts[0], 0);
    assert.ok(counts[1] > 0 && counts[counts.length - 1] > 0, "empty edge buckets trimmed");
    // Each value lies in [limit[j-1], limit[j]) for exactly the bucket that counts it.
    const left = first > 0 ? TF_EDGES[first - 1] : -Infinity;
    for (let j = 0; j < counts.length; j++) {
      const lo = j === 0 ? left : limits[j - 1];
      const inside = finite.filter((x) => x >= lo && x < limits[j]).length;
      assert.equal(counts[j], inside, `bucket ${j} [${lo}, ${limits[j]})`);
    }
  }

  test("a small known set: stats, buckets, and TF's edges bracketing each value", () => {
    const values = [0.5, -0.25, 1, 1, 3, 0];
    const h = makeHistogram(values);
    assert.equal(h.num, 6);
    assert.equal(h.sum, 5.25);
    assert.equal(h.sumSquares, 0.25 + 0.0625 + 1 + 1 + 9);
    assert.equal(h.min, -0.25);
    assert.equal(h.max, 3);
    checkHistogram({ ...h }, values);
    // 1 sits in [1.1^k·1e-12, 1.1^(k+1)·1e-12) with k = floor(log(1e12)/log(1.1)) give or take rounding.
    const j = h.bucketLimit.findIndex((l) => l > 1);
    assert.ok(h.bucketLimit[j - 1] <= 1 && 1 < h.bucketLimit[j]);
    assert.equal(h.bucket[j], 2);
  });

  test("written to the event file exactly as computed, for 50,000 weights in well under a second", () => {
    const values = new Float32Array(50_000);
    let seed = 7;
    for (let i = 0; i < values.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values[i] = (seed / 2 ** 31 - 0.5) * 0.1;
    }
    const writer = new SummaryWriter(tempDir());
    const start = performance.now();
    writer.addHistogram("weight/relu/1", values, 4);
    const ms = performance.now() - start;
    writer.close();
    assert.ok(ms < 500, `took ${ms} ms`);
    const events = rawEvents(writer.files()[0]);
    assert.equal(events.length, 2);
    assert.equal(events[1].step, 4);
    assert.equal(events[1].values[0].tag, "weight/relu/1");
    const h = events[1].values[0].histo!;
    checkHistogram(h, values);
    assert.deepEqual(h, { ...makeHistogram(values) });
  });

  test("values straddling zero and tiny magnitudes land beside the 0 edge", () => {
    const values = [0, -0, 5e-13, -5e-13, 1e-12];
    const h = makeHistogram(values);
    checkHistogram({ ...h }, values);
    assert.deepEqual(h.bucketLimit, [-1e-12, 0, 1e-12, TF_POSITIVE[1]]);
    assert.deepEqual(h.bucket, [0, 1, 3, 1]);
  });

  test("non-finite values count in num but in no bucket; none at all is refused", () => {
    const h = makeHistogram([1, Infinity, 2]);
    assert.equal(h.num, 3);
    assert.equal(h.bucket.reduce((a, b) => a + b, 0), 2);
    assert.equal(h.max, Infinity);
    assert.equal(h.sum, Infinity);
    assert.ok(Number.isNaN(makeHistogram([1, NaN]).min), "NaN propagates to min, as numpy's");
    assert.throws(() => makeHistogram([]), RangeError);
    assert.throws(() => makeHistogram([NaN, Infinity]), RangeError);
  });
});

describe("readEventFile / parseEventRecords", () => {
  function writeSample(dir: string): string {
    const writer = new EventFileWriter(dir, { now: () => 1600000000 });
    writer.addScalar("loss", 0.75, 1);
    writer.addHistogram("grad_weight/tanh/5", [0.1, -0.2, 0.3], 1);
    writer.close();
    return writer.path;
  }

  test("reads back what the writer wrote", () => {
    const path = writeSample(tempDir());
    const events = readEventFile(path);
    assert.equal(events.length, 3);
    assert.equal(events[0].fileVersion, "brain.Event:2");
    assert.deepEqual(events[1].scalars, [{ tag: "loss", value: 0.75 }]);
    assert.equal(events[1].step, 1);
    assert.deepEqual(events[2].histograms, [{ tag: "grad_weight/tanh/5", ...makeHistogram([0.1, -0.2, 0.3]) }]);
  });

  test("a flipped byte, a cut tail or an absurd length are InputErrors naming file and record", () => {
    const path = writeSample(tempDir());
    const good = readFileSync(path);
    const sizes = framedRecords(good).map((r) => r.length + 16);
    const secondStart = sizes[0];

    const flippedData = Uint8Array.from(good);
    flippedData[secondStart + 14] ^= 0x01;
    throwsInput(() => parseEventRecords(flippedData, "f.tfevents"), "f.tfevents", "record 1", "data CRC");

    const flippedLength = Uint8Array.from(good);
    flippedLength[secondStart] ^= 0x40;
    throwsInput(() => parseEventRecords(flippedLength, "f.tfevents"), "record 1", "length CRC");

    const cut = good.subarray(0, good.length - 3);
    throwsInput(() => parseEventRecords(cut, "f.tfevents"), "record 2", "truncated");
    assert.equal(parseEventRecords(cut, "f.tfevents", { allowTruncatedTail: true }).length, 2);
    throwsInput(() => parseEventRecords(good.subarray(0, secondStart + 5), "f.tfevents"), "record 1", "truncated header");

    // A header that claims 2^62 bytes, with a correct length CRC: refused, nothing allocated.
    const absurd = new Uint8Array(16);
    new DataView(absurd.buffer).setBigUint64(0, 2n ** 62n, true);
    new DataView(absurd.buffer).setUint32(8, masked(absurd.subarray(0, 8)), true);
    throwsInput(() => parseEventRecords(absurd, "absurd"), "absurd", "record 0", "claims");
  });

  test("well-framed bytes that are not an Event protobuf are refused", () => {
    const payload = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]); // field 1 claims 4 GiB
    const framed = new Uint8Array(12 + payload.length + 4);
    const view = new DataView(framed.buffer);
    view.setBigUint64(0, BigInt(payload.length), true);
    view.setUint32(8, masked(framed.subarray(0, 8)), true);
    framed.set(payload, 12);
    view.setUint32(12 + payload.length, masked(payload), true);
    throwsInput(() => parseEventRecords(framed, "p.tfevents"), "p.tfevents", "record 0", "protobuf");
  });

  test("a missing file is an InputError naming it", () => {
    throwsInput(() => readEventFile(join(tempRoot, "nope.tfevents")), "nope.tfevents");
  });

  test("readEventDir finds every event file, names runs by folder, and reports a bad one", () => {
    const logdir = tempDir();
    const writer = new SummaryWriter(logdir);
    writer.addScalars("accuracy", { relu: 0.9, tanh: 0.8 }, 1);
    writer.addScalar("lr", 0.01, 1);
    writer.close();
    mkdirSync(join(logdir, "broken"));
    writeFileSync(join(logdir, "broken", "events.out.tfevents.1.x"), Uint8Array.from([1, 2, 3]));
    writeFileSync(join(logdir, "notes.txt"), "not an event file");
    const results = readEventDir(logdir);
    // Sorted by path: the root's own file ("events.out...") comes after the sub-folders.
    assert.deepEqual(results.map((r) => [r.run, r.ok]), [
      ["accuracy/relu", true], ["accuracy/tanh", true], ["broken", false], [".", true],
    ]);
    const relu = results.find((r) => r.run === "accuracy/relu")!;
    assert.ok(relu.ok && relu.events[1].scalars[0].tag === "accuracy");
    const broken = results.find((r) => r.run === "broken")!;
    assert.ok(!broken.ok && broken.error.message.includes("broken"));
    throwsInput(() => readEventDir(join(logdir, "missing")), "missing");
  });
});

describe("cleanTag", () => {
  test("replaces what tensorboardX replaces and keeps the rest", () => {
    assert.equal(cleanTag("weight/relu/1"), "weight/relu/1");
    assert.equal(cleanTag("/a b:c"), "a_b_c");
    assert.equal(cleanTag("x-y.z_1"), "x-y.z_1");
  });
});
