// Test-set evaluation: accuracy and mean loss over the whole split, in order, without shuffling.
import type { MnistSplit } from "../data/mnist.js";
import type { Mlp, Normalization } from "../engine/mlp.js";

export interface Evaluation {
  accuracy: number;
  loss: number;
  correct: number;
  count: number;
}

/** Called after each evaluation batch's forward pass, while the model's buffers hold that batch. */
export type BatchObserver = (model: Mlp, count: number) => void;

export function evaluate(
  model: Mlp, split: MnistSplit, batchSize: number, normalization: Normalization, observe?: BatchObserver,
  identity: ArrayLike<number> = identityOrder(split.count),
): Evaluation {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const count = Math.min(batchSize, split.count - start);
    model.input.loadBatch(split.images, split.labels, identity, start, count, normalization);
    model.forward(count, "eval");
    lossSum += model.loss(count) * count;
    correct += model.correct(count);
    observe?.(model, count);
  }
  return { accuracy: correct / split.count, loss: lossSum / split.count, correct, count: split.count };
}

export function identityOrder(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}
