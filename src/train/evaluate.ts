// Test-set evaluation: accuracy and mean loss over the whole split, in order, without shuffling.
import type { MnistSplit } from "../data/mnist.js";
import { InputError } from "../errors.js";
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
  requireSplitFitsModel(model, split);
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

/**
 * Refuses a split the model cannot score: images of another pixel count would be read past or
 * short of their rows, and a label without a logit would be read as a class by the loss and
 * countCorrect kernels (past the logits row). Costs one pass over the labels.
 */
export function requireSplitFitsModel(model: Mlp, split: MnistSplit): void {
  const { inSize, outSize } = model.config;
  if (split.rows * split.cols !== inSize) {
    throw new InputError(`the images are ${split.rows}×${split.cols} = ${split.rows * split.cols} pixels, but the model takes ${inSize} inputs`);
  }
  for (let i = 0; i < split.count; i++) {
    if (split.labels[i] >= outSize) {
      throw new InputError(`label ${split.labels[i]} of image ${i} has no logit: the model has ${outSize} outputs (labels 0 to ${outSize - 1})`);
    }
  }
}

export function identityOrder(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}
