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

