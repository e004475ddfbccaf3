import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { InputError } from "../src/errors.js";
import { gunzipBounded, MAX_IDX_BYTES, parseIdx, readIdxFile } from "../src/data/idx.js";
import { defaultMnistDir, loadMnist, validateDataDir } from "../src/data/mnist.js";
import { craftIdx } from "./support/bytes.js";
import { temporaryDir } from "./support/scratch.js";

/** An IDX file written by hand: magic bytes, big-endian dims, then the data. */

function craftImages(count: number, rows: number, cols: number, pixel = (i: number) => i % 256): Uint8Array {
  return craftIdx([count, rows, cols], Uint8Array.from({ length: count * rows * cols }, (_, i) => pixel(i)));
}

function craftLabels(labels: number[]): Uint8Array {
  return craftIdx([labels.length], Uint8Array.from(labels));
}

function throwsInput(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    for (const fragment of fragments) {
      if (typeof fragment === "string") assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      else assert.match(error.message, fragment);
    }
    return true;
  });
}

const scratch = temporaryDir("idx");
after(() => scratch.remove());
const tempDir = scratch.fresh;

describe("the real MNIST files", () => {
  const dir = defaultMnistDir();

  test("training images: 60,000 of 28×28, read well under a second", () => {
    const start = performance.now();
    const images = readIdxFile(join(dir, "train-images-idx3-ubyte"), "images");
    const ms = performance.now() - start;
    assert.equal(images.magic, 0x00000803);
    assert.deepEqual(images.dims, [60000, 28, 28]);
    assert.equal(images.data.length, 60000 * 28 * 28);
    // The first image is a 5: its borders are blank and its middle is not.
    const first = images.data.subarray(0, 784);
    assert.equal(first[0], 0);
    assert.ok(first.some((p) => p === 255));
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  });

  test("labels: 60,000 training labels beginning 5, 0, 4, 1, 9 and 10,000 test labels beginning 7, 2, 1", () => {
    const train = readIdxFile(join(dir, "train-labels-idx1-ubyte"), "labels");
    assert.equal(train.magic, 0x00000801);
    assert.deepEqual(train.dims, [60000]);
    assert.deepEqual([...train.data.subarray(0, 5)], [5, 0, 4, 1, 9]);
    const testLabels = readIdxFile(join(dir, "t10k-labels-idx1-ubyte"), "labels");
    assert.deepEqual(testLabels.dims, [10000]);
    assert.deepEqual([...testLabels.data.subarray(0, 3)], [7, 2, 1]);
  });

  test("test images: 10,000 of 28×28", () => {
    const images = readIdxFile(join(dir, "t10k-images-idx3-ubyte"), "images");
    assert.deepEqual(images.dims, [10000, 28, 28]);
  });

  test("a labels file where images are expected is refused by its magic", () => {
    throwsInput(
      () => readIdxFile(join(dir, "train-labels-idx1-ubyte"), "images"),
      "train-labels-idx1-ubyte: expected magic 0x00000803 (images), found 0x00000801 (labels)",
    );
  });
});

describe("parseIdx on crafted bytes", () => {
  test("reads dims and data of a valid file, big-endian", () => {
    const bytes = craftIdx([2, 3, 256 + 1], new Uint8Array(2 * 3 * 257).fill(7));
    const parsed = parseIdx(bytes, "crafted");
    assert.equal(parsed.magic, 0x803);
    assert.deepEqual(parsed.dims, [2, 3, 257]);
    assert.equal(parsed.data.length, 2 * 3 * 257);
    assert.ok(parsed.data.every((v) => v === 7));
  });

  test("wrong magic", () => {
    const bytes = craftImages(2, 2, 2);
    bytes[0] = 0x12;
    throwsInput(() => parseIdx(bytes, "weird.bin"), "weird.bin", "not an IDX file");
    throwsInput(() => parseIdx(bytes, "weird.bin", "images"), "expected magic 0x00000803 (images), found 0x12000803 (not an IDX file)");
    throwsInput(() => parseIdx(craftLabels([1, 2]), "l", "images"), "l: expected magic 0x00000803 (images), found 0x00000801 (labels)");
  });

  test("wrong type codes: known non-byte types and unknown ones", () => {
    throwsInput(() => parseIdx(craftIdx([1], new Uint8Array(1), 0x0d), "f.idx"), "f.idx", "float32", "0x0d");
    throwsInput(() => parseIdx(craftIdx([1], new Uint8Array(1), 0x07), "u.idx"), "u.idx", "unknown IDX type code 0x07");
  });

  test("dimension counts other than 1 and 3", () => {
    throwsInput(() => parseIdx(craftIdx([], new Uint8Array(0)), "z"), "z: has 0 dimensions");
    throwsInput(() => parseIdx(craftIdx([2, 2], new Uint8Array(4)), "two"), "two: has 2 dimensions");
    const absurd = new Uint8Array([0, 0, 8, 255]);
    throwsInput(() => parseIdx(absurd, "a"), "a: has 255 dimensions");
  });

  test("truncated header, truncated data", () => {
    throwsInput(() => parseIdx(new Uint8Array([0, 0]), "tiny"), "tiny: too short");
    throwsInput(() => parseIdx(craftImages(2, 2, 2).subarray(0, 10), "h"), "h: truncated header");
    const full = craftImages(3, 4, 5);
    throwsInput(() => parseIdx(full.subarray(0, full.length - 1), "t"), "t: truncated", "need 60 data bytes", "found 59");
  });

  test("trailing bytes", () => {
    const full = craftImages(3, 4, 5);
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    throwsInput(() => parseIdx(longer, "tail"), "tail: 3 trailing bytes");
  });

  test("dims claiming more than the size limit are refused without allocating", () => {
    const claim = craftIdx([0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(0));
    throwsInput(() => parseIdx(claim, "huge"), "huge", `${MAX_IDX_BYTES}-byte limit`);
  });
});

describe("readIdxFile on disk", () => {
  test("a gzip copy reads back the same as the raw file; detection is by content, not name", () => {
    const dir = tempDir();
    const raw = craftImages(5, 3, 2);
    writeFileSync(join(dir, "plain"), raw);
    writeFileSync(join(dir, "zipped-without-suffix"), gzipSync(raw));
    writeFileSync(join(dir, "images.gz"), gzipSync(raw));
    const fromRaw = readIdxFile(join(dir, "plain"), "images");
    for (const name of ["zipped-without-suffix", "images.gz"]) {
      const fromGzip = readIdxFile(join(dir, name), "images");
      assert.deepEqual(fromGzip.dims, [5, 3, 2]);
      assert.deepEqual([...fromGzip.data], [...fromRaw.data]);
      assert.deepEqual([...fromGzip.data], Array.from({ length: 30 }, (_, i) => i));
    }
  });

  test("a corrupt or truncated gzip stream is an InputError", () => {
    const dir = tempDir();
    const zipped = gzipSync(craftImages(5, 3, 2));
    writeFileSync(join(dir, "cut.gz"), zipped.subarray(0, zipped.length - 6));
    throwsInput(() => readIdxFile(join(dir, "cut.gz"), "images"), "cut.gz", "gzip");
    const garbled = Uint8Array.from(zipped);
    garbled[12] ^= 0xff;
    garbled[13] ^= 0xff;
    writeFileSync(join(dir, "garbled.gz"), garbled);
    throwsInput(() => readIdxFile(join(dir, "garbled.gz"), "images"), "garbled.gz");
  });

  test("a gzip bomb stops at the output limit", () => {
    // 64 MiB of zeros compress to about 64 KiB; a lowered cap shows the bound holds without the memory.
    const bomb = gzipSync(new Uint8Array(64 << 20));
    assert.ok(bomb.length < 1 << 20);
    throwsInput(() => gunzipBounded(bomb, "bomb.gz", 1 << 20), "bomb.gz", "more than the 1048576-byte limit");
    assert.equal(gunzipBounded(bomb, "bomb.gz", 64 << 20).length, 64 << 20);
  });

  test("a raw file whose header claims more than the file holds is refused from the header", () => {
    const dir = tempDir();
    const lying = craftIdx([60000, 28, 28], new Uint8Array(100));
    writeFileSync(join(dir, "lying"), lying);
    throwsInput(() => readIdxFile(join(dir, "lying"), "images"), "lying: truncated", "need 47040000", "found 100");
  });

  test("a missing file, a folder and an empty file", () => {
    const dir = tempDir();
    throwsInput(() => readIdxFile(join(dir, "nope"), "labels"), "nope: no such file");
    throwsInput(() => readIdxFile(dir, "labels"), "is a directory");
    writeFileSync(join(dir, "empty"), new Uint8Array(0));
    throwsInput(() => readIdxFile(join(dir, "empty"), "labels"), "empty: too short");
  });
});

describe("IDX files in a data folder", () => {
  function writeSet(dir: string, files: Record<string, Uint8Array>): void {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  }

  test("label and image counts that disagree are refused, naming both files", () => {
    const dir = tempDir();
    writeSet(dir, {
      "train-images-idx3-ubyte": craftImages(20, 4, 4),
      "train-labels-idx1-ubyte": craftLabels(Array.from({ length: 19 }, (_, i) => i % 3)),
      "t10k-images-idx3-ubyte": craftImages(5, 4, 4),
      "t10k-labels-idx1-ubyte": craftLabels([0, 1, 2, 0, 1]),
    });
    throwsInput(() => loadMnist({ dir }), "train-labels-idx1-ubyte: holds 19 labels", "train-images-idx3-ubyte holds 20 images");
  });

  test("train and test images of different sizes are refused", () => {
    const dir = tempDir();
    writeSet(dir, {
      "train-images-idx3-ubyte": craftImages(4, 4, 4),
      "train-labels-idx1-ubyte": craftLabels([0, 1, 0, 1]),
      "t10k-images-idx3-ubyte": craftImages(2, 5, 4),
      "t10k-labels-idx1-ubyte": craftLabels([0, 1]),
    });
    throwsInput(() => loadMnist({ dir }), "4×4", "5×4");
  });

  test("missing files: one message lists every missing name and what was found", () => {
    const dir = tempDir();
    writeSet(dir, { "train-images-idx3-ubyte.gz": gzipSync(craftImages(2, 2, 2)), "README.txt": new Uint8Array(1) });
    for (const check of [() => validateDataDir(dir), () => loadMnist({ dir })]) {
      throwsInput(
        check,
        dir,
        "missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
        "found: README.txt, train-images-idx3-ubyte.gz",
      );
    }
    assert.throws(() => validateDataDir(dir), (e: Error) => !e.message.includes("missing train-images"));
  });

  test("a folder that does not exist, a file given as a folder, an empty folder", () => {
    const dir = tempDir();
    throwsInput(() => validateDataDir(join(dir, "absent")), "absent", "does not exist");
    writeFileSync(join(dir, "file"), new Uint8Array(1));
    throwsInput(() => validateDataDir(join(dir, "file")), "is not a folder");
    throwsInput(() => validateDataDir(dir), "missing train-images-idx3-ubyte, train-labels-idx1-ubyte", "found: file");
    const empty = tempDir();
    throwsInput(() => validateDataDir(empty), "the folder is empty");
  });
});
