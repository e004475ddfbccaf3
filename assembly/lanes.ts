// Partial vectors for the edges of the kernels: the last n mod 4 elements go through the same
// four-lane code as the rest, so an element's value never depends on where it sits in a buffer.
// Lanes past the end are neither read nor written.

// @ts-ignore: decorator
@inline export function loadLanes(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  if (count > 3) v = f32x4.replace_lane(v, 3, load<f32>(p, 12));
  return v;
}

// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  if (count > 3) store<f32>(p, f32x4.extract_lane(v, 3), 12);
}


/** Four lanes from p, or its first `count` (an edge): the load every element-wise kernel makes. */
// @ts-ignore: decorator
@inline export function loadUpTo4(p: usize, count: i32): v128 {
  return count == 4 ? v128.load(p) : loadLanes(p, count);
}

/** The store that goes with loadUpTo4. */
// @ts-ignore: decorator
@inline export function storeUpTo4(p: usize, v: v128, count: i32): void {
  if (count == 4) v128.store(p, v);
  else storeLanes(p, v, count);
}

/**
 * Stores the transpose of the 4×4 block whose rows are r0 … r3: its column j (r0[j], r1[j], r2[j],
 * r3[j]) at p + j·stride. Four shuffles to pair the rows' lanes, four to finish the columns.
 */
// @ts-ignore: decorator
@inline export function storeTransposed4(p: usize, stride: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t01lo = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t01hi = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t23lo = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t23hi = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(p, v128.shuffle<f32>(t01lo, t23lo, 0, 1, 4, 5));
  v128.store(p + stride, v128.shuffle<f32>(t01lo, t23lo, 2, 3, 6, 7));
  v128.store(p + 2 * stride, v128.shuffle<f32>(t01hi, t23hi, 0, 1, 4, 5));
  v128.store(p + 3 * stride, v128.shuffle<f32>(t01hi, t23hi, 2, 3, 6, 7));
}
