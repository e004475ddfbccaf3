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
import { loadLanes, storeLanes } from "./lanes";
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
