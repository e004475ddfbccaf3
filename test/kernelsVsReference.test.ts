// The SIMD kernels against the naive float64 references in src/engine/reference.ts, llm.c's way: the
// same inputs through both, on random shapes that include sizes not a multiple of four (the kernels'
// partial vectors and edge tiles), the sparse first layer on MNIST-like pixels, and the catalogue
// checked against what the kernels were built with.
//
// Tolerances. A float32 dot product of K terms is within (K + 2)·2⁻²⁴·Σ|terms| of the exact one (the
// bound test/gemm.test.ts uses). An activation's value or derivative is within 8 ulp in relative terms
// of the float64 reference, plus an absolute floor where it crosses zero: 1e-7 for values, 1e-6 for
// derivatives (PyTorch's own formulas, 1 − a² and σ·(1 + x·(1 − σ)), cancel in f32; the fixtures allow
// 1e-6 + 1e-5·|b| against PyTorch). A fused epilogue adds those two errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS, activationParam, type ActivationName } from "../src/activations.js";
import { Kernels } from "../src/engine/kernels.js";
import * as reference from "../src/engine/reference.js";
import { Random } from "../src/random.js";

const kernels = new Kernels();
const e = kernels.exports;
const random = Random.fromSeed(8);

const RELATIVE = 8 * 2 ** -24;
const ABSOLUTE_VALUE = 1e-7;
const ABSOLUTE_DERIVATIVE = 1e-6;

/** Sizes the four-lane loops meet: 1 to 3 lanes alone, a partial vector after whole ones, whole ones only. */
const SIZES = [1, 2, 3, 4, 5, 7, 13, 33, 63, 64, 257];

/** count floats in kernel memory, uniform in [−scale, scale]; returns the pointer and the values. */
function filled(count: number, scale = 1): { pointer: number; values: Float32Array } {
  const values = new Float32Array(count);
  random.fillUniform(values, scale);
  const pointer = kernels.allocFloats(count);
  kernels.floats(pointer, count).set(values);
  return { pointer, values };
}

function put(values: Float32Array): number {
  const pointer = kernels.allocFloats(values.length);
  kernels.floats(pointer, values.length).set(values);
  return pointer;
}

function read(pointer: number, count: number): Float32Array {
  return kernels.floats(pointer, count).slice();
}

function absolute(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values, Math.abs);
}

/** |actual − exact| ≤ bound[i] elementwise, naming the first element off. */
function assertWithin(actual: ArrayLike<number>, exact: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  assert.equal(actual.length, exact.length, `${what}: length`);
  for (let i = 0; i < exact.length; i++) {
    const error = Math.abs(actual[i] - exact[i]);
    if (!(error <= bound(i))) assert.fail(`${what}[${i}] = ${actual[i]}, reference ${exact[i]} (bound ${bound(i)})`);
  }
}

/**
 * Random pre-activations in [−6, 6], with 0, ±1, ±20 (softplus's threshold) and the activation's own
 * kinks from the catalogue (relu6's 6, hardswish's ±3, ...) among them.
 */
function preactivations(n: number, name: ActivationName): Float32Array {
  const z = filled(n, 6).values;
  const kinks = [...(ACTIVATIONS[name].reference.kinks ?? []), 0, 1, -1, 20, -20];
  for (let i = 0; i < Math.min(n, kinks.length); i++) z[(i * 7) % n] = kinks[i];
  return z;
}

describe("the catalogue and the kernels name the same activations", () => {
  it("every catalogue entry has a kernel pair and a kind, and every kernel pair has an entry", () => {
    const built = kernels.activationNames();
    const missingKernels = ACTIVATION_NAMES.filter((name) => !built.includes(name));
    const missingEntries = built.filter((name) => !(ACTIVATION_NAMES as readonly string[]).includes(name));
    assert.deepEqual(missingKernels, [], "in src/activations.ts but no <name>Forward4/<name>Backward4 in assembly/activationMath.ts (or the kernels were not rebuilt: npm run build:kernels)");
    assert.deepEqual(missingEntries, [], "a kernel pair in assembly/activationMath.ts has no entry in src/activations.ts");
    for (const name of ACTIVATION_NAMES) {
      assert.equal(typeof kernels.activationForward(name), "function");
      assert.equal(typeof kernels.activationBackward(name), "function");
      assert.ok(kernels.activationKind(name) > 0, `${name}Kind`);
    }
    assert.equal(new Set(ACTIVATION_NAMES.map((name) => kernels.activationKind(name))).size, ACTIVATION_NAMES.length, "kinds are distinct");
  });

  it("an entry's reference is its own: a parameter changes only the activations that have one", () => {
    for (const name of ACTIVATION_NAMES) {
      const { output, der } = ACTIVATIONS[name].reference;
      const changes = [-0.7, -0.2, 0.3].some((x) => output(x, 0.01) !== output(x, 0.3) || der(x, 0.01) !== der(x, 0.3));
      assert.equal(changes, ACTIVATIONS[name].parameter !== undefined, `${name}: parameter ${changes ? "used but not declared" : "declared but unused"}`);
    }
  });
});

/** The kernel pair on z (param p): values A and gradients dZ for a random upstream dA. */
function runActivation(name: ActivationName, z: Float32Array, p: number): { A: Float32Array; dZ: Float32Array; dA: Float32Array } {
  const n = z.length;
  const Z = put(z);
  const A = kernels.allocFloats(n);
  const dA = filled(n, 2);
  const dZ = kernels.allocFloats(n);
  kernels.activationForward(name)(A, Z, n, p);
  kernels.activationBackward(name)(dZ, dA.pointer, Z, A, n, p);
  return { A: read(A, n), dZ: read(dZ, n), dA: dA.values };
}

describe("activation kernels against the catalogue's float64 reference", () => {
  for (const name of ACTIVATION_NAMES) {
    const parameter = ACTIVATIONS[name].parameter;
    // The default, and another value where the activation has a parameter.
    const params = parameter ? [parameter.default, 0.2] : [activationParam(name)];
    it(`${name} forward and backward, n in ${SIZES.join(", ")}`, () => {
      for (const p of params) {
        for (const n of SIZES) {
          const z = preactivations(n, name);
          const { A, dZ, dA } = runActivation(name, z, p);
          const a = reference.activationForward(name, z, p);
          const dz = reference.activationBackward(name, dA, z, p);
          assertWithin(A, a, (i) => RELATIVE * Math.abs(a[i]) + ABSOLUTE_VALUE, `${name}(p = ${p}, n = ${n}) A`);
          assertWithin(dZ, dz, (i) => RELATIVE * Math.abs(dz[i]) + ABSOLUTE_DERIVATIVE * Math.abs(dA[i]), `${name}(p = ${p}, n = ${n}) dZ`);
        }
      }
    });
  }
});

// Layer shapes [batch, in, out]: tiny, every remainder mod 4 and 8, and the notebook's widths.
const DENSE_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [3, 5, 7], [5, 7, 3], [7, 13, 5], [13, 33, 63], [33, 63, 13], [63, 64, 10], [64, 784, 64], [65, 48, 48],
];

describe("denseForward against the reference: Z = X·Wᵀ + b, and the fused A = f(Z)", () => {
  for (const [batch, inSize, outSize] of DENSE_SHAPES) {
    for (const transposed of [false, true]) {
      it(`[${batch}, ${inSize}] → ${outSize}, ${transposed ? "Wᵀ kept (gemmBroadcast)" : "W only (gemmNT)"}, every activation fused`, () => {
        const X = filled(batch * inSize);
        const W = filled(outSize * inSize, 1 / Math.sqrt(inSize));
        const b = filled(outSize, 0.5);
        const Wt = transposed ? kernels.allocFloats(inSize * outSize) : 0;
        if (transposed) e.transpose(Wt, W.pointer, outSize, inSize);
        const exact = reference.denseForward(X.values, W.values, b.values, batch, inSize, outSize);
        const magnitude = reference.denseForward(absolute(X.values), absolute(W.values), absolute(b.values), batch, inSize, outSize);
        const productBound = (i: number) => (inSize + 2) * 2 ** -24 * magnitude[i] + 1e-30;

        // kind 0: the product alone.
        const Z = kernels.allocFloats(batch * outSize);
        e.denseForward(Z, 0, X.pointer, W.pointer, Wt, b.pointer, batch, inSize, outSize, 0, 0);
        assertWithin(read(Z, batch * outSize), exact, productBound, "Z");

        // Fused: A = f(Z) on the Z the kernel computed.
        const A = kernels.allocFloats(batch * outSize);
        for (const name of ACTIVATION_NAMES) {
          const p = activationParam(name);
          e.denseForward(Z, A, X.pointer, W.pointer, Wt, b.pointer, batch, inSize, outSize, kernels.activationKind(name), p);
          const z = read(Z, batch * outSize);
          assertWithin(z, exact, productBound, `Z (${name} fused)`);
          const a = reference.activationForward(name, z, p);
          assertWithin(read(A, batch * outSize), a, (i) => RELATIVE * Math.abs(a[i]) + ABSOLUTE_VALUE, `A = ${name}(Z)`);
        }
      });
    }
  }
});

describe("denseBackward against the reference: dW = dYᵀ·X, db = Σ dY, dX = dY·W, and the fused f'(Zbelow) ⊙ dX", () => {
  for (const [batch, inSize, outSize] of DENSE_SHAPES) {
    it(`[${batch}, ${inSize}] → ${outSize}, the layer below with every activation`, () => {
      const dY = filled(batch * outSize);
      const W = filled(outSize * inSize, 1 / Math.sqrt(inSize));
      for (const name of ACTIVATION_NAMES) checkBackward(name, dY, W, batch, inSize, outSize);
    });
  }
});

/** One layer's backward with `name` below it: the plain gradients, then the fused dZbelow. */
function checkBackward(
  name: ActivationName, dY: { pointer: number; values: Float32Array }, W: { pointer: number; values: Float32Array },
  batch: number, inSize: number, outSize: number,
): void {
  // The layer's input is the activation of the layer below: X = f(Zbelow), computed by the kernel.
  const p = activationParam(name);
  const zBelow = preactivations(batch * inSize, name);
  const Zbelow = put(zBelow);
  const X = kernels.allocFloats(batch * inSize);
  kernels.activationForward(name)(X, Zbelow, batch * inSize, p);
  const x = read(X, batch * inSize);

  const exact = reference.denseBackward(dY.values, x, W.values, batch, inSize, outSize);
  const size = reference.denseBackward(absolute(dY.values), absolute(x), absolute(W.values), batch, inSize, outSize);
  const bound = (magnitude: Float64Array, K: number) => (i: number) => (K + 2) * 2 ** -24 * magnitude[i] + 1e-30;

  const dX = kernels.allocFloats(batch * inSize);
  const dW = kernels.allocFloats(outSize * inSize);
  const db = kernels.allocFloats(outSize);
  e.denseBackward(dX, dW, db, dY.pointer, X, W.pointer, batch, inSize, outSize, 0, 0, 0);
  assertWithin(read(dW, outSize * inSize), exact.dW, bound(size.dW, batch), `dW (${name} below)`);
  assertWithin(read(db, outSize), exact.db, bound(size.db, batch), "db");
  assertWithin(read(dX, batch * inSize), exact.dX, bound(size.dX, outSize), "dX");

  // Fused: dX becomes the lower layer's dZ = f'(Zbelow) ⊙ (dY·W).
  e.denseBackward(dX, dW, db, dY.pointer, X, W.pointer, batch, inSize, outSize, kernels.activationKind(name), Zbelow, p);
  const dZ = reference.activationBackward(name, exact.dX, zBelow, p);
  const slope = reference.activationBackward(name, new Float64Array(zBelow.length).fill(1), zBelow, p);
  const productBound = bound(size.dX, outSize);
  assertWithin(read(dX, batch * inSize), dZ, (i) =>
    Math.abs(slope[i]) * productBound(i) + RELATIVE * Math.abs(dZ[i]) + ABSOLUTE_DERIVATIVE * Math.abs(exact.dX[i]), `dZbelow = ${name}'(Zbelow) ⊙ dX`);

  // The first layer: dX = 0 asks for no input gradient, and the weight gradients are unchanged.
  e.denseBackward(0, dW, db, dY.pointer, X, W.pointer, batch, inSize, outSize, 0, 0, 0);
  assertWithin(read(dW, outSize * inSize), exact.dW, bound(size.dW, batch), "dW (first layer)");
}

// [batch, in pixels, out]: out a multiple of 4 (the sparse kernels' contract; Mlp takes the dense path
// otherwise), every register block of 24 and 32 outputs and its remainder, pixels 1..784.
const SPARSE_SHAPES: Array<[number, number, number]> = [[1, 1, 4], [3, 5, 8], [7, 63, 28], [13, 64, 100], [64, 784, 64], [65, 130, 24]];

describe("the sparse first layer against the reference on the same normalised pixels", () => {
  const table = kernels.allocFloats(512);
  e.pixelTable(table, Math.fround(0.1307), Math.fround(0.3081));
  const normalised = read(table, 256);
  const x0 = normalised[0];

  for (const [batch, inSize, outSize] of SPARSE_SHAPES) {
    it(`[${batch}, ${inSize}] → ${outSize}: sparseForward and sparseWeightGradient`, () => {
      // About four pixels in five are 0, as in MNIST.
      const bytes = Uint8Array.from({ length: batch * inSize }, () => (random.nextFloat() < 0.8 ? 0 : random.nextInt(1, 255)));
      const pixels = kernels.alloc(bytes.length);
      kernels.bytes().set(bytes, pixels);
      const x = Float32Array.from(bytes, (u) => normalised[u]);
      const starts = kernels.alloc(4 * (batch + 1));
      const offsets = kernels.alloc(4 * batch * inSize);
      const values = kernels.allocFloats(batch * inSize);
      e.sparsePixels(offsets, values, starts, pixels, batch, inSize, table, outSize * 4, 0);

      const W = filled(outSize * inSize, 1 / Math.sqrt(inSize));
      const b = filled(outSize, 0.5);
      const Wt = kernels.allocFloats(inSize * outSize);
      e.transpose(Wt, W.pointer, outSize, inSize);
      const rowSums = kernels.allocFloats(outSize);
      e.columnSums(rowSums, Wt, inSize, outSize);
      const Z = kernels.allocFloats(batch * outSize);
      e.sparseForward(Z, starts, offsets, values, Wt, b.pointer, rowSums, x0, batch, outSize);

      // The sparse sum is x0·Σ_k W + Σ_{d ≠ 0} d·W with d = x − x0: its terms are bounded by the dense
      // ones plus 2·|x0|·Σ_k |W|, and it rounds twice more (rowSums, d).
      const exact = reference.denseForward(x, W.values, b.values, batch, inSize, outSize);
      const dense = reference.denseForward(absolute(x), absolute(W.values), absolute(b.values), batch, inSize, outSize);
      const weights = reference.denseForward(new Float64Array(x.length).fill(2 * Math.abs(x0)), absolute(W.values), new Float64Array(outSize), batch, inSize, outSize);
      assertWithin(read(Z, batch * outSize), exact, (i) => (inSize + 4) * 2 ** -24 * (dense[i] + weights[i]) + 1e-30, "Z");

      const dZ = filled(batch * outSize);
      const db = kernels.allocFloats(outSize);
      e.columnSums(db, dZ.pointer, batch, outSize);
      const dWt = kernels.allocFloats(inSize * outSize);
      e.sparseWeightGradient(dWt, starts, offsets, values, dZ.pointer, db, x0, batch, outSize, inSize);
      const dW = kernels.allocFloats(outSize * inSize);
      e.transpose(dW, dWt, inSize, outSize);
      const gradients = reference.denseBackward(dZ.values, x, W.values, batch, inSize, outSize);
      const size = reference.denseBackward(absolute(dZ.values), absolute(x), absolute(W.values), batch, inSize, outSize);
      const extra = reference.denseBackward(absolute(dZ.values), new Float64Array(x.length).fill(2 * Math.abs(x0)), absolute(W.values), batch, inSize, outSize);
      assertWithin(read(dW, outSize * inSize), gradients.dW, (i) => (batch + 4) * 2 ** -24 * (size.dW[i] + extra.dW[i]) + 1e-30, "dW");
      assertWithin(read(db, outSize), gradients.db, (i) => (batch + 2) * 2 ** -24 * size.db[i] + 1e-30, "db");
    });
  }
});
