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
