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
// (the x ≤ 0 branch), hardtanh'(±1) = 0, celu'(0) = 1, relu6'(0) = relu6'(6) = 0,
// hardsigmoid'(±3) = 0, hardswish'(−3) = −0.5 and hardswish'(3) = 1 (its vectorised kernel's
// x ≥ 3 branch), softshrink'(±λ) = hardshrink'(±λ) = 0, rrelu'(0) = 11/48 (eval mode). Where
// PyTorch's kernel has a formula for the derivative, the same formula is used here.
import { abs4, exp4, expm1_4, log1pNonNegative4, madd, sigmoid4, sinQuadrant4, tanh4 } from "./vmath";

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;
const SOFTPLUS_THRESHOLD: f32 = 20;
const INV_SQRT2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
/** nn.CELU's alpha, nn.Softshrink's and nn.Hardshrink's lambd: PyTorch's defaults, fixed. */
const CELU_ALPHA: f32 = 1;
const SHRINK_LAMBDA: f32 = 0.5;
/** 1/6 rounded to f32, as PyTorch's hardsigmoid_backward has it (for float64 too). */
const ONE_SIXTH: f32 = 1.0 / 6.0;

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

// celu (alpha 1) -----------------------------------------------------------------------------
// max(0, z) + min(0, α·(e^(z/α) − 1)); PyTorch runs it as elu with input scale 1/α, so celu'(0) = 1.
// @ts-ignore: decorator
@inline export function celuForward4(z: v128, p: f32): v128 {
  const negative = f32x4.mul(f32x4.splat(CELU_ALPHA), expm1_4(f32x4.mul(z, f32x4.splat(1 / CELU_ALPHA))));
  return v128.bitselect(z, negative, f32x4.gt(z, zero()));
}
// @ts-ignore: decorator
@inline export function celuBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return v128.bitselect(dA, f32x4.mul(dA, exp4(f32x4.mul(z, f32x4.splat(1 / CELU_ALPHA)))), f32x4.gt(z, zero()));
}

// relu6 --------------------------------------------------------------------------------------
// PyTorch's relu6 is hardtanh(z, 0, 6): the gradient passes strictly inside (0, 6), and for NaN.
// @ts-ignore: decorator
@inline export function relu6Forward4(z: v128, p: f32): v128 {
  const six = f32x4.splat(6);
  return v128.bitselect(six, v128.bitselect(zero(), z, f32x4.lt(z, zero())), f32x4.gt(z, six));
}
// @ts-ignore: decorator
@inline export function relu6Backward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const inside = v128.and(f32x4.gt(z, zero()), f32x4.lt(z, f32x4.splat(6)));
  return v128.and(dA, v128.or(inside, f32x4.ne(z, z)));
}

// hardsigmoid --------------------------------------------------------------------------------
// min(max(z + 3, 0), 6)/6 by comparisons (NaN passes); f' = 1/6 strictly inside (−3, 3), else 0
// (NaN included, as PyTorch's hardsigmoid_backward gives).
// @ts-ignore: decorator
@inline function clamp0to6(t: v128): v128 {
  const six = f32x4.splat(6);
  return v128.bitselect(six, v128.bitselect(zero(), t, f32x4.lt(t, zero())), f32x4.gt(t, six));
}
// @ts-ignore: decorator
@inline export function hardsigmoidForward4(z: v128, p: f32): v128 {
  return f32x4.mul(clamp0to6(f32x4.add(z, f32x4.splat(3))), f32x4.splat(ONE_SIXTH));
}
// @ts-ignore: decorator
@inline export function hardsigmoidBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const inside = v128.and(f32x4.gt(z, f32x4.splat(-3)), f32x4.lt(z, f32x4.splat(3)));
  return v128.and(f32x4.mul(dA, f32x4.splat(ONE_SIXTH)), inside);
}

// hardswish ----------------------------------------------------------------------------------
// z·min(max(z + 3, 0), 6)/6; f' = 0 below −3, z/3 + ½ on [−3, 3), 1 from 3 on, as PyTorch's
// vectorised hardswish_backward (every tensor but a short tail) has it. Its scalar path, which a
// tensor of under 16 floats takes, gives 1.5 at exactly 3: PyTorch disagrees with itself there.
// @ts-ignore: decorator
@inline export function hardswishForward4(z: v128, p: f32): v128 {
  return f32x4.mul(f32x4.mul(z, clamp0to6(f32x4.add(z, f32x4.splat(3)))), f32x4.splat(ONE_SIXTH));
}
// @ts-ignore: decorator
@inline export function hardswishBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const middle = f32x4.mul(dA, madd(z, f32x4.splat(1.0 / 3.0), f32x4.splat(0.5)));
  const upper = v128.bitselect(dA, middle, f32x4.ge(z, f32x4.splat(3)));
  return v128.andnot(upper, f32x4.lt(z, f32x4.splat(-3)));
}

// logsigmoid ---------------------------------------------------------------------------------
// log σ(z) = min(z, 0) − log1p(e^−|z|): nothing overflows, and both tails keep their accuracy.
// f' = σ(−z) = 1 − σ(z), PyTorch's log_sigmoid_backward in one expression.
// @ts-ignore: decorator
@inline export function logsigmoidForward4(z: v128, p: f32): v128 {
  return f32x4.sub(f32x4.pmin(z, zero()), log1pNonNegative4(exp4(f32x4.neg(abs4(z)))));
}
// @ts-ignore: decorator
@inline export function logsigmoidBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return f32x4.mul(dA, sigmoid4(f32x4.neg(z)));
}

// tanhshrink ---------------------------------------------------------------------------------
// z − tanh(z); f' = tanh²(z) (PyTorch's autograd of input − input.tanh() gives 1 − (1 − t²)).
// @ts-ignore: decorator
@inline export function tanhshrinkForward4(z: v128, p: f32): v128 { return f32x4.sub(z, tanh4(z)); }
// @ts-ignore: decorator
@inline export function tanhshrinkBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  const t = tanh4(z);
  return f32x4.mul(dA, f32x4.mul(t, t));
}

// softshrink (lambd 0.5) ---------------------------------------------------------------------
// z − λ above λ, z + λ below −λ, 0 between; f' = 0 on [−λ, λ] (the ends included), 1 outside and
// for NaN. NaN passes through the forward (PyTorch 1.13's CPU kernel returns 0 for it; a NaN that
// disappears would hide a diverged run).
// @ts-ignore: decorator
@inline function shrinkInside(z: v128): v128 {
  return v128.and(f32x4.ge(z, f32x4.splat(-SHRINK_LAMBDA)), f32x4.le(z, f32x4.splat(SHRINK_LAMBDA)));
}
// @ts-ignore: decorator
@inline export function softshrinkForward4(z: v128, p: f32): v128 {
  const lambda = f32x4.splat(SHRINK_LAMBDA);
  const shifted = v128.bitselect(f32x4.sub(z, lambda), f32x4.add(z, lambda), f32x4.gt(z, lambda));
  return v128.andnot(shifted, shrinkInside(z));
}
// @ts-ignore: decorator
@inline export function softshrinkBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return v128.andnot(dA, shrinkInside(z));
}

// hardshrink (lambd 0.5) ---------------------------------------------------------------------
// z outside [−λ, λ], 0 inside (the ends included); f' the same mask. NaN passes through.
// @ts-ignore: decorator
@inline export function hardshrinkForward4(z: v128, p: f32): v128 { return v128.andnot(z, shrinkInside(z)); }
// @ts-ignore: decorator
@inline export function hardshrinkBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  return v128.andnot(dA, shrinkInside(z));
}

// sin (SIREN's periodic activation) ----------------------------------------------------------
// @ts-ignore: decorator
@inline export function sinForward4(z: v128, p: f32): v128 { return sinQuadrant4(z, 0); }
// @ts-ignore: decorator
@inline export function sinBackward4(dA: v128, z: v128, a: v128, p: f32): v128 { return f32x4.mul(dA, sinQuadrant4(z, 1)); }

// gaussian -----------------------------------------------------------------------------------
// e^(−z²); f' = −2z·e^(−z²), from a. (z = ±inf gives NaN for f', as autograd's inf·0 does.)
// @ts-ignore: decorator
@inline export function gaussianForward4(z: v128, p: f32): v128 { return exp4(f32x4.neg(f32x4.mul(z, z))); }
// @ts-ignore: decorator
@inline export function gaussianBackward4(dA: v128, z: v128, a: v128, p: f32): v128 {
  // (dA·a)·z first, as autograd does: a = 0 then makes a finite z of any size give 0, not inf·0.
  return f32x4.mul(f32x4.mul(f32x4.mul(dA, a), z), f32x4.splat(-2));
}

// prelu (nn.PReLU(): one learned slope per layer, initially 0.25) ---------------------------------
// The pair is leaky_relu's with p the layer's slope; prelu'(0) = slope, as PyTorch's x > 0 test
// gives. The slope's own gradient, Σ dA·z over z ≤ 0, is preluSlopeBackward in activations.ts.
// @ts-ignore: decorator
@inline export function preluForward4(z: v128, slope: f32): v128 { return leaky_reluForward4(z, slope); }
// @ts-ignore: decorator
@inline export function preluBackward4(dA: v128, z: v128, a: v128, slope: f32): v128 { return leaky_reluBackward4(dA, z, a, slope); }

// rrelu (nn.RReLU(lower=1/8, upper=1/3)) ----------------------------------------------------------
// This pair is eval mode's: a leaky relu with the mean slope (lower + upper)/2 = 11/48, computed in
// double and rounded to f32 as PyTorch's leaky_relu takes it; rrelu'(0) = 11/48 (the x ≤ 0 branch).
// In training the slope of each element with z ≤ 0 is drawn from U(lower, upper) instead: the
// engine then calls rreluDrawSlopes and rreluWithSlopesForward/Backward (activations.ts), which
// read these bounds.
export const RRELU_LOWER: f32 = 1.0 / 8.0;
export const RRELU_UPPER: f32 = 1.0 / 3.0;
const RRELU_EVAL_SLOPE: f32 = <f32>((1.0 / 8.0 + 1.0 / 3.0) / 2.0);
// @ts-ignore: decorator
@inline export function rreluForward4(z: v128, p: f32): v128 { return leaky_reluForward4(z, RRELU_EVAL_SLOPE); }
// @ts-ignore: decorator
@inline export function rreluBackward4(dA: v128, z: v128, a: v128, p: f32): v128 { return leaky_reluBackward4(dA, z, a, RRELU_EVAL_SLOPE); }
