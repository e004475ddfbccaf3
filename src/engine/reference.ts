// Naive reference kernels, in llm.c's way: each fast kernel's computation written as plain scalar
// loops in float64, with nothing clever in them, so that they are obviously right. The tests hold the
// SIMD kernels (assembly/, through kernels.ts) to these on random shapes (test/kernelsVsReference.test.ts).
//
// They live beside the engine, not in test/, because they are the engine's specification: a new
// fast kernel gets its reference here, next to the others, and the library ships them (a few hundred
// bytes, no WebAssembly) for anyone who wants to check a result. Layouts are the kernels': row-major,
// W in PyTorch's [out, in].
import { ACTIVATIONS, activationParam, type ActivationName } from "../activations.js";

/** Z[batch, out] = X[batch, in] · Wᵀ + b, with W [out, in] and b [out]. */
export function denseForward(
  X: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number>, batch: number, inSize: number, outSize: number,
): Float64Array {
  const Z = new Float64Array(batch * outSize);
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < outSize; o++) {
      let sum = b[o];
      for (let i = 0; i < inSize; i++) sum += X[r * inSize + i] * W[o * inSize + i];
      Z[r * outSize + o] = sum;
    }
  }
  return Z;
}

export interface DenseGradients {
  /** ∂L/∂X [batch, in] = dZ · W */
  dX: Float64Array;
  /** ∂L/∂W [out, in] = dZᵀ · X */
  dW: Float64Array;
  /** ∂L/∂b [out] = Σ_rows dZ */
  db: Float64Array;
}

/** The gradients of Z = X·Wᵀ + b, given dZ = ∂L/∂Z [batch, out] and the layer's input X [batch, in]. */
export function denseBackward(
  dZ: ArrayLike<number>, X: ArrayLike<number>, W: ArrayLike<number>, batch: number, inSize: number, outSize: number,
): DenseGradients {
  const dX = new Float64Array(batch * inSize);
  const dW = new Float64Array(outSize * inSize);
  const db = new Float64Array(outSize);
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < outSize; o++) {
      const g = dZ[r * outSize + o];
      db[o] += g;
      for (let i = 0; i < inSize; i++) {
        dX[r * inSize + i] += g * W[o * inSize + i];
        dW[o * inSize + i] += g * X[r * inSize + i];
      }
    }
  }
  return { dX, dW, db };
}

/** A = f(Z) elementwise, by the catalogue's scalar reference; param defaults to the activation's own. */
export function activationForward(name: ActivationName, Z: ArrayLike<number>, param?: number): Float64Array {
  const { output } = ACTIVATIONS[name].reference;
  const p = activationParam(name, param);
  return Float64Array.from(Z, (z) => output(z, p));
}

/** dZ = f'(Z) ⊙ dA elementwise, by the catalogue's scalar reference (PyTorch's derivative at kinks). */
export function activationBackward(name: ActivationName, dA: ArrayLike<number>, Z: ArrayLike<number>, param?: number): Float64Array {
  const { der } = ACTIVATIONS[name].reference;
  const p = activationParam(name, param);
  return Float64Array.from(Z, (z, i) => der(z, p) * dA[i]);
}
