// Small MNIST-format data folders built by hand: the four IDX files with the images and labels a
// test needs (other pixel counts, labels beyond a model's outputs, images that overflow).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { craftIdx } from "./bytes.js";

export interface CraftedSplit {
  count: number;
  rows?: number;
  cols?: number;
  /** The pixel value of image i at pixel p (default: a fixed pattern). */
  pixel?: (image: number, pixel: number) => number;
  /** The label of image i (default: i mod 10). */
  label?: (image: number) => number;
}

function writeSplit(dir: string, prefix: string, split: CraftedSplit): void {
  const rows = split.rows ?? 28;
  const cols = split.cols ?? 28;
  const pixels = rows * cols;
  const images = new Uint8Array(split.count * pixels);
  const pixel = split.pixel ?? ((i, p) => ((i * 31 + p * 7) % 5 === 0 ? 200 : 0));
  for (let i = 0; i < split.count; i++) for (let p = 0; p < pixels; p++) images[i * pixels + p] = pixel(i, p);
  const labels = Uint8Array.from({ length: split.count }, (_, i) => (split.label ?? ((k) => k % 10))(i));
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), craftIdx([split.count, rows, cols], images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), craftIdx([split.count], labels));
}

/** Writes a data folder at `dir` with these train and test splits; returns `dir`. */
export function craftDataFolder(dir: string, train: CraftedSplit, test: CraftedSplit): string {
  mkdirSync(dir, { recursive: true });
  writeSplit(dir, "train", train);
  writeSplit(dir, "t10k", test);
  return dir;
}
