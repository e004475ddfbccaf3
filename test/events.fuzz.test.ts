// The event reader against hostile bytes: random, mutated, and well-framed garbage. Each input must
// decode or be refused with an InputError, quickly; any other error is a bug.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { parseEventRecords } from "../src/log/eventReader.js";
import { makeHistogram } from "../src/log/histogram.js";
import { encodeEvent, FILE_VERSION } from "../src/log/proto.js";
import { frameRecord, maskedCrc32c } from "../src/log/tfrecord.js";

const TIME_LIMIT_MS = 2000;

/** Parses, asserting the outcome is events or an InputError, within the time limit. */
function decodesOrRefuses(bytes: Uint8Array): void {
  const start = performance.now();
  try {
    const events = parseEventRecords(bytes, "fuzz.tfevents");
    assert.ok(Array.isArray(events));
    for (const e of events) {
      assert.equal(typeof e.wallTime, "number");
      assert.ok(Number.isSafeInteger(e.step));
      for (const h of e.histograms) assert.equal(h.bucket.length, h.bucketLimit.length);
    }
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    assert.ok(err.message.includes("fuzz.tfevents"), `message names the file: ${err.message}`);
  }
  const ms = performance.now() - start;
  assert.ok(ms <= TIME_LIMIT_MS, `took ${ms} ms on ${bytes.length} bytes`);
}

/** A valid event file in memory: header, scalars, a histogram. */
function sampleFile(): Uint8Array {
  const records = [
    encodeEvent({ wall_time: 1e9, file_version: FILE_VERSION }),
    encodeEvent({ wall_time: 1e9 + 1, step: 1, summary: { value: [{ tag: "loss", simple_value: 0.5 }] } }),
    encodeEvent({
      wall_time: 1e9 + 2, step: 2,
      summary: { value: [{ tag: "weight/relu/1", histo: toMessage(makeHistogram([0.1, -0.3, 0.7, 2])) }] },
    }),
  ].map(frameRecord);
  return Buffer.concat(records);
}

function toMessage(h: ReturnType<typeof makeHistogram>) {
  return {
    min: h.min, max: h.max, num: h.num, sum: h.sum, sum_squares: h.sumSquares,
    bucket_limit: h.bucketLimit, bucket: h.bucket,
  };
}

const SAMPLE = sampleFile();
const SAMPLE_PAYLOADS = [
  encodeEvent({ wall_time: 5, step: 3, summary: { value: [{ tag: "acc", simple_value: 0.9 }] } }),
  encodeEvent({ wall_time: 6, step: 4, summary: { value: [{ tag: "w", histo: toMessage(makeHistogram([1, 2, 3])) }] } }),
];

/** Byte-level damage: overwrite, insert, delete, truncate. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(source: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(source);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    if (m.kind === "set" && at < bytes.length) bytes[at] = m.byte;
    else if (m.kind === "insert") bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.kind === "delete") bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    else if (m.kind === "truncate") bytes = bytes.subarray(0, at);
  }
  return bytes;
}

describe("parseEventRecords on hostile input", () => {
  test("the unmutated sample decodes (so the properties below start from a valid file)", () => {
    const events = parseEventRecords(SAMPLE, "sample");
    assert.equal(events.length, 3);
    assert.equal(events[2].histograms[0].num, 4);
  });

  test("random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), decodesOrRefuses), { numRuns: 300 });
  });

  test("a valid file, mutated", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (ms) => decodesOrRefuses(mutate(SAMPLE, ms))),
      { numRuns: 400 },
    );
  });

  test("random payloads with valid framing reach the protobuf decoder", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 512 }), { maxLength: 4 }), (payloads) =>
        decodesOrRefuses(Buffer.concat(payloads.map(frameRecord)))),
      { numRuns: 400 },
    );
  });

  test("valid Event payloads, mutated, then framed with correct CRCs", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLE_PAYLOADS),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (payload, ms) => decodesOrRefuses(frameRecord(mutate(payload, ms))),
      ),
      { numRuns: 400 },
    );
  });

  test("a length header claiming up to 2^64-1 bytes, with a correct length CRC", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 64 }), (claim, tail) => {
        const header = new Uint8Array(12);
        const view = new DataView(header.buffer);
        view.setBigUint64(0, claim, true);
        view.setUint32(8, maskedCrc32c(header.subarray(0, 8)), true);
        decodesOrRefuses(Buffer.concat([header, tail]));
      }),
      { numRuns: 300 },
    );
  });

  test("protobuf nesting deep enough to exhaust the stack is refused, not a crash", () => {
    // 200,000 nested start-group tags of an unknown field: protobufjs recurses once per level.
    const payload = new Uint8Array(200_000).fill((15 << 3) | 3);
    decodesOrRefuses(frameRecord(payload));
  });
});
