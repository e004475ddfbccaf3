// The activations on four lanes: one forward/backward pair each, and nothing else. This file is the
// kernels' list of activations: `npm run build:kernels` runs scripts/activationKernels.mjs, which
// finds every pair here and writes assembly/generated/ (the kind numbers, the
// dispatch by kind, and one specialised loop per activation). A pair is exported as
//   <name>Forward4(z, p): v128          f(z), p the activation's parameter (see the catalogue)
//   <name>Backward4(dA, z, a, p): v128  f'(z)·dA, from z or a = f(z), whichever is cheaper
// with <name> exactly as in the catalogue (src/activations.ts); kinds follow the order of the file.
// Every pair takes every argument, used or not: inlined, the unused ones cost nothing.
//
// Backward pairs compute f'(z)·dA from whichever of z and a = f(z) is cheaper. Derivatives at kinks
// follow PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = selu'(0)/scale = alpha
// (the x ≤ 0 branch), hardtanh'(±1) = 0. Where PyTorch's kernel has a formula for the derivative,
// the same formula is used here.
import { abs4, exp4, expm1_4, log1pNonNegative4, madd, sigmoid4, tanh4 } from "./vmath";

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;
const SOFTPLUS_THRESHOLD: f32 = 20;
const INV_SQRT2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

// @ts-ignore: decorator
@inline function one(): v128 { return f32x4.splat(1); }
// @ts-ignore: decorator
@inline function zero(): v128 { return f32x4.splat(0); }

// sigmoid ------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function sigmoidForward4(z: v128, p: f32): v128 { return sigmoid4(z); }
// @ts-ignore: decorator
@inline export function sigmoidBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return f32x4.mul(dA, f32x4.mul(f32x4.sub(one(), a), a));
}

// tanh ---------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function tanhForward4(z: v128, p: f32): v128 { return tanh4(z); }
// @ts-ignore: decorator
@inline export function tanhBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return f32x4.mul(dA, f32x4.sub(one(), f32x4.mul(a, a)));
}

// relu ---------------------------------------------------------------------------------------
// select, not max: max(NaN, 0) would hide a NaN that PyTorch's relu passes on.
// @ts-ignore: decorator
@inline export function reluForward4(z: v128, p: f32): v128 { return v128.bitselect(zero(), z, f32x4.lt(z, zero())); }
// @ts-ignore: decorator
@inline export function reluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 { return v128.and(dA, f32x4.gt(z, zero())); }

// leaky_relu ---------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function leaky_reluForward4(z: v128, slope: f32): v128 {
  return v128.bitselect(z, f32x4.mul(z, f32x4.splat(slope)), f32x4.gt(z, zero()));
}
// @ts-ignore: decorator
@inline export function leaky_reluBackward4(dA: v128, z: v128, a: v128, slope: f32): v128 {
  return v128.bitselect(dA, f32x4.mul(dA, f32x4.splat(slope)), f32x4.gt(z, zero()));
}

// elu (alpha 1) ------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function eluForward4(z: v128, p: f32): v128 { return v128.bitselect(z, expm1_4(z), f32x4.gt(z, zero())); }
// @ts-ignore: decorator
@inline export function eluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return v128.bitselect(dA, f32x4.mul(dA, exp4(z)), f32x4.gt(z, zero()));
}

// selu ---------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function seluForward4(z: v128, p: f32): v128 {
  const negative = f32x4.mul(f32x4.splat(SELU_ALPHA), expm1_4(z));
  return f32x4.mul(f32x4.splat(SELU_SCALE), v128.bitselect(z, negative, f32x4.gt(z, zero())));
}
// @ts-ignore: decorator
@inline export function seluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const negative = f32x4.mul(f32x4.mul(dA, f32x4.splat(SELU_SCALE * SELU_ALPHA)), exp4(z));
  return v128.bitselect(f32x4.mul(dA, f32x4.splat(SELU_SCALE)), negative, f32x4.gt(z, zero()));
}

// gelu (exact, erf form) ---------------------------------------------------------------------
/**
 * The standard normal CDF Φ(z) = ½·erfc(−z/√2), accurate in relative terms in both tails: erfc by
 * Numerical Recipes' Chebyshev fit (relative error below 1.2e-7), t·exp(−x² − 1.26551223 + t·P(t))
 * with t = 1/(1 + x/2), x = |z|/√2; for z ≥ 0 it is 1 − ½·erfc.
 */
// @ts-ignore: decorator
@inline function normalCdf4(z: v128): v128 {
  const x = f32x4.mul(abs4(z), f32x4.splat(INV_SQRT2));
  const t = f32x4.div(one(), madd(x, f32x4.splat(0.5), one()));
  let p = f32x4.splat(0.17087277);
  p = madd(p, t, f32x4.splat(-0.82215223));
  p = madd(p, t, f32x4.splat(1.48851587));
  p = madd(p, t, f32x4.splat(-1.13520398));
  p = madd(p, t, f32x4.splat(0.27886807));
  p = madd(p, t, f32x4.splat(-0.18628806));
  p = madd(p, t, f32x4.splat(0.09678418));
  p = madd(p, t, f32x4.splat(0.37409196));
  p = madd(p, t, f32x4.splat(1.00002368));
  const exponent = madd(t, p, f32x4.sub(f32x4.splat(-1.26551223), f32x4.mul(x, x)));
  const tail = f32x4.mul(f32x4.mul(f32x4.splat(0.5), t), exp4(exponent));
  return v128.bitselect(tail, f32x4.sub(one(), tail), f32x4.lt(z, zero()));
}
// @ts-ignore: decorator
@inline export function geluForward4(z: v128, p: f32): v128 { return f32x4.mul(z, normalCdf4(z)); }
// @ts-ignore: decorator
@inline export function geluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  // Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
  const density = f32x4.mul(f32x4.splat(INV_SQRT_2PI), exp4(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(z, z))));
  return f32x4.mul(dA, madd(z, density, normalCdf4(z)));
}

// silu ---------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function siluForward4(z: v128, p: f32): v128 { return f32x4.mul(z, sigmoid4(z)); }
// @ts-ignore: decorator
@inline export function siluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const s = sigmoid4(z);
  return f32x4.mul(dA, f32x4.mul(s, madd(z, f32x4.sub(one(), s), one())));
}

// softplus (beta 1, threshold 20) ------------------------------------------------------------
// log(1 + e^z) as max(z, 0) + log1p(e^−|z|): the same value, with e^−|z| ≤ 1 so nothing overflows.
// @ts-ignore: decorator
@inline export function softplusForward4(z: v128, p: f32): v128 {
  const smooth = f32x4.add(f32x4.pmax(z, zero()), log1pNonNegative4(exp4(f32x4.neg(abs4(z)))));
  return v128.bitselect(z, smooth, f32x4.gt(z, f32x4.splat(SOFTPLUS_THRESHOLD)));
}
// @ts-ignore: decorator
@inline export function softplusBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  // PyTorch: e = exp(z), dA·e/(e + 1) up to the threshold, dA above it.
  const e = exp4(f32x4.pmin(z, f32x4.splat(SOFTPLUS_THRESHOLD)));
  const smooth = f32x4.div(f32x4.mul(dA, e), f32x4.add(e, one()));
  return v128.bitselect(dA, smooth, f32x4.gt(z, f32x4.splat(SOFTPLUS_THRESHOLD)));
}

// mish ---------------------------------------------------------------------------------------
/**
 * tanh(softplus(z)) without a log or a tanh: with w = e^z, tanh(ln(1 + w)) = n/(n + 2), n = w(w + 2).
 * z is capped at 20 (where the value is 1 in f32) so that n stays finite.
 */
// @ts-ignore: decorator
@inline function tanhSoftplus4(w: v128): v128 {
  const n = f32x4.mul(w, f32x4.add(w, f32x4.splat(2)));
  return f32x4.div(n, f32x4.add(n, f32x4.splat(2)));
}
// @ts-ignore: decorator
@inline export function mishForward4(z: v128, p: f32): v128 {
  return f32x4.mul(z, tanhSoftplus4(exp4(f32x4.pmin(z, f32x4.splat(20))))); }
// @ts-ignore: decorator
@inline export function mishBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  // PyTorch: t + z·σ(z)·(1 − t²), t = tanh(softplus(z)); σ(z) = w/(w + 1) from the same w.
  const w = exp4(f32x4.pmin(z, f32x4.splat(20)));
  const t = tanhSoftplus4(w);
  const s = f32x4.div(w, f32x4.add(w, one()));
  return f32x4.mul(dA, madd(f32x4.mul(z, s), f32x4.sub(one(), f32x4.mul(t, t)), t));
}

// hardtanh (min −1, max 1) -------------------------------------------------------------------
// Comparisons, not min/max, so that a NaN passes through as in PyTorch.
// @ts-ignore: decorator
@inline export function hardtanhForward4(z: v128, p: f32): v128 {
  const clipped = v128.bitselect(f32x4.splat(-1), z, f32x4.lt(z, f32x4.splat(-1)));
  return v128.bitselect(one(), clipped, f32x4.gt(z, one()));
}
// @ts-ignore: decorator
@inline export function hardtanhBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const inside = v128.and(f32x4.gt(z, f32x4.splat(-1)), f32x4.lt(z, one()));
  const nan = f32x4.ne(z, z);
  return v128.and(dA, v128.or(inside, nan));
}

// softsign -----------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function softsignForward4(z: v128, p: f32): v128 { return f32x4.div(z, f32x4.add(one(), abs4(z))); }
// @ts-ignore: decorator
@inline export function softsignBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const q = f32x4.add(one(), abs4(z));
  return f32x4.div(dA, f32x4.mul(q, q));
}
