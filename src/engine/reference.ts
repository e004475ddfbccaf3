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

export interface NormForward {
  /** The normalised, scaled and shifted output [batch, n]. */
  Y: Float64Array;
  /** x̂ = (x − mean)·rstd [batch, n], what the backward needs. */
  xhat: Float64Array;
  /** Batch norm: per feature [n]; layer norm: per row [batch]. */
  mean: Float64Array;
  rstd: Float64Array;
}

/**
 * BatchNorm1d over X [batch, n] in training mode: each feature by its batch mean and biased variance,
 * y = x̂·γ + β. Also the running statistics after the update: (1 − momentum)·r + momentum·stat, with
 * the UNBIASED variance for running_var, as PyTorch does.
 */
export function batchNormForward(
  X: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>,
  batch: number, n: number, momentum: number, eps: number,
): NormForward & { runningMean: Float64Array; runningVar: Float64Array } {
  const Y = new Float64Array(batch * n);
  const xhat = new Float64Array(batch * n);
  const mean = new Float64Array(n);
  const rstd = new Float64Array(n);
  const newMean = new Float64Array(n);
  const newVar = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let sum = 0;
    for (let r = 0; r < batch; r++) sum += X[r * n + c];
    const m = sum / batch;
    let squares = 0;
    for (let r = 0; r < batch; r++) squares += (X[r * n + c] - m) ** 2;
    mean[c] = m;
    rstd[c] = 1 / Math.sqrt(squares / batch + eps);
    for (let r = 0; r < batch; r++) {
      xhat[r * n + c] = (X[r * n + c] - m) * rstd[c];
      Y[r * n + c] = xhat[r * n + c] * gamma[c] + beta[c];
    }
    newMean[c] = (1 - momentum) * runningMean[c] + momentum * m;
    newVar[c] = (1 - momentum) * runningVar[c] + momentum * (squares / (batch - 1));
  }
  return { Y, xhat, mean, rstd, runningMean: newMean, runningVar: newVar };
}

/** BatchNorm1d in eval mode: y = (x − running_mean)/√(running_var + eps)·γ + β. */
export function batchNormEval(
  X: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>,
  batch: number, n: number, eps: number,
): Float64Array {
  const Y = new Float64Array(batch * n);
  for (let r = 0; r < batch; r++) {
    for (let c = 0; c < n; c++) Y[r * n + c] = (X[r * n + c] - runningMean[c]) / Math.sqrt(runningVar[c] + eps) * gamma[c] + beta[c];
  }
  return Y;
}

export interface NormGradients {
  dX: Float64Array;
  dGamma: Float64Array;
  dBeta: Float64Array;
}

/**
 * BatchNorm1d's backward in training mode, by the chain rule written out term by term:
 * dx̂ = dY·γ; dvar = Σ dx̂·(x − μ)·(−½)·rstd³; dμ = Σ −dx̂·rstd + dvar·Σ −2(x − μ)/B;
 * dx = dx̂·rstd + dvar·2(x − μ)/B + dμ/B.
 */
export function batchNormBackward(
  dY: ArrayLike<number>, X: ArrayLike<number>, gamma: ArrayLike<number>, batch: number, n: number, eps: number,
): NormGradients {
  const grads = { dX: new Float64Array(batch * n), dGamma: new Float64Array(n), dBeta: new Float64Array(n) };
  // One group per feature c: its batch column, elements r·n + c.
  for (let c = 0; c < n; c++) normGroupBackward(dY, X, gamma, eps, batch, (r) => r * n + c, () => c, grads);
  return grads;
}

/** LayerNorm over the last dimension of X [batch, n]: each row by its own mean and biased variance. */
export function layerNormForward(
  X: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, batch: number, n: number, eps: number,
): NormForward {
  const Y = new Float64Array(batch * n);
  const xhat = new Float64Array(batch * n);
  const mean = new Float64Array(batch);
  const rstd = new Float64Array(batch);
  for (let r = 0; r < batch; r++) {
    let sum = 0;
    for (let c = 0; c < n; c++) sum += X[r * n + c];
    const m = sum / n;
    let squares = 0;
    for (let c = 0; c < n; c++) squares += (X[r * n + c] - m) ** 2;
    mean[r] = m;
    rstd[r] = 1 / Math.sqrt(squares / n + eps);
    for (let c = 0; c < n; c++) {
      xhat[r * n + c] = (X[r * n + c] - m) * rstd[r];
      Y[r * n + c] = xhat[r * n + c] * gamma[c] + beta[c];
    }
  }
  return { Y, xhat, mean, rstd };
}

/** LayerNorm's backward, the same chain rule as batchNormBackward's, along each row instead of each column. */
export function layerNormBackward(
  dY: ArrayLike<number>, X: ArrayLike<number>, gamma: ArrayLike<number>, batch: number, n: number, eps: number,
): NormGradients {
  const grads = { dX: new Float64Array(batch * n), dGamma: new Float64Array(n), dBeta: new Float64Array(n) };
  // One group per row r: its n features, elements r·n + c.
  for (let r = 0; r < batch; r++) normGroupBackward(dY, X, gamma, eps, n, (c) => r * n + c, (c) => c, grads);
  return grads;
}

/**
 * The chain rule over one normalised group of `count` elements (element k at X[at(k)], scaled by
 * γ[feature(k)]): its mean and biased variance, then dγ, dβ and dx as batchNormBackward spells out.
 */
function normGroupBackward(
  dY: ArrayLike<number>, X: ArrayLike<number>, gamma: ArrayLike<number>, eps: number, count: number,
  at: (k: number) => number, feature: (k: number) => number, { dX, dGamma, dBeta }: NormGradients,
): void {
  let sum = 0;
  for (let k = 0; k < count; k++) sum += X[at(k)];
  const m = sum / count;
  let squares = 0;
  for (let k = 0; k < count; k++) squares += (X[at(k)] - m) ** 2;
  const s = 1 / Math.sqrt(squares / count + eps);
  let dVar = 0;
  let dMean = 0;
  let centred = 0;
  for (let k = 0; k < count; k++) {
    const i = at(k);
    const c = feature(k);
    const d = X[i] - m;
    dBeta[c] += dY[i];
    dGamma[c] += dY[i] * d * s;
    dVar += dY[i] * gamma[c] * d * -0.5 * s ** 3;
    dMean -= dY[i] * gamma[c] * s;
    centred += -2 * d;
  }
  dMean += dVar * centred / count;
  for (let k = 0; k < count; k++) {
    const i = at(k);
    dX[i] = dY[i] * gamma[feature(k)] * s + dVar * 2 * (X[i] - m) / count + dMean / count;
  }
}
