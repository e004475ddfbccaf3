// The kernels' four-lane math (exp, expm1, log1p, and the activations built on them) against float64,
// measured in units in the last place of the float32 result; and their behaviour where an
// implementation usually breaks: huge or infinite inputs, NaN, subnormal results, partial vectors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS, activationParam, type ActivationName } from "../src/activations.js";
import { Kernels } from "../src/engine/kernels.js";

const kernels = new Kernels();
const CAPACITY = 200_000;
const X = kernels.allocFloats(CAPACITY);
const Y = kernels.allocFloats(CAPACITY);
const Z = kernels.allocFloats(CAPACITY);
const ONES = kernels.allocFloats(CAPACITY);
kernels.floats(ONES, CAPACITY).fill(1);

const MIN_NORMAL = 2 ** -126;

/** The spacing of float32 numbers at |x| (the subnormal spacing below the normal range). */
function ulp(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < MIN_NORMAL) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.fround(lo + ((hi - lo) * i) / (n - 1)));
}

function apply(run: (out: number, x: number, n: number) => void, x: Float32Array): Float32Array {
  kernels.floats(X, x.length).set(x);
  run(Y, X, x.length);
  return kernels.floats(Y, x.length).slice();
}

/** Largest error in ulps of the exact result; a result the exact value overflows must match exactly. */
function worstUlps(x: Float32Array, y: Float32Array, exact: (x: number) => number): { ulps: number; at: number } {
  let worst = { ulps: 0, at: NaN };
  for (let i = 0; i < x.length; i++) {
    const r = exact(x[i]);
    if (!Number.isFinite(Math.fround(r))) {
      assert.equal(y[i], Math.fround(r), `at ${x[i]}`);
      continue;
    }
    const ulps = Math.abs(y[i] - r) / ulp(r);
    if (ulps > worst.ulps) worst = { ulps, at: x[i] };
  }
  return worst;
}

describe("exp, expm1 and log1p on four lanes", () => {
  const e = kernels.exports;
  it("exp is within 1 ulp from the subnormals to overflow", () => {
    for (const [lo, hi] of [[-104, 89], [-1, 1], [-1e-4, 1e-4]]) {
      const x = grid(lo, hi, CAPACITY);
      const { ulps, at } = worstUlps(x, apply(e.expElementwise, x), Math.exp);
      assert.ok(ulps <= 1, `exp on [${lo}, ${hi}]: ${ulps} ulp at ${at}`);
    }
  });

  it("exp handles the ends of the range and NaN", () => {
    const x = Float32Array.from([Infinity, -Infinity, NaN, 88.7, 88.73, 89, 1e30, -103, -104, -1e30, 0, -0]);
    const y = apply(e.expElementwise, x);
    assert.deepEqual(Array.from(y.subarray(0, 3)), [Infinity, 0, NaN]);
    assert.ok(Number.isFinite(y[3]) && y[3] > 3e38, `exp(88.7) = ${y[3]}`);
    assert.deepEqual(Array.from(y.subarray(4, 7)), [Infinity, Infinity, Infinity]);
    assert.ok(y[7] > 0 && y[7] < MIN_NORMAL, `exp(−103) is subnormal, got ${y[7]}`);
    assert.deepEqual(Array.from(y.subarray(8)), [0, 0, 1, 1]);
  });

  it("expm1 is within 2 ulp, keeping relative accuracy near 0", () => {
    for (const [lo, hi] of [[-40, 89], [-1, 1], [-1e-3, 1e-3], [-1e-30, 1e-30]]) {
      const x = grid(lo, hi, CAPACITY);
      const { ulps, at } = worstUlps(x, apply(e.expm1Elementwise, x), Math.expm1);
      assert.ok(ulps <= 2, `expm1 on [${lo}, ${hi}]: ${ulps} ulp at ${at}`);
    }
    const y = apply(e.expm1Elementwise, Float32Array.from([Infinity, -Infinity, NaN, -0]));
    assert.deepEqual(Array.from(y), [Infinity, -1, NaN, -0]);
  });

  it("log1p is within 2 ulp on [0, 1]", () => {
    for (const [lo, hi] of [[0, 1], [0, 1e-4], [0, 1e-30]]) {
      const x = grid(lo, hi, CAPACITY);
      const { ulps, at } = worstUlps(x, apply(e.log1pElementwise, x), Math.log1p);
      assert.ok(ulps <= 2, `log1p on [${lo}, ${hi}]: ${ulps} ulp at ${at}`);
    }
  });
});

// float64 values and derivatives: the catalogue's scalar reference, with each activation's default
// parameter (leaky_relu's slope), over the window the catalogue gives for it.
// The fixtures allow 1e-6 + 1e-5·|b| against PyTorch; on its own the math holds a few ulp in relative
// terms, with an absolute floor for values that cross zero. Derivatives get the fixtures' absolute
// 1e-6: PyTorch's formulas (1 − a², σ·(1 + x·(1 − σ))) cancel in f32 where a or σ is near 1.
const RELATIVE = 8 * 2 ** -24;
const ABSOLUTE = 1e-7;
const ABSOLUTE_DERIVATIVE = 1e-6;

function curve(name: ActivationName, x: Float32Array): { y: Float32Array; dydx: Float32Array } {
  const n = x.length;
  kernels.floats(Z, n).set(x);
  kernels.activationForward(name)(Y, Z, n, activationParam(name));
  kernels.activationBackward(name)(X, ONES, Z, Y, n, activationParam(name));
  return { y: kernels.floats(Y, n).slice(), dydx: kernels.floats(X, n).slice() };
}

describe("activations on four lanes against float64", () => {
  for (const name of ACTIVATION_NAMES) {
    it(name, () => {
      const { output, der, window: range } = ACTIVATIONS[name].reference;
      const p = activationParam(name);
      // Avoid the kinks themselves, where the derivative is a convention (the fixtures check those).
      const x = grid(range[0], range[1], 20_001).filter((v) => v !== 0 && Math.abs(v) !== 1);
      const { y, dydx } = curve(name, x);
      for (let i = 0; i < x.length; i++) {
        const [value, slope] = [output(x[i], p), der(x[i], p)];
        assert.ok(Math.abs(y[i] - value) <= RELATIVE * Math.abs(value) + ABSOLUTE, `${name}(${x[i]}) = ${y[i]}, exact ${value}`);
        assert.ok(Math.abs(dydx[i] - slope) <= RELATIVE * Math.abs(slope) + ABSOLUTE_DERIVATIVE, `${name}'(${x[i]}) = ${dydx[i]}, exact ${slope}`);
      }
    });
  }

  it("no finite input gives NaN, and the limits are right", () => {
    const big = [3e38, 1e30, 1e10, 100, 88.8, 88.7, 20.5, 20, 10, 9];
    const x = Float32Array.from([...big, ...big.map((v) => -v)]);
    for (const name of ACTIVATION_NAMES) {
      const { y, dydx } = curve(name, x);
      y.forEach((v, i) => assert.ok(!Number.isNaN(v), `${name}(${x[i]}) is NaN`));
      dydx.forEach((v, i) => assert.ok(!Number.isNaN(v), `${name}'(${x[i]}) is NaN`));
    }
    const limits = curve("tanh", Float32Array.from([1e30, -1e30, 9.1, -9.1])).y;
    assert.deepEqual(Array.from(limits), [1, -1, 1, -1]);
    // 1/(1 + e^−x) in f32, as PyTorch computes it: e^100 overflows and the quotient is 0.
    const sig = curve("sigmoid", Float32Array.from([1e30, -1e30, 17, -100, -80])).y;
    assert.deepEqual(Array.from(sig.subarray(0, 4)), [1, 0, 1, 0]);
    assert.ok(Math.abs(sig[4] - Math.exp(-80)) < 1e-6 * Math.exp(-80), `sigmoid(−80) = ${sig[4]}`);
  });

  it("NaN passes through every forward", () => {
    for (const name of ACTIVATION_NAMES) {
      const { y } = curve(name, Float32Array.from([NaN, 1, NaN, -1, NaN]));
      assert.ok(Number.isNaN(y[0]) && Number.isNaN(y[2]) && Number.isNaN(y[4]), `${name}(NaN)`);
    }
  });

  it("a value does not depend on its position in the buffer (partial vectors)", () => {
    const x = grid(-6, 6, 4001);
    for (const name of ACTIVATION_NAMES) {
      const whole = curve(name, x);
      const shifted = curve(name, x.subarray(3));
      assert.deepEqual(shifted.y, whole.y.subarray(3), `${name} values`);
      assert.deepEqual(shifted.dydx, whole.dydx.subarray(3), `${name} derivatives`);
    }
  });
});
