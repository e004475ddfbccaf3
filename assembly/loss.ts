// Mean softmax cross-entropy over a batch, as nn.CrossEntropyLoss(reduction='mean').
import { loadLanes, storeLanes } from "./lanes";
import { exp4 } from "./vmath";

/**
 * Writes the softmax of each row of logits [batch, classes] into probs and returns the mean loss.
 * The exponentials run four lanes at a time in f32 (within an ulp, see vmath.ts); the sums, the log
 * and the loss run in f64: they are few, and the loss is what users read.
 */
export function softmaxCrossEntropyForward(probs: usize, logits: usize, labels: usize, batch: i32, classes: i32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < batch; r++) {
    const row = logits + ((<usize>r * <usize>classes) << 2);
    const out = probs + ((<usize>r * <usize>classes) << 2);
    // max() passes NaN on, so a diverged row gives a NaN loss.
    let largest: f32 = load<f32>(row);
    for (let c = 1; c < classes; c++) largest = max(largest, load<f32>(row + (<usize>c << 2)));
    const shift = f32x4.splat(largest);
    let sum: f64 = 0;
    for (let c = 0; c < classes; c += 4) {
      const lanes = min(4, classes - c);
      const o = <usize>c << 2;
      const e = exp4(f32x4.sub(loadLanes(row + o, lanes), shift));
      storeLanes(out + o, e, lanes);
      sum += <f64>f32x4.extract_lane(e, 0);
      if (lanes > 1) sum += <f64>f32x4.extract_lane(e, 1);
      if (lanes > 2) sum += <f64>f32x4.extract_lane(e, 2);
      if (lanes > 3) sum += <f64>f32x4.extract_lane(e, 3);
    }
    const scale = f32x4.splat(<f32>(1 / sum));
    for (let c = 0; c < classes; c += 4) {
      const lanes = min(4, classes - c);
      const o = <usize>c << 2;
      storeLanes(out + o, f32x4.mul(loadLanes(out + o, lanes), scale), lanes);
    }
    // loss = ln Σ e^(x−max) + (max − x_label). The margin comes first, in f64: adding ln(sum) ≤ ln(classes)
    // to a max of 1e16 and then taking x_label away would round ln(sum) off (1e16 + 2.3 − 1e16 = 0 in f64).
    // The margin of two f32 values is exact or correctly rounded in f64 (it may exceed f32's range at
    // ±3e38), and sum ≥ 1 (the max contributes e^0), so no step cancels or overflows at any finite logit.
    // x − max in f32 may be −∞ when max − min overflows; exp4 clamps it to 0, which e^(x−max) is.
    const label = <i32>load<u8>(labels + <usize>r);
    const margin = <f64>largest - <f64>load<f32>(row + (<usize>label << 2));
    total += margin + Math.log(sum);
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
