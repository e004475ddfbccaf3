// One forward/backward pair per activation, elementwise over n floats.
//
// Every pair has the same signature so the engine can call any of them by name:
//   <name>Forward(A, Z, n, param)          A = f(Z)
//   <name>Backward(dZ, dA, Z, A, n, param) dZ = f'(Z) ⊙ dA, from whichever of Z and A is cheaper
// param is leaky_relu's negative slope and is ignored by the others. dZ may alias dA.
// Derivatives at kinks follow PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = slope,
// elu'(0) = selu'(0)/scale = alpha (the x ≤ 0 branch), hardtanh'(±1) = 0.

// @ts-ignore: decorator
@inline function f32At(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setF32(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

// @ts-ignore: decorator
@inline function sigmoidOf(x: f32): f32 { return 1 / (1 + Mathf.exp(-x)); }

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;
const SOFTPLUS_THRESHOLD: f32 = 20;
const INV_SQRT2: f64 = 0.7071067811865476;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

/** erfc(x) for x ≥ 0 with relative error below 1.2e-7 (Numerical Recipes' Chebyshev fit). */
function erfcNonNegative(x: f64): f64 {
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
}

/** The standard normal CDF Φ(x), accurate in relative terms in both tails. */
function normalCdf(x: f64): f64 {
  const e = 0.5 * erfcNonNegative(Math.abs(x) * INV_SQRT2);
  return x < 0 ? e : 1 - e;
}

// sigmoid ------------------------------------------------------------------------------------
export function sigmoidForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) setF32(A, i, sigmoidOf(f32At(Z, i)));
}
export function sigmoidBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  let i = 0;
  const one = f32x4.splat(1);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const a = v128.load(A + o);
    v128.store(dZ + o, f32x4.mul(v128.load(dA + o), f32x4.mul(f32x4.sub(one, a), a)));
  }
  for (; i < n; i++) { const a = f32At(A, i); setF32(dZ, i, f32At(dA, i) * ((1 - a) * a)); }
}

// tanh ---------------------------------------------------------------------------------------
export function tanhForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) setF32(A, i, Mathf.tanh(f32At(Z, i)));
}
export function tanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  let i = 0;
  const one = f32x4.splat(1);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const a = v128.load(A + o);
    v128.store(dZ + o, f32x4.mul(v128.load(dA + o), f32x4.sub(one, f32x4.mul(a, a))));
  }
  for (; i < n; i++) { const a = f32At(A, i); setF32(dZ, i, f32At(dA, i) * (1 - a * a)); }
}

// relu ---------------------------------------------------------------------------------------
export function reluForward(A: usize, Z: usize, n: i32, param: f32): void {
  let i = 0;
  const zero = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(Z + o);
    // select, not max: max(NaN, 0) would hide a NaN that PyTorch's relu passes on.
    v128.store(A + o, v128.bitselect(zero, z, f32x4.lt(z, zero)));
  }
  for (; i < n; i++) { const z = f32At(Z, i); setF32(A, i, z < 0 ? 0 : z); }
}
export function reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  let i = 0;
  const zero = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dZ + o, v128.and(v128.load(dA + o), f32x4.gt(v128.load(Z + o), zero)));
  }
  for (; i < n; i++) setF32(dZ, i, f32At(Z, i) > 0 ? f32At(dA, i) : 0);
}

// leaky_relu ---------------------------------------------------------------------------------
export function leaky_reluForward(A: usize, Z: usize, n: i32, slope: f32): void {
  let i = 0;
  const zero = f32x4.splat(0);
  const s = f32x4.splat(slope);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(Z + o);
    v128.store(A + o, v128.bitselect(z, f32x4.mul(z, s), f32x4.gt(z, zero)));
  }
  for (; i < n; i++) { const z = f32At(Z, i); setF32(A, i, z > 0 ? z : z * slope); }
}
export function leaky_reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, slope: f32): void {
  let i = 0;
  const zero = f32x4.splat(0);
  const s = f32x4.splat(slope);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = v128.load(dA + o);
    v128.store(dZ + o, v128.bitselect(d, f32x4.mul(d, s), f32x4.gt(v128.load(Z + o), zero)));
  }
  for (; i < n; i++) { const d = f32At(dA, i); setF32(dZ, i, f32At(Z, i) > 0 ? d : d * slope); }
}

// elu (alpha 1) ------------------------------------------------------------------------------
export function eluForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) { const z = f32At(Z, i); setF32(A, i, z > 0 ? z : Mathf.expm1(z)); }
}
export function eluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(dZ, i, z > 0 ? f32At(dA, i) : f32At(dA, i) * Mathf.exp(z));
  }
}

// selu ---------------------------------------------------------------------------------------
export function seluForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(A, i, z > 0 ? SELU_SCALE * z : SELU_SCALE * (SELU_ALPHA * Mathf.expm1(z)));
  }
}
export function seluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    const d = f32At(dA, i);
    setF32(dZ, i, z > 0 ? d * SELU_SCALE : d * (SELU_SCALE * SELU_ALPHA) * Mathf.exp(z));
  }
}

// gelu (exact, erf form) ---------------------------------------------------------------------
export function geluForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = <f64>f32At(Z, i);
    setF32(A, i, <f32>(z * normalCdf(z)));
  }
}
export function geluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = <f64>f32At(Z, i);
    const derivative = normalCdf(z) + z * INV_SQRT_2PI * Math.exp(-0.5 * z * z);
    setF32(dZ, i, f32At(dA, i) * <f32>derivative);
  }
}

// silu ---------------------------------------------------------------------------------------
export function siluForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) { const z = f32At(Z, i); setF32(A, i, z * sigmoidOf(z)); }
}
export function siluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    const s = sigmoidOf(z);
    setF32(dZ, i, f32At(dA, i) * (s * (1 + z * (1 - s))));
  }
}

// softplus (beta 1, threshold 20) ------------------------------------------------------------
export function softplusForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(A, i, z > SOFTPLUS_THRESHOLD ? z : Mathf.log1p(Mathf.exp(z)));
  }
}
export function softplusBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    const d = f32At(dA, i);
    if (z > SOFTPLUS_THRESHOLD) { setF32(dZ, i, d); continue; }
    const e = Mathf.exp(z);
    setF32(dZ, i, d * e / (e + 1));
  }
}

// mish ---------------------------------------------------------------------------------------
export function mishForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(A, i, z * Mathf.tanh(Mathf.log1p(Mathf.exp(z))));
  }
}
export function mishBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    const t = Mathf.tanh(Mathf.log1p(Mathf.exp(z)));
    setF32(dZ, i, f32At(dA, i) * (t + z * sigmoidOf(z) * (1 - t * t)));
  }
}

// hardtanh (min −1, max 1) -------------------------------------------------------------------
export function hardtanhForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(A, i, z < -1 ? -1 : z > 1 ? 1 : z);
  }
}
export function hardtanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const z = f32At(Z, i);
    setF32(dZ, i, z <= -1 || z >= 1 ? 0 : f32At(dA, i));
  }
}

// softsign -----------------------------------------------------------------------------------
export function softsignForward(A: usize, Z: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) { const z = f32At(Z, i); setF32(A, i, z / (1 + Mathf.abs(z))); }
}
export function softsignBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  for (let i = 0; i < n; i++) {
    const q: f32 = 1 + Mathf.abs(f32At(Z, i));
    setF32(dZ, i, f32At(dA, i) / (q * q));
  }
}
