// Four-lane f32 arithmetic the kernels share: a multiply-add that fuses when the build allows it,
// and exp, expm1, log1p, tanh and sigmoid accurate to a few ulp on the whole f32 range.
//
// Why not Mathf: its functions are scalar and cost ~20 ns an element (tanh), which made a deep tanh
// net spend more time in activations than in its matrix products. These run four lanes at once in
// a few nanoseconds. They follow Cephes (S. Moshier): a Cody–Waite range reduction x = n·ln2 + r
// with |r| ≤ ln2/2, then a minimax polynomial in r. Every function propagates NaN, and no finite
// input makes inf/inf or 0·inf inside them (the activations built on them rely on that).

/**
 * a·b + c. With relaxed SIMD enabled at build time this is one fused multiply-add (vfmadd on x86
 * with FMA; V8 lowers it the same way in every tier, so results are repeatable on a machine); without
 * it, a multiply then an add. Either way the kernels' results stay within the tests' tolerances.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

// @ts-ignore: decorator
@inline export function abs4(z: v128): v128 {
  return v128.and(z, i32x4.splat(0x7fffffff));
}

/** min(x, hi) and max(x, lo) that pass a NaN x through (pmin/pmax return the first operand on NaN). */
// @ts-ignore: decorator
@inline export function clampTo(x: v128, lo: f32, hi: f32): v128 {
  return f32x4.pmax(f32x4.pmin(x, f32x4.splat(hi)), f32x4.splat(lo));
}

const LOG2E: f32 = 1.44269504088896341;
// ln 2 = LN2_HI + LN2_LO, split so that n·LN2_HI is exact for the |n| ≤ 150 used here.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// Adding 1.5·2^23 rounds a float of magnitude < 2^22 to an integer that sits in the low mantissa bits.
const ROUNDER: f32 = 12582912.0;
const ROUNDER_BITS: i32 = 0x4b400000;

/** r = x − n·ln2 in two steps (Cody–Waite), each a multiply-add. */
// @ts-ignore: decorator
@inline function reduced(x: v128, n: v128): v128 {
  return madd(n, f32x4.splat(-LN2_LO), madd(n, f32x4.splat(-LN2_HI), x));
}

/** 2^n for integer lanes n in [−126, 127], built from the exponent bits. */
// @ts-ignore: decorator
@inline function pow2(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/**
 * expm1(r) for |r| ≤ ln2/2 (Cephes expf's polynomial, written as r + r²·P(r) so that small r keeps
 * its relative accuracy).
 */
// @ts-ignore: decorator
@inline function expm1Reduced(r: v128): v128 {
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  return madd(p, f32x4.mul(r, r), r);
}

/**
 * e^x, within 2 ulp for normal results; overflows to +inf above ln(FLT_MAX) ≈ 88.72 and underflows
 * through the subnormals to 0 below ≈ −103.97, as the exact value rounded to f32 does.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = clampTo(x, -104, 88.8);
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  const ni = i32x4.sub(t, i32x4.splat(ROUNDER_BITS));
  const r = reduced(x, n);
  const y = f32x4.add(expm1Reduced(r), f32x4.splat(1));
  // n spans [−150, 128], past what one power of two can hold: scale by 2^⌊n/2⌋ then by the rest,
  // each a normal number, so that overflow and gradual underflow happen in the last multiply.
  const half = i32x4.shr_s(ni, 1);
  return f32x4.mul(f32x4.mul(y, pow2(half)), pow2(i32x4.sub(ni, half)));
}

/**
 * e^x − 1 with relative accuracy near 0 (a few ulp everywhere): 2^n·expm1(r) + (2^n − 1), written
 * as 2·(s·expm1(r) + (s − ½)) with s = 2^(n−1) so that n = 128 still has a power of two.
 */
// @ts-ignore: decorator
@inline export function expm1_4(x: v128): v128 {
  // Below −30, e^x − 1 rounds to −1 in f32.
  x = clampTo(x, -30, 88.8);
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  const ni = i32x4.sub(t, i32x4.splat(ROUNDER_BITS));
  const r = reduced(x, n);
  const s = pow2(i32x4.sub(ni, i32x4.splat(1)));
  const sum = madd(s, expm1Reduced(r), f32x4.sub(s, f32x4.splat(0.5)));
  // ±0 returned as it came (the sum above makes −0 into +0): elu(−0) = −0, as in PyTorch.
  return v128.bitselect(x, f32x4.add(sum, sum), f32x4.eq(x, f32x4.splat(0)));
}

const SQRT_HALF: f32 = 0.707106781186547524;

/**
 * ln(1 + u) for u ≥ 0 (softplus needs u = e^−|z| ∈ [0, 1]), within a few ulp: ln(w) of w = 1 + u by
 * Cephes logf, plus the rounding error of w as (u − (w − 1))/w so that small u keeps its accuracy.
 * NaN is passed through by the caller.
 */
// @ts-ignore: decorator
@inline export function log1pNonNegative4(u: v128): v128 {
  const one = f32x4.splat(1);
  const w = f32x4.add(one, u);
  const correction = f32x4.div(f32x4.sub(u, f32x4.sub(w, one)), w);
  // w = m·2^e with m in [√½, √2): take the exponent bits, then move m below √½ up an octave.
  let e = i32x4.sub(i32x4.shr_u(w, 23), i32x4.splat(126));
  let m = v128.or(v128.and(w, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const low = f32x4.lt(m, f32x4.splat(SQRT_HALF));
  e = i32x4.add(e, low); // low lanes are −1
  m = f32x4.sub(f32x4.add(m, v128.and(m, low)), one);
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = f32x4.splat(7.0376836292e-2);
  p = madd(p, m, f32x4.splat(-1.1514610310e-1));
  p = madd(p, m, f32x4.splat(1.1676998740e-1));
  p = madd(p, m, f32x4.splat(-1.2420140846e-1));
  p = madd(p, m, f32x4.splat(1.4249322787e-1));
  p = madd(p, m, f32x4.splat(-1.6668057665e-1));
  p = madd(p, m, f32x4.splat(2.0000714765e-1));
  p = madd(p, m, f32x4.splat(-2.4999993993e-1));
  p = madd(p, m, f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = madd(ef, f32x4.splat(LN2_LO), y);
  y = madd(z, f32x4.splat(-0.5), y);
  const lnw = madd(ef, f32x4.splat(LN2_HI), f32x4.add(m, y));
  return f32x4.add(lnw, correction);
}

const TANH_SATURATION: f32 = 7.99881172180175781;

/**
 * tanh(z) as an odd rational function p(z²)·z / q(z²), within 5 ulp (6 without fused multiply-add;
 * 2.2 for the expm1 form
 * (e − 1)/(e + 1) this replaced, which took twice the instructions). The coefficients are Eigen's
 * (generic_fast_tanh_float, MPL-2.0). From |z| = 7.9988 on, where tanh is within 4 ulp of 1, the
 * result is ±1 exactly, with or without fused multiply-adds; larger |z| (even inf) only reach the
 * quotient in lanes that are then replaced, and NaN fails the comparison and passes through.
 */
// @ts-ignore: decorator
@inline export function tanh4(z: v128): v128 {
  const x2 = f32x4.mul(z, z);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = madd(p, x2, f32x4.splat(2.00018790482477e-13));
  p = madd(p, x2, f32x4.splat(-8.60467152213735e-11));
  p = madd(p, x2, f32x4.splat(5.12229709037114e-08));
  p = madd(p, x2, f32x4.splat(1.48572235717979e-05));
  p = madd(p, x2, f32x4.splat(6.37261928875436e-04));
  p = madd(p, x2, f32x4.splat(4.89352455891786e-03));
  let q = f32x4.splat(1.19825839466702e-06);
  q = madd(q, x2, f32x4.splat(1.18534705686654e-04));
  q = madd(q, x2, f32x4.splat(2.26843463243900e-03));
  q = madd(q, x2, f32x4.splat(4.89352518554385e-03));
  const ratio = f32x4.div(f32x4.mul(p, z), q);
  const one = v128.or(f32x4.splat(1), v128.and(z, i32x4.splat(0x80000000)));
  return v128.bitselect(one, ratio, f32x4.ge(abs4(z), f32x4.splat(TANH_SATURATION)));
}

/**
 * e^x for callers that only use 1 + e^x (sigmoid): one power of two instead of exp4's two, with x
 * kept above ln(2^−126), so results below the normal range come out as about 1.2e-38 rather than
 * their subnormal values, which 1 + e^x cannot tell apart. Overflow to +inf is kept (n = 128 gives
 * the exponent bits of infinity).
 */
// @ts-ignore: decorator
@inline function expAboveTiny4(x: v128): v128 {
  x = clampTo(x, -87.33654, 88.8);
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  const ni = i32x4.sub(t, i32x4.splat(ROUNDER_BITS));
  const r = reduced(x, n);
  const y = f32x4.add(expm1Reduced(r), f32x4.splat(1));
  return f32x4.mul(y, pow2(ni));
}

/** 1 / (1 + e^−z): e^−z overflows to inf for z < −88.7, and 1/inf is the right 0. */
// @ts-ignore: decorator
@inline export function sigmoid4(z: v128): v128 {
  const one = f32x4.splat(1);
  // 0 − z rather than neg(z): one instruction instead of V8's three, and e^(+0) = e^(−0).
  return f32x4.div(one, f32x4.add(one, expAboveTiny4(f32x4.sub(f32x4.splat(0), z))));
}

// sin and cos: Cephes sinf/cosf's polynomials on |r| ≤ π/4, after a three-part Cody–Waite reduction
// z = n·π/2 + r. PIO2_1 has 9 significant bits, so n·PIO2_1 is exact for |n| < 2^15; the reduction
// keeps a few ulp up to |z| ≈ 1e3 (the catalogue's window) and loses accuracy slowly beyond.
const TWO_OVER_PI: f32 = 0.636619772367581343;
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.837512969970703125e-4;
const PIO2_3: f32 = 7.54978995489188216e-8;

/**
 * sin(z + shift·π/2) for shift 0 (sin) or 1 (cos): the quadrant n + shift picks the sine or cosine
 * polynomial of r and the sign. inf and NaN give NaN (r = inf − inf). For |z| past ~1e6, where the
 * reduction has no accurate bits left, r is clamped to [−1, 1] so that the result stays finite.
 */
// @ts-ignore: decorator
@inline export function sinQuadrant4(z: v128, shift: i32): v128 {
  const n = f32x4.nearest(f32x4.mul(z, f32x4.splat(TWO_OVER_PI)));
  let r = madd(n, f32x4.splat(-PIO2_1), z);
  r = madd(n, f32x4.splat(-PIO2_2), r);
  r = madd(n, f32x4.splat(-PIO2_3), r);
  r = clampTo(r, -1, 1);
  const q = i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(shift));
  const r2 = f32x4.mul(r, r);
  let s = f32x4.splat(-1.9515295891e-4);
  s = madd(s, r2, f32x4.splat(8.3321608736e-3));
  s = madd(s, r2, f32x4.splat(-1.6666654611e-1));
  const sine = madd(f32x4.mul(s, r2), r, r);
  let c = f32x4.splat(2.443315711809948e-5);
  c = madd(c, r2, f32x4.splat(-1.388731625493765e-3));
  c = madd(c, r2, f32x4.splat(4.166664568298827e-2));
  const cosine = madd(f32x4.mul(c, r2), r2, madd(r2, f32x4.splat(-0.5), f32x4.splat(1)));
  const odd = i32x4.eq(v128.and(q, i32x4.splat(1)), i32x4.splat(1));
  const sign = i32x4.shl(v128.and(q, i32x4.splat(2)), 30);
  return v128.xor(v128.bitselect(cosine, sine, odd), sign);
}
