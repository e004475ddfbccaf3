// Mean softmax cross-entropy over a batch, as nn.CrossEntropyLoss(reduction='mean').

/**
 * Writes the softmax of each row of logits [batch, classes] into probs and returns the mean loss.
 * Sums run in f64: they are few, and the loss is what users read.
 */
export function softmaxCrossEntropyForward(probs: usize, logits: usize, labels: usize, batch: i32, classes: i32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < batch; r++) {
    const row = logits + ((<usize>r * <usize>classes) << 2);
    const out = probs + ((<usize>r * <usize>classes) << 2);
    let max: f64 = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, <f64>load<f32>(row + (<usize>c << 2)));
    let sum: f64 = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - max);
    const logSum = Math.log(sum);
    for (let c = 0; c < classes; c++) {
      store<f32>(out + (<usize>c << 2), <f32>Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - max - logSum));
    }
    const label = <i32>load<u8>(labels + <usize>r);
    total += logSum + max - <f64>load<f32>(row + (<usize>label << 2));
  }
  return total / <f64>batch;
}

/** dLogits = (probs − onehot(labels)) / batch: the gradient of the mean loss. */
export function softmaxCrossEntropyBackward(dLogits: usize, probs: usize, labels: usize, batch: i32, classes: i32): void {
  const scale: f32 = 1 / <f32>batch;
  for (let r = 0; r < batch; r++) {
    const label = <i32>load<u8>(labels + <usize>r);
    for (let c = 0; c < classes; c++) {
      const i = (<usize>r * <usize>classes + <usize>c) << 2;
      const p = load<f32>(probs + i);
      store<f32>(dLogits + i, (c == label ? p - 1 : p) * scale);
    }
  }
}

/** How many rows of logits have their (first) largest entry at the label, as torch.argmax picks it. */
export function countCorrect(logits: usize, labels: usize, batch: i32, classes: i32): i32 {
  let correct = 0;
  for (let r = 0; r < batch; r++) {
    const row = logits + ((<usize>r * <usize>classes) << 2);
    let best = 0;
    let bestValue = load<f32>(row);
    for (let c = 1; c < classes; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      if (v > bestValue) { best = c; bestValue = v; }
    }
    if (best == <i32>load<u8>(labels + <usize>r)) correct++;
  }
  return correct;
}
