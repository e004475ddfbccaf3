// Small helpers every kind of test uses: scratch folders that clean up after themselves, and a
// seeded generator for test inputs and timings that must be the same on every run.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A scratch folder under the system's temp folder; fresh() makes a new empty sub-folder in it. */
export function temporaryDir(prefix: string): { path: string; fresh: () => string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `actlab-${prefix}-`));
  let count = 0;
  return {
    path,
    fresh: () => {
      const dir = join(path, String(count++));
      mkdirSync(dir);
      return dir;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** mulberry32: a tiny seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
