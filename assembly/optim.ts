// The optimisers' update kernels, PyTorch 1.13's _single_tensor_* rules in float32. Every block is
// [n] floats in the parameter layout's order: params p, gradients g and the optimiser's state. Each
// kernel is one four-lane update applied to every group of four, the last n mod 4 through partial
// vectors (lanes.ts), so an element's result never depends on where it sits. Which optimiser passes
// what is src/optim.ts's table; the float64 references are in src/engine/reference.ts.
import { loadUpTo4, storeUpTo4 } from "./lanes";

// SGD, torch.optim.SGD(lr, momentum, dampening=0, weight_decay, nesterov):
//   g ← g + λ·p (when λ ≠ 0);  v ← μ·v + g;  d ← nesterov ? g + μ·v : v;  p ← p − lr·d.
// PyTorch sets v = g on the first step, which μ·0 + g reproduces exactly; with λ = 0 and no Nesterov
// these are the operations, in the order, of the kernel this one replaced (bit-identical runs).
// @ts-ignore: decorator
@inline function sgdLanes(params: usize, grads: usize, velocity: usize, o: usize, count: i32, rate: v128, mu: v128, decay: v128, useDecay: bool, nesterov: bool): void {
  const p = loadUpTo4(params + o, count);
  let g = loadUpTo4(grads + o, count);
  if (useDecay) g = f32x4.add(g, f32x4.mul(decay, p));
  const v = f32x4.add(f32x4.mul(mu, loadUpTo4(velocity + o, count)), g);
  const d = nesterov ? f32x4.add(g, f32x4.mul(mu, v)) : v;
  const next = f32x4.sub(p, f32x4.mul(rate, d));
  storeUpTo4(velocity + o, v, count);
  storeUpTo4(params + o, next, count);
}

/** params, grads, velocity: [n]. nesterov: 0 or 1. */
export function sgdStep(params: usize, grads: usize, velocity: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32, nesterov: i32): void {
  const rate = f32x4.splat(lr);
  const mu = f32x4.splat(momentum);
  const decay = f32x4.splat(weightDecay);
  const useDecay = weightDecay != 0;
  const useNesterov = nesterov != 0;
  let i = 0;
  // Four groups per turn of the loop: one per turn, the loop's own instructions (V8 checks for
  // interrupts on every back edge) took a quarter of the time (55,050 parameters: 13.7 → 10.4 µs).
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    sgdLanes(params, grads, velocity, o, 4, rate, mu, decay, useDecay, useNesterov);
    sgdLanes(params, grads, velocity, o + 16, 4, rate, mu, decay, useDecay, useNesterov);
    sgdLanes(params, grads, velocity, o + 32, 4, rate, mu, decay, useDecay, useNesterov);
    sgdLanes(params, grads, velocity, o + 48, 4, rate, mu, decay, useDecay, useNesterov);
  }
  for (; i + 4 <= n; i += 4) sgdLanes(params, grads, velocity, <usize>i << 2, 4, rate, mu, decay, useDecay, useNesterov);
  if (i < n) sgdLanes(params, grads, velocity, <usize>i << 2, n - i, rate, mu, decay, useDecay, useNesterov);
}

// Adam and AdamW, torch.optim.Adam / AdamW (amsgrad=False), t the step number from 1:
//   g ← g + l2·p (Adam's weight decay, when l2 ≠ 0);  p ← decay·p (AdamW's 1 − lr·λ, when ≠ 1);
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
//   p ← p − stepSize · m / (√v / bias2Sqrt + eps),  stepSize = lr/(1 − β1ᵗ), bias2Sqrt = √(1 − β2ᵗ)
// (eps added after the square root and the bias correction, as PyTorch does; the scalars, 1 − β
// included, are computed in float64 by the caller, as PyTorch computes them in Python floats: 1 − β1
// rounded once to float32 is not 1 − (β1 rounded to float32)).
// @ts-ignore: decorator
@inline function adamLanes(params: usize, grads: usize, m: usize, v: usize, o: usize, count: i32, beta1: v128, beta2: v128, rest1: v128, rest2: v128, epsilon: v128, l2: v128, decay: v128, useL2: bool, useDecay: bool, size: v128, bias2: v128): void {
  let p = loadUpTo4(params + o, count);
  let g = loadUpTo4(grads + o, count);
  if (useL2) g = f32x4.add(g, f32x4.mul(l2, p));
  if (useDecay) p = f32x4.mul(p, decay);
  const m1 = f32x4.add(f32x4.mul(beta1, loadUpTo4(m + o, count)), f32x4.mul(rest1, g));
  const v1 = f32x4.add(f32x4.mul(beta2, loadUpTo4(v + o, count)), f32x4.mul(rest2, f32x4.mul(g, g)));
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(v1), bias2), epsilon);
  const next = f32x4.sub(p, f32x4.mul(size, f32x4.div(m1, denom)));
  storeUpTo4(m + o, m1, count);
  storeUpTo4(v + o, v1, count);
  storeUpTo4(params + o, next, count);
}

/** params, grads, m (exp_avg), v (exp_avg_sq): [n]. rest1, rest2: 1 − β1 and 1 − β2, computed in float64 as PyTorch does. */
export function adamStep(params: usize, grads: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, eps: f32, l2: f32, decay: f32, stepSize: f32, bias2Sqrt: f32): void {
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const rest1 = f32x4.splat(oneMinusBeta1);
  const rest2 = f32x4.splat(oneMinusBeta2);
  const epsilon = f32x4.splat(eps);
  const l2v = f32x4.splat(l2);
  const decayv = f32x4.splat(decay);
  const size = f32x4.splat(stepSize);
  const bias2 = f32x4.splat(bias2Sqrt);
  const useL2 = l2 != 0;
  const useDecay = decay != 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) adamLanes(params, grads, m, v, <usize>i << 2, 4, b1, b2, rest1, rest2, epsilon, l2v, decayv, useL2, useDecay, size, bias2);
  if (i < n) adamLanes(params, grads, m, v, <usize>i << 2, n - i, b1, b2, rest1, rest2, epsilon, l2v, decayv, useL2, useDecay, size, bias2);
}

// RMSprop, torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered=False):
//   g ← g + λ·p (when λ ≠ 0);  s ← α·s + (1 − α)·g²;  b ← μ·b + g/(√s + eps);  p ← p − lr·b.
// With μ = 0 PyTorch skips the buffer and subtracts lr·g/(√s + eps): the same numbers, since μ·b = 0.
// @ts-ignore: decorator
@inline function rmspropLanes(params: usize, grads: usize, square: usize, buffer: usize, o: usize, count: i32, rate: v128, alpha: v128, rest: v128, epsilon: v128, decay: v128, useDecay: bool, mu: v128): void {
  const p = loadUpTo4(params + o, count);
  let g = loadUpTo4(grads + o, count);
  if (useDecay) g = f32x4.add(g, f32x4.mul(decay, p));
  const s = f32x4.add(f32x4.mul(alpha, loadUpTo4(square + o, count)), f32x4.mul(rest, f32x4.mul(g, g)));
  const avg = f32x4.add(f32x4.sqrt(s), epsilon);
  const b = f32x4.add(f32x4.mul(mu, loadUpTo4(buffer + o, count)), f32x4.div(g, avg));
  const next = f32x4.sub(p, f32x4.mul(rate, b));
  storeUpTo4(square + o, s, count);
  storeUpTo4(buffer + o, b, count);
  storeUpTo4(params + o, next, count);
}

/** params, grads, square (square_avg), buffer (momentum_buffer): [n]. oneMinusAlpha computed in float64, as PyTorch does. */
export function rmspropStep(params: usize, grads: usize, square: usize, buffer: usize, n: i32, lr: f32, alpha: f32, oneMinusAlpha: f32, eps: f32, weightDecay: f32, momentum: f32): void {
  const rate = f32x4.splat(lr);
  const a = f32x4.splat(alpha);
  const rest = f32x4.splat(oneMinusAlpha);
  const epsilon = f32x4.splat(eps);
  const decay = f32x4.splat(weightDecay);
  const mu = f32x4.splat(momentum);
  const useDecay = weightDecay != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) rmspropLanes(params, grads, square, buffer, <usize>i << 2, 4, rate, a, rest, epsilon, decay, useDecay, mu);
  if (i < n) rmspropLanes(params, grads, square, buffer, <usize>i << 2, n - i, rate, a, rest, epsilon, decay, useDecay, mu);
}
