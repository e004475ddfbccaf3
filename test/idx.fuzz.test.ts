// Property tests: whatever bytes reach the IDX reader, it either returns a result whose sizes add up
// or throws an InputError naming the source; never another error, never a hang.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { decodeIdxBytes, IDX_MAGIC, parseIdx, type IdxArray, type IdxKind } from "../src/data/idx.js";
import { byteMutations, craftIdx, type Mutation } from "./support/bytes.js";

const RUNS = { numRuns: 300 };
const SOURCE = "fuzz-input";


const validFile = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.nat(255))
    .map(([count, rows, cols, fill]) => craftIdx([count, rows, cols], new Uint8Array(count * rows * cols).fill(fill))),
  fc.tuple(fc.integer({ min: 0, max: 40 }), fc.nat(255)).map(([count, fill]) => craftIdx([count], new Uint8Array(count).fill(fill))),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  ...byteMutations(8),
  // Header fields: magic bytes, type code, rank, and the big-endian dimension words.
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.nat(255)).map(([at, value]): Mutation => (bytes) => {
    const out = Uint8Array.from(bytes);
    if (at < out.length) out[at] = value;
    return out;
  }),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(0xffffffff)).map(([dim, value]): Mutation => (bytes) => {
    const out = Uint8Array.from(bytes);
    const at = 4 + 4 * dim;
    if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, value, false);
    return out;
  }),
);

const mutatedFile = fc
  .tuple(validFile, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([bytes, mutations]) => mutations.reduce((b, m) => m(b), bytes));

const expectedKind = fc.constantFrom<IdxKind | undefined>(undefined, "images", "labels");

/** The outcome contract: a consistent result, or an InputError naming the source. */
function checkOutcome(run: () => IdxArray, bytes: Uint8Array | undefined, expected: IdxKind | undefined): void {
  let result: IdxArray;
  try {
    result = run();
  } catch (error) {
    assert.ok(error instanceof InputError, `threw ${String(error)}`);
    assert.ok(error.message.startsWith(`${SOURCE}: `), error.message);
    return;
  }
  const rank = result.dims.length;
  assert.ok(rank === 1 || rank === 3);
  assert.equal(result.magic, 0x800 | rank);
  if (expected !== undefined) assert.equal(result.magic, IDX_MAGIC[expected]);
  assert.equal(result.data.length, result.dims.reduce((a, b) => a * b, 1));
  if (bytes !== undefined) {
    assert.equal(bytes.length, 4 + 4 * rank + result.data.length);
    assert.deepEqual([...result.data], [...bytes.subarray(4 + 4 * rank)]);
  }
}

describe("IDX reader under random and mutated input", { timeout: 20_000 }, () => {
  test("valid files always parse, with their dims and data", () => {
    fc.assert(
      fc.property(validFile, (bytes) => {
        const parsed = parseIdx(bytes, SOURCE);
        const rank = bytes[3];
        assert.equal(parsed.dims.length, rank);
        assert.equal(parsed.data.length, bytes.length - 4 - 4 * rank);
      }),
      RUNS,
    );
  });

  test("random bytes: a consistent result or an InputError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), expectedKind, (bytes, expected) => {
        checkOutcome(() => parseIdx(bytes, SOURCE, expected), bytes, expected);
      }),
      RUNS,
    );
  });

  test("random bytes behind a plausible header reach the size checks", () => {
    const plausible = fc
      .tuple(fc.constantFrom(1, 3), fc.array(fc.nat(6), { minLength: 3, maxLength: 3 }), fc.uint8Array({ maxLength: 120 }))
      .map(([rank, dims, body]) => {
        const header = craftIdx(dims.slice(0, rank), new Uint8Array(0)).subarray(0, 4 + 4 * rank);
        const out = new Uint8Array(header.length + body.length);
        out.set(header);
        out.set(body, header.length);
        return out;
      });
    let parsedSome = 0;
    fc.assert(
      fc.property(plausible, expectedKind, (bytes, expected) => {
        checkOutcome(() => {
          const result = parseIdx(bytes, SOURCE, expected);
          parsedSome++;
          return result;
        }, bytes, expected);
      }),
      RUNS,
    );
    // The generator is only useful if it sometimes gets past the checks.
    assert.ok(parsedSome > 0);
  });

  test("mutated valid files: flipped, truncated, extended, header rewritten", () => {
    fc.assert(
      fc.property(mutatedFile, expectedKind, (bytes, expected) => {
        checkOutcome(() => parseIdx(bytes, SOURCE, expected), bytes, expected);
      }),
      RUNS,
    );
  });

  test("gzip path: mutated files gzipped, and gzip streams mutated", () => {
    fc.assert(
      fc.property(mutatedFile, fc.option(mutation, { nil: undefined }), expectedKind, (bytes, streamMutation, expected) => {
        const zipped = gzipSync(bytes);
        if (streamMutation === undefined) {
          checkOutcome(() => decodeIdxBytes(zipped, SOURCE, expected), bytes, expected);
        } else {
          checkOutcome(() => decodeIdxBytes(streamMutation(zipped), SOURCE, expected), undefined, expected);
        }
      }),
      RUNS,
    );
  });
});
