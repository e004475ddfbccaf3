// An independent float64 MLP written from the textbook formulas, for checking the kernels'
// gradients against central finite differences. It shares no code with the engine.
import { ACTIVATIONS, type ActivationName } from "../../src/activations.js";

/**
 * The activation as the catalogue's float64 reference computes it (src/activations.ts): not the
 * engine's code, so finite differences of this net check the kernels' derivatives, and the
 * catalogue's output too.
 */
export function referenceActivation(name: ActivationName, param: number): (x: number, learned?: number) => number {
  const { output } = ACTIVATIONS[name].reference;
  return (x, learned) => output(x, learned ?? param);
}

export interface ReferenceNet {
  shapes: Array<[number, number]>;
  /** Flat parameters in the engine's order: W0 [out, in], b0, W1, b1, ... (a0 after b0, ... if learnedSlope) */
  params: Float64Array;
  /** `learned` is the layer's slope where the activation learns one (PReLU). */
  activation: (x: number, learned?: number) => number;
  /** Each hidden layer's activation has one learned parameter, stored after its Linear's bias. */
  learnedSlope?: boolean;
  /**
   * rrelu in training: each hidden layer's slopes [batch, width] (row-major), one per element, in
   * place of `activation`: z where z > 0, else z·slope.
   */
  slopes?: ArrayLike<number>[];
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
        const learned = net.learnedSlope ? net.params[offset++] : undefined;
        const slopes = net.slopes?.[k];
        h = next.map((z, o) => (slopes ? (z > 0 ? z : z * slopes[r * outSize + o]) : net.activation(z, learned)));
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
