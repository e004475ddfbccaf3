// Naive reference kernels, in llm.c's way: each fast kernel's computation written as plain scalar
// loops in float64, with nothing clever in them, so that they are obviously right. The tests hold the
// SIMD kernels (assembly/, through kernels.ts) to these on random shapes (test/kernelsVsReference.test.ts).
//
// They live beside the engine, not in test/, because they are the engine's specification: a new
// fast kernel gets its reference here, next to the others, and the library ships them (a few hundred
// bytes, no WebAssembly) for anyone who wants to check a result. Layouts are the kernels': row-major,
// W in PyTorch's [out, in].
import { ACTIVATIONS, activationParam, type ActivationName } from "../activations.js";
import { RMSPROP_ALPHA, type OptimizerHyper, type OptimizerName } from "../optim.js";

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

/**
 * One step of an optimiser (optim.ts's table) in float64, as PyTorch 1.13's _single_tensor_* writes it:
 * returns the new parameters and state blocks (OPTIMIZERS[name].state order); the inputs are left as
 * they were. t is the step number, 1 on the first step.
 */
export function optimizerStep(
  name: OptimizerName, params: ArrayLike<number>, grads: ArrayLike<number>, state: ArrayLike<number>[], h: OptimizerHyper, t: number,
): { params: Float64Array; state: Float64Array[] } {
  const p = Float64Array.from(params);
  const next = state.map((block) => Float64Array.from(block));
  const [beta1, beta2] = h.betas;
  for (let i = 0; i < p.length; i++) {
    let g = grads[i];
    if (name === "sgd" || name === "nesterov") {
      // SGD(momentum, dampening=0, weight_decay, nesterov); the first step's buffer = g is μ·0 + g.
      const [v] = next;
      g += h.weightDecay * p[i];
      v[i] = h.momentum * v[i] + g;
      p[i] -= h.lr * (name === "nesterov" ? g + h.momentum * v[i] : v[i]);
    } else if (name === "adam" || name === "adamw") {
      // Adam: L2 added to g. AdamW: p scaled by 1 − lr·λ first (decoupled). Then the moments, and
      // p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps).
      const [m, v] = next;
      if (name === "adam") g += h.weightDecay * p[i];
      else p[i] *= 1 - h.lr * h.weightDecay;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - beta2 ** t) + h.eps;
      p[i] -= (h.lr / (1 - beta1 ** t)) * (m[i] / denom);
    } else {
      // RMSprop(alpha, eps, weight_decay, momentum, centered=False): s ← αs + (1 − α)g²;
      // b ← μb + g/(√s + eps); p −= lr·b (with μ = 0, PyTorch's p −= lr·g/(√s + eps) is the same).
      const [s, b] = next;
      g += h.weightDecay * p[i];
      s[i] = RMSPROP_ALPHA * s[i] + (1 - RMSPROP_ALPHA) * g * g;
      b[i] = h.momentum * b[i] + g / (Math.sqrt(s[i]) + h.eps);
      p[i] -= h.lr * b[i];
    }
  }
  return { params: p, state: next };
}
