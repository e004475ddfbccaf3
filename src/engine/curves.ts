// An activation and its derivative on a grid of points, computed by the very kernels that training
// runs: the derivative is the backward kernel applied to an upstream gradient of ones.
import { ACTIVATIONS, DEFAULT_LEAKY_SLOPE, activationParam, type ActivationName } from "../activations.js";
import { Kernels } from "./kernels.js";

export interface ActivationCurve {
  x: Float32Array;
  y: Float32Array;
  dydx: Float32Array;
}

/** leakySlope is the parameter where it is a setting (leaky_relu's); a learned one (PReLU's) is drawn at its initial value. */
export function activationCurve(name: ActivationName, x: ArrayLike<number>, leakySlope = DEFAULT_LEAKY_SLOPE): ActivationCurve {
  const param = ACTIVATIONS[name].learned ? activationParam(name) : leakySlope;
  const kernels = new Kernels();
  const n = x.length;
  const Z = kernels.allocFloats(n);
  const A = kernels.allocFloats(n);
  const dA = kernels.allocFloats(n);
  const dZ = kernels.allocFloats(n);
  kernels.floats(Z, n).set(x);
  kernels.floats(dA, n).fill(1);
  kernels.activationForward(name)(A, Z, n, param);
  kernels.activationBackward(name)(dZ, dA, Z, A, n, param);
  return { x: kernels.floats(Z, n).slice(), y: kernels.floats(A, n).slice(), dydx: kernels.floats(dZ, n).slice() };
}

/** n evenly spaced points from `from` to `to`, both included, as f32. */
export function grid(from: number, to: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? from : from + ((to - from) * i) / (n - 1);
  return out;
}
