// Property tests: whatever bytes reach the safetensors decoder, it returns tensors whose sizes add up
// to the file, or throws an InputError naming the source; never another error, never a hang.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../src/checkpoint/safetensors.js";
import { byteMutations, type Mutation } from "./support/bytes.js";

const RUNS = { numRuns: 300 };
const SOURCE = "fuzz.safetensors";
const TIME_LIMIT_MS = 2000;

const ELEMENT_SIZE = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 } as const;

/** Decodes and checks the outcome is one of the two allowed ones; returns the decoded value or null. */
function decodeOrRefuse(bytes: Uint8Array): ReturnType<typeof decodeSafetensors> | null {
  const start = performance.now();
  let result: ReturnType<typeof decodeSafetensors> | null = null;
  try {
    result = decodeSafetensors(bytes, SOURCE);
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.message.startsWith(`${SOURCE}: `), `message names the source: ${err.message}`);
  }
  assert.ok(performance.now() - start < TIME_LIMIT_MS, "decoded within the time limit");
  if (result) {
    // Whatever was accepted is self-consistent: sizes match shapes and tile the data exactly.
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    let total = 0;
    for (const t of result.tensors.values()) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      assert.equal(t.data.length, count);
      assert.equal(t.data.byteLength, count * ELEMENT_SIZE[t.dtype]);
      total += t.data.byteLength;
    }
    assert.equal(total, bytes.length - 8 - headerLength);
    for (const v of Object.values(result.metadata)) assert.equal(typeof v, "string");
  }
  return result;
}

const dims = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const tensorArb: fc.Arbitrary<Tensor> = fc
  .tuple(fc.string({ maxLength: 12 }), fc.constantFrom("F32", "F64", "I32", "I64", "U8"), dims, fc.nat())
  .filter(([name]) => name !== "__metadata__")
  .map(([name, dtype, shape, seed]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => ((seed + i * 2654435761) % 1000) - 500);
    const data =
      dtype === "F32" ? Float32Array.from(values, (v) => v / 7)
      : dtype === "F64" ? Float64Array.from(values, (v) => v / 7)
      : dtype === "I32" ? Int32Array.from(values)
      : dtype === "I64" ? BigInt64Array.from(values, (v) => BigInt(v) * 1_000_000_007n)
      : Uint8Array.from(values, (v) => v & 255);
    return { name, dtype, shape, data } as Tensor;
  });
const tensorsArb = fc.uniqueArray(tensorArb, { maxLength: 5, selector: (t) => t.name });
const metadataArb = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), { nil: undefined });
const validFile = fc.tuple(tensorsArb, metadataArb).map(([ts, md]) => encodeSafetensors(ts, md));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  ...byteMutations(16),
  // Rewrite the length prefix: small shifts and absurd claims alike.
  fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -16, max: 16 }).map(BigInt)).map((v): Mutation => (bytes) => {
    const out = Uint8Array.from(bytes);
    if (out.length < 8) return out;
    const view = new DataView(out.buffer);
    const next = v < 0n || v < 17n ? view.getBigUint64(0, true) + v : v;
    view.setBigUint64(0, BigInt.asUintN(64, next), true);
    return out;
  }),
);

/** Headers that are JSON and almost right: the decoder's semantic checks, not the JSON parser, decide. */
const jsonValue = fc.oneof(
  fc.integer({ min: -3, max: 64 }),
  fc.constantFrom(2 ** 53, 2 ** 60, 1e300, 0.5, -0, null, true, "8", "F32"),
  fc.array(fc.integer({ min: -1, max: 40 }), { maxLength: 4 }),
);
const entryArb = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom("F32", "F64", "I32", "I64", "U8", "F16", "BOOL", "f32", ""), jsonValue),
    shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 3 }), jsonValue),
    data_offsets: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })),
      fc.array(jsonValue, { maxLength: 3 }),
      jsonValue,
    ),
    extra: jsonValue,
  },
  { requiredKeys: [] },
);
const headerArb = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 6 }), fc.constant("__metadata__")),
  fc.oneof(entryArb, fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), jsonValue)), jsonValue),
  { maxKeys: 4 },
);
const craftedFile = fc.tuple(headerArb, fc.integer({ min: 0, max: 48 }), fc.nat(7)).map(([header, dataLength, pad]) => {
  const text = Buffer.from(JSON.stringify(header) + " ".repeat(pad), "utf8");
  const out = new Uint8Array(8 + text.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
});

describe("safetensors decoder under random input", () => {
  test("valid files round-trip exactly", () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const back = decodeOrRefuse(encodeSafetensors(tensors, metadata));
        assert.ok(back, "a file we wrote decodes");
        const decoded: Map<string, Tensor> = back.tensors;
        assert.deepEqual(new Set(decoded.keys()), new Set(tensors.map((t) => t.name)));
        // Order is data order: exact for tensors with bytes (empty ones share an offset, and JSON
        // object order puts integer-like names first, so their relative order is not pinned down).
        const withBytes = (names: string[]) => names.filter((n) => decoded.get(n)!.data.byteLength > 0);
        assert.deepEqual(withBytes([...decoded.keys()]), withBytes(tensors.map((t) => t.name)));
        for (const t of tensors) {
          const got = decoded.get(t.name)!;
          assert.deepEqual(got.shape, t.shape);
          assert.deepEqual(Array.from(got.data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>));
        }
        assert.deepEqual({ ...back.metadata }, { ...(metadata ?? {}) });
      }),
      RUNS,
    );
  });

  test("random bytes: decode or InputError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => void decodeOrRefuse(bytes)), RUNS);
  });

  test("random bytes behind a plausible length prefix: decode or InputError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(220), (body, n) => {
        const bytes = new Uint8Array(8 + body.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
        bytes.set(body, 8);
        decodeOrRefuse(bytes);
      }),
      RUNS,
    );
  });

  test("mutated valid files: decode or InputError", () => {
    fc.assert(
      fc.property(validFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), (file, ms) => {
        decodeOrRefuse(ms.reduce((b, m) => m(b), file));
      }),
      RUNS,
    );
  });

  test("JSON headers with wrong types, sizes and offsets: decode or InputError", () => {
    fc.assert(fc.property(craftedFile, (bytes) => void decodeOrRefuse(bytes)), { numRuns: 500 });
  });

  test("a header that claims a huge tensor but carries a few bytes is refused at once", () => {
    const header = JSON.stringify({ a: { dtype: "F64", shape: [2 ** 26, 2 ** 26], data_offsets: [0, 2 ** 52] } });
    const text = Buffer.from(header);
    const bytes = new Uint8Array(8 + text.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
    bytes.set(text, 8);
    assert.equal(decodeOrRefuse(bytes), null);
  });
});
