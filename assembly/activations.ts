// The activation kernels the module exports. The pairs themselves live in activationMath.ts, on four
// lanes; everything per activation around them (kinds, dispatch by kind, one specialised loop per
// activation) is generated from that file into generated/ (activationKinds.ts, activationKernels.ts) by
// `npm run build:kernels` (scripts/activationKernels.mjs). gemm.ts and dense.ts import the dispatch
// by kind from here for their fused epilogues.
//
// Every pair has the same signature so the engine can call any of them by name:
//   <name>Forward(A, Z, n, param)          A = f(Z)
//   <name>Backward(dZ, dA, Z, A, n, param) dZ = f'(Z) ⊙ dA
// param is the activation's parameter (leaky_relu's negative slope); the others ignore it. dZ may alias dA.
import { RRELU_LOWER, RRELU_UPPER } from "./activationMath";
import { loadLanes, loadUpTo4, storeLanes, storeUpTo4 } from "./lanes";
import { exp4, expm1_4, log1pNonNegative4 } from "./vmath";

export * from "./generated/activationKernels";

// Probes for the tests of the vector math (test/vectorMath.test.ts).
export function expElementwise(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) storeLanes(out + (<usize>i << 2), exp4(loadLanes(x + (<usize>i << 2), min(4, n - i))), min(4, n - i));
}
export function expm1Elementwise(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) storeLanes(out + (<usize>i << 2), expm1_4(loadLanes(x + (<usize>i << 2), min(4, n - i))), min(4, n - i));
}
export function log1pElementwise(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) storeLanes(out + (<usize>i << 2), log1pNonNegative4(loadLanes(x + (<usize>i << 2), min(4, n - i))), min(4, n - i));
}

// PReLU's learned slope lives in the parameter block; these read it from there, so the engine hands
// over a pointer and never copies the slope out of memory.

/** A = prelu(Z) over n floats with the slope at slopePtr (nn.PReLU's weight, shape [1]). */
export function preluWithSlopeForward(A: usize, Z: usize, n: i32, slopePtr: usize): void {
  preluForward(A, Z, n, load<f32>(slopePtr));
}

/**
 * PReLU's backward: dZ = prelu'(Z) ⊙ dA (dZ may alias dA), and the slope's gradient
 * dSlope = Σ dA·z over the z ≤ 0 (PyTorch: z > 0 ? 0 : z·dA), written (not added) at dSlopePtr.
 * Four f32 partial sums, added in a fixed order: the result does not depend on anything but n.
 */
export function preluWithSlopeBackward(dZ: usize, dSlopePtr: usize, dA: usize, Z: usize, n: i32, slopePtr: usize): void {
  let sum = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(Z + o);
    sum = f32x4.add(sum, v128.andnot(f32x4.mul(v128.load(dA + o), z), f32x4.gt(z, f32x4.splat(0))));
  }
  let total: f64 = <f64>f32x4.extract_lane(sum, 0) + <f64>f32x4.extract_lane(sum, 1) + <f64>f32x4.extract_lane(sum, 2) + <f64>f32x4.extract_lane(sum, 3);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const z = load<f32>(Z + o);
    if (!(z > 0)) total += <f64>(load<f32>(dA + o) * z);
  }
  // The slope's gradient first: dZ may alias dA, which the sum reads.
  store<f32>(dSlopePtr, <f32>total);
  preluBackward(dZ, dA, Z, Z, n, load<f32>(slopePtr));
}

// rrelu in training (nn.RReLU): every element with z ≤ 0 gets a slope of its own, drawn from
// U(RRELU_LOWER, RRELU_UPPER) at every training forward pass, and the backward multiplies by the
// same slopes. The engine keeps them in a buffer per layer (slopes [batch, width], one per
// element: those of z > 0 are drawn too and go unused, as PyTorch's noise holds 1 there).

/** Wellons' lowbias32: a bijection of 32 bits in which every output bit depends on every input bit. */
// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

/** mix32 on four lanes. */
// @ts-ignore: decorator
@inline function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/**
 * slopes[i] for i < n: the slope of element i (row-major in [batch, width]) of hidden layer `layer`
 * at training step `step` of a run whose noise seed is `seed`, uniform on [RRELU_LOWER, RRELU_UPPER).
 * Counter-based: a slope is a hash of (seed, step, layer, i) and of nothing else, so there is no
 * generator state to save, resume or share between workers, and a run draws the same slopes however
 * it is split up. Two chains of mix32 over (seed, step, layer) give a start k and an odd stride m
 * (each link a bijection: for one seed and layer, no two steps share a start); element i is
 * h = mix32(k + i·m), a Weyl sequence through the mixer as in SplitMix: one round of the mixer per
 * slope (a second round doubled the draw's cost, which is most of rrelu's cost in a step). Its top
 * 24 bits u give lower + u·(upper − lower)·2⁻²⁴ in f32, a multiply then an add (no fused
 * multiply-add, so every build draws the same bits), which stays below upper for every u.
 */
export function rreluDrawSlopes(slopes: usize, n: i32, seed: u32, step: u32, layer: u32): void {
  const start = mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ step) ^ layer);
  const stride = mix32(mix32(mix32(seed ^ 0x85ebca6b) + step) + layer) | 1;
  // upper − lower is exact in f32, and so is its product with 2⁻²⁴.
  const scale = f32x4.splat((RRELU_UPPER - RRELU_LOWER) * <f32>5.9604644775390625e-8);
  const lower = f32x4.splat(RRELU_LOWER);
  let counter = i32x4.add(i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(stride)), i32x4.splat(start));
  const advance = i32x4.splat(stride << 2);
  for (let i = 0; i < n; i += 4) {
    const h = mix32x4(counter);
    // u < 2²⁴ converts exactly either way; the signed conversion is one x86 instruction, the unsigned several.
    const r = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h, 8)), scale), lower);
    storeUpTo4(slopes + (<usize>i << 2), r, min(4, n - i));
    counter = i32x4.add(counter, advance);
  }
}

/** A = Z where Z > 0, else Z·slope, elementwise (PyTorch's rrelu_with_noise in training: input ≤ 0 takes the noise). */
export function rreluWithSlopesForward(A: usize, Z: usize, slopes: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const count = min(4, n - i);
    const z = loadUpTo4(Z + o, count);
    storeUpTo4(A + o, v128.bitselect(z, f32x4.mul(z, loadUpTo4(slopes + o, count)), f32x4.gt(z, f32x4.splat(0))), count);
  }
}

/** dZ = dA where Z > 0, else dA·slope (PyTorch: grad · noise); dZ may alias dA. */
export function rreluWithSlopesBackward(dZ: usize, dA: usize, Z: usize, slopes: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const count = min(4, n - i);
    const g = loadUpTo4(dA + o, count);
    storeUpTo4(dZ + o, v128.bitselect(g, f32x4.mul(g, loadUpTo4(slopes + o, count)), f32x4.gt(loadUpTo4(Z + o, count), f32x4.splat(0))), count);
  }
}
