// Reading the PyTorch ground truth in ../shared/fixtures and comparing numbers against it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES_DIR = fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url));

export function readFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES_DIR + name, "utf8")) as T;
}

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the worst element.
 */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}
