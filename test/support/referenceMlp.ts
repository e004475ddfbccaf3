// An independent float64 MLP written from the textbook formulas, for checking the kernels'
// gradients against central finite differences. It shares no code with the engine.

function erf(x: number): number {
  // Maclaurin series: exact enough (≈1e-13) for the |x| < 4 this test feeds it.
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

export function referenceActivation(name: string, slope: number): (x: number) => number {
  const table: Record<string, (x: number) => number> = {
    sigmoid,
    tanh: Math.tanh,
    relu: (x) => Math.max(0, x),
    leaky_relu: (x) => (x > 0 ? x : slope * x),
    elu: (x) => (x > 0 ? x : Math.expm1(x)),
    selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    silu: (x) => x * sigmoid(x),
    softplus,
    mish: (x) => x * Math.tanh(softplus(x)),
    hardtanh: (x) => Math.min(1, Math.max(-1, x)),
    softsign: (x) => x / (1 + Math.abs(x)),
  };
  const f = table[name];
  if (!f) throw new Error(`no reference for ${name}`);
  return f;
}

export interface ReferenceNet {
  shapes: Array<[number, number]>;
  /** Flat parameters in the engine's order: W0 [out, in], b0, W1, b1, ... */
  params: Float64Array;
  activation: (x: number) => number;
}

/** Mean cross-entropy of the net on rows of x; also returns every hidden pre-activation. */
export function referenceLoss(net: ReferenceNet, x: Float64Array, labels: number[]): { loss: number; preactivations: number[] } {
  const batch = labels.length;
  const preactivations: number[] = [];
  let total = 0;
  for (let r = 0; r < batch; r++) {
    let h = Array.from(x.subarray(r * net.shapes[0][0], (r + 1) * net.shapes[0][0]));
    let offset = 0;
    net.shapes.forEach(([inSize, outSize], k) => {
      const next: number[] = [];
      for (let o = 0; o < outSize; o++) {
        let z = net.params[offset + inSize * outSize + o];
        for (let i = 0; i < inSize; i++) z += net.params[offset + o * inSize + i] * h[i];
        next.push(z);
      }
      offset += inSize * outSize + outSize;
      if (k < net.shapes.length - 1) {
        preactivations.push(...next);
        h = next.map(net.activation);
      } else {
        h = next;
      }
    });
    const max = Math.max(...h);
    const logSum = Math.log(h.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    total += logSum - h[labels[r]];
  }
  return { loss: total / batch, preactivations };
}
