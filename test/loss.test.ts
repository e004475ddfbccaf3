// The softmax cross-entropy kernels (assembly/loss.ts) against a float64 reference at every finite
// magnitude of logits: 1e16 (where ln 10 used to vanish into the max), ±1e30, ±3e38 (where max − min
// overflows float32), all-equal rows, and mixes of huge and tiny values drawn by fast-check.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Kernels } from "../src/engine/kernels.js";
import { assertClose } from "./support/fixtures.js";

interface Result { loss: number; probs: number[]; dLogits: number[]; correct: number }

/** Runs forward, backward and countCorrect on one batch; logits are rounded to float32 as the engine holds them. */
function runKernels(logits: number[][], labels: number[]): Result {
  const batch = logits.length;
  const classes = logits[0].length;
  const k = new Kernels();
  const pLogits = k.allocFloats(batch * classes);
  const pProbs = k.allocFloats(batch * classes);
  const pGrad = k.allocFloats(batch * classes);
  const pLabels = k.alloc(batch);
  k.floats(pLogits, batch * classes).set(logits.flat());
  k.bytes().set(labels, pLabels);
  const loss = k.exports.softmaxCrossEntropyForward(pProbs, pLogits, pLabels, batch, classes);
  k.exports.softmaxCrossEntropyBackward(pGrad, pProbs, pLabels, batch, classes);
  const correct = k.exports.countCorrect(pLogits, pLabels, batch, classes);
  return {
    loss,
    probs: Array.from(k.floats(pProbs, batch * classes)),
    dLogits: Array.from(k.floats(pGrad, batch * classes)),
    correct,
  };
}

/** The textbook float64 computation, from the float32 values of the logits. */
function reference(logits: number[][], labels: number[]): Result {
  const batch = logits.length;
  let total = 0;
  let correct = 0;
  const probs: number[] = [];
  const dLogits: number[] = [];
  logits.forEach((raw, r) => {
    const row = raw.map(Math.fround);
    const max = Math.max(...row);
    const e = row.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    total += (max - row[labels[r]]) + Math.log(sum);
    e.forEach((v, c) => {
      probs.push(v / sum);
      dLogits.push((v / sum - (c === labels[r] ? 1 : 0)) / batch);
    });
    if (row.indexOf(max) === labels[r]) correct++;
  });
  return { loss: total / batch, probs, dLogits, correct };
}

function check(logits: number[][], labels: number[], what: string): void {
  const got = runKernels(logits, labels);
  const want = reference(logits, labels);
  // float32 exponentials within an ulp or two, summed and logged in f64: ~1e-7 on ln(sum).
  assertClose([got.loss], [want.loss], 1e-6, 1e-6, `${what}: loss`);
  assertClose(got.probs, want.probs, 1e-6, 1e-5, `${what}: probabilities`);
  assertClose(got.dLogits, want.dLogits, 1e-6, 1e-5, `${what}: dLoss/dlogits`);
  assert.equal(got.correct, want.correct, `${what}: correct count`);
}

const F32_MAX = 3.4028234663852886e38;

describe("softmax cross-entropy at any finite magnitude", () => {
  it("all-equal logits give ln(classes) at every scale (1e16 used to give 0)", () => {
    for (const scale of [0, 1, 1e8, 1e16, -1e16, 1e30, -1e30, 3e38, -3e38, F32_MAX, -F32_MAX, 1e-30, 1e-45]) {
      const logits = [Array(10).fill(scale), Array(10).fill(scale)];
      const got = runKernels(logits, [3, 9]);
      assertClose([got.loss], [Math.log(10)], 1e-6, 1e-6, `all logits ${scale}`);
      check(logits, [3, 9], `all logits ${scale}`);
    }
  });

  it("matches float64 at ±1e30 and ±3e38, max − min beyond float32's range included", () => {
    const cases: Array<[number[][], number[]]> = [
      [[[1e30, -1e30, 0], [-1e30, -1e30, -1e30]], [1, 2]],
      [[[3e38, -3e38, 1, 2, 3, 4, 5, 6, 7, 8]], [1]],
      [[[3e38, -3e38, 1, 2, 3, 4, 5, 6, 7, 8]], [0]],
      [[[-3e38, -3e38, -3e38 * 0.5, -1e30, -1e-30]], [2]],
      [[[F32_MAX, -F32_MAX, F32_MAX, -F32_MAX, 0, 1e-40, -1e-40]], [4]],
      [[[1e30, 1e30 * (1 + 2 ** -22), 1e30, 1e30]], [0]],
      [[[1e16, 1e16, 1e16 + 2e9, 1e16, 1e16, 1e16, 1e16, 1e16, 1e16, 1e16]], [2]],
    ];
    cases.forEach(([logits, labels], i) => check(logits, labels, `case ${i}`));
  });

  it("matches float64 on random rows mixing huge and tiny magnitudes (fast-check)", () => {
    // A logit: a sign, a mantissa and a power of ten anywhere in float32's finite range; a row may
    // also be one value plus small offsets, so near-ties at a huge scale are drawn too.
    const logit = fc.tuple(fc.boolean(), fc.double({ min: 1, max: 9.99, noNaN: true }), fc.integer({ min: -45, max: 38 }))
      .map(([negative, m, e]) => {
        const v = Math.fround((negative ? -1 : 1) * m * 10 ** e);
        return Number.isFinite(v) ? v : (negative ? -F32_MAX : F32_MAX);
      });
    const row = (classes: number) => fc.oneof(
      fc.array(logit, { minLength: classes, maxLength: classes }),
      fc.tuple(logit, fc.array(fc.integer({ min: -3, max: 3 }), { minLength: classes, maxLength: classes }))
        .map(([base, offsets]) => offsets.map((o) => Math.fround(base + o * Math.max(1, Math.abs(base) * 2 ** -22)))),
    );
    const batchArb = fc.integer({ min: 1, max: 13 }).chain((classes) =>
      fc.array(fc.tuple(row(classes), fc.integer({ min: 0, max: classes - 1 })), { minLength: 1, maxLength: 5 }));
    fc.assert(fc.property(batchArb, (rows) => {
      const logits = rows.map(([r]) => r.map((v) => (Number.isFinite(v) ? v : Math.sign(v) * F32_MAX)));
      check(logits, rows.map(([, label]) => label), "random batch");
    }), { numRuns: 400, seed: 20261202 });
  });
});
