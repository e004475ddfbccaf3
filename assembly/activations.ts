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

// The loops are written once and inlined with a constant kind, so that each activation gets a loop
// of its own with the dispatch folded away (a switch inside the loop cost up to half the speed).

// @ts-ignore: decorator
@inline function forwardLoop(kind: i32, A: usize, Z: usize, n: i32, param: f32): void {
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

// @ts-ignore: decorator
@inline function backwardLoop(kind: i32, dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
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
export function sigmoidForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(sigmoidKind, A, Z, n, param); }
export function sigmoidBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(sigmoidKind, dZ, dA, Z, A, n, param); }
export function tanhForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(tanhKind, A, Z, n, param); }
export function tanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(tanhKind, dZ, dA, Z, A, n, param); }
export function reluForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(reluKind, A, Z, n, param); }
export function reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(reluKind, dZ, dA, Z, A, n, param); }
export function leaky_reluForward(A: usize, Z: usize, n: i32, slope: f32): void { forwardLoop(leaky_reluKind, A, Z, n, slope); }
export function leaky_reluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, slope: f32): void { backwardLoop(leaky_reluKind, dZ, dA, Z, A, n, slope); }
export function eluForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(eluKind, A, Z, n, param); }
export function eluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(eluKind, dZ, dA, Z, A, n, param); }
export function seluForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(seluKind, A, Z, n, param); }
export function seluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(seluKind, dZ, dA, Z, A, n, param); }
export function geluForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(geluKind, A, Z, n, param); }
export function geluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(geluKind, dZ, dA, Z, A, n, param); }
export function siluForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(siluKind, A, Z, n, param); }
export function siluBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(siluKind, dZ, dA, Z, A, n, param); }
export function softplusForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(softplusKind, A, Z, n, param); }
export function softplusBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(softplusKind, dZ, dA, Z, A, n, param); }
export function mishForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(mishKind, A, Z, n, param); }
export function mishBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(mishKind, dZ, dA, Z, A, n, param); }
export function hardtanhForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(hardtanhKind, A, Z, n, param); }
export function hardtanhBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(hardtanhKind, dZ, dA, Z, A, n, param); }
export function softsignForward(A: usize, Z: usize, n: i32, param: f32): void { forwardLoop(softsignKind, A, Z, n, param); }
export function softsignBackward(dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void { backwardLoop(softsignKind, dZ, dA, Z, A, n, param); }


/** A = f(Z) over n floats, for an activation given by kind (0: a copy). */
export function activationForward(kind: i32, A: usize, Z: usize, n: i32, param: f32): void {
  switch (kind) {
    case sigmoidKind: sigmoidForward(A, Z, n, param); break;
    case tanhKind: tanhForward(A, Z, n, param); break;
    case reluKind: reluForward(A, Z, n, param); break;
    case leaky_reluKind: leaky_reluForward(A, Z, n, param); break;
    case eluKind: eluForward(A, Z, n, param); break;
    case seluKind: seluForward(A, Z, n, param); break;
    case geluKind: geluForward(A, Z, n, param); break;
    case siluKind: siluForward(A, Z, n, param); break;
    case softplusKind: softplusForward(A, Z, n, param); break;
    case mishKind: mishForward(A, Z, n, param); break;
    case hardtanhKind: hardtanhForward(A, Z, n, param); break;
    case softsignKind: softsignForward(A, Z, n, param); break;
    default: forwardLoop(0, A, Z, n, param);
  }
}

/** dZ = f'(Z) ⊙ dA over n floats (dZ may alias dA), for an activation given by kind (0: a copy). */
export function activationBackward(kind: i32, dZ: usize, dA: usize, Z: usize, A: usize, n: i32, param: f32): void {
  switch (kind) {
    case sigmoidKind: sigmoidBackward(dZ, dA, Z, A, n, param); break;
    case tanhKind: tanhBackward(dZ, dA, Z, A, n, param); break;
    case reluKind: reluBackward(dZ, dA, Z, A, n, param); break;
    case leaky_reluKind: leaky_reluBackward(dZ, dA, Z, A, n, param); break;
    case eluKind: eluBackward(dZ, dA, Z, A, n, param); break;
    case seluKind: seluBackward(dZ, dA, Z, A, n, param); break;
    case geluKind: geluBackward(dZ, dA, Z, A, n, param); break;
    case siluKind: siluBackward(dZ, dA, Z, A, n, param); break;
    case softplusKind: softplusBackward(dZ, dA, Z, A, n, param); break;
    case mishKind: mishBackward(dZ, dA, Z, A, n, param); break;
    case hardtanhKind: hardtanhBackward(dZ, dA, Z, A, n, param); break;
    case softsignKind: softsignBackward(dZ, dA, Z, A, n, param); break;
    default: backwardLoop(0, dZ, dA, Z, A, n, param);
  }
}

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
