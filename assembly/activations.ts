// One forward/backward pair per activation, elementwise over n floats. The arithmetic lives in
// activationMath.ts, on four lanes, shared with the GEMM epilogues that fuse activations into the
// dense layers; these are the standalone kernels (the plots, the diagnostics, the tests).
//
// Every pair has the same signature so the engine can call any of them by name:
//   <name>Forward(A, Z, n, param)          A = f(Z)
//   <name>Backward(dZ, dA, Z, A, n, param) dZ = f'(Z) ⊙ dA
// param is leaky_relu's negative slope and is ignored by the others. dZ may alias dA.
import {
  backward4, eluKind, forward4, geluKind, hardtanhKind, leaky_reluKind, mishKind, reluKind, seluKind,
  sigmoidKind, siluKind, softplusKind, softsignKind, tanhKind,
} from "./activationMath";
import { loadLanes, storeLanes } from "./lanes";
import { exp4, expm1_4, log1pNonNegative4 } from "./vmath";

// The kinds, exported as globals: the engine reads them from the module instead of keeping a copy.
export {
  identityKind, sigmoidKind, tanhKind, reluKind, leaky_reluKind, eluKind, seluKind, geluKind, siluKind,
  softplusKind, mishKind, hardtanhKind, softsignKind,
} from "./activationMath";

/** A = f(Z) over n floats. */
export function activationForward(kind: i32, A: usize, Z: usize, n: i32, param: f32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(A + o, forward4(kind, v128.load(Z + o), param));
  }
  if (i < n) {
    const o = <usize>i << 2;
    storeLanes(A + o, forward4(kind, loadLanes(Z + o, n - i), param), n - i);
  }
}

/** dZ = f'(Z) ⊙ dA over n floats; dZ may alias dA. */
export function activationBackward(kind: i32, dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dZ + o, backward4(kind, v128.load(dA + o), v128.load(Z + o), v128.load(A + o), param));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const count = n - i;
    storeLanes(dZ + o, backward4(kind, loadLanes(dA + o, count), loadLanes(Z + o, count), loadLanes(A + o, count), param), count);
  }
}

// The named pairs the engine and the plots call.
export function sigmoidForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(sigmoidKind, A, Z, n, param); }
export function sigmoidBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(sigmoidKind, dZ, dA, Z, A, n, param); }
export function tanhForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(tanhKind, A, Z, n, param); }
export function tanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(tanhKind, dZ, dA, Z, A, n, param); }
export function reluForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(reluKind, A, Z, n, param); }
export function reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(reluKind, dZ, dA, Z, A, n, param); }
export function leaky_reluForward(A: usize, Z: usize, n: i32, slope: f32): void { activationForward(leaky_reluKind, A, Z, n, slope); }
export function leaky_reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, slope: f32): void { activationBackward(leaky_reluKind, dZ, dA, Z, A, n, slope); }
export function eluForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(eluKind, A, Z, n, param); }
export function eluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(eluKind, dZ, dA, Z, A, n, param); }
export function seluForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(seluKind, A, Z, n, param); }
export function seluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(seluKind, dZ, dA, Z, A, n, param); }
export function geluForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(geluKind, A, Z, n, param); }
export function geluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(geluKind, dZ, dA, Z, A, n, param); }
export function siluForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(siluKind, A, Z, n, param); }
export function siluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(siluKind, dZ, dA, Z, A, n, param); }
export function softplusForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(softplusKind, A, Z, n, param); }
export function softplusBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(softplusKind, dZ, dA, Z, A, n, param); }
export function mishForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(mishKind, A, Z, n, param); }
export function mishBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(mishKind, dZ, dA, Z, A, n, param); }
export function hardtanhForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(hardtanhKind, A, Z, n, param); }
export function hardtanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(hardtanhKind, dZ, dA, Z, A, n, param); }
export function softsignForward(A: usize, Z: usize, n: i32, param: f32): void { activationForward(softsignKind, A, Z, n, param); }
export function softsignBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { activationBackward(softsignKind, dZ, dA, Z, A, n, param); }

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
