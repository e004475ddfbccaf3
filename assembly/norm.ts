// Normalisation layers, as PyTorch's BatchNorm1d and LayerNorm (affine, eps 1e-5) define them. Each is
// a forward/backward pair; the backward writes dX over dY when they are the same buffer (every
// element is read before it is written), so the engine needs no third gradient buffer.
//
// Four features at a time. Batch norm's forward walks the rows in order, keeping its per-feature
// sums in the mean and rstd vectors; its backward walks down each column of four with the sums in
// registers (measured faster there); layer norm keeps its per-row sums in registers. The statistics use two passes (mean,
// then Σ(x − mean)²), which keeps the variance exact for inputs far from zero.
import { loadLanes as partialLoad, storeLanes as partialStore } from "./lanes";

// Whole vectors load and store directly; only the last n mod 4 features go lane by lane.
// @ts-ignore: decorator
@inline function loadLanes(p: usize, lanes: i32): v128 {
  return lanes == 4 ? v128.load(p) : partialLoad(p, lanes);
}
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, lanes: i32): void {
  if (lanes == 4) v128.store(p, v);
  else partialStore(p, v, lanes);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * BatchNorm1d forward over X [batch, n] into Y [batch, n] (Y may not alias X), with gamma, beta [n].
 * training ≠ 0: normalises by the batch's mean and biased variance, saves mean and rstd = 1/√(var + eps)
 * [n] for the backward, moves runningMean/runningVar [n] toward the batch's mean and UNBIASED
 * variance by `momentum` (PyTorch's convention; needs batch ≥ 2), and adds 1 to the f32 at
 * batchesTracked (num_batches_tracked). training = 0: eval mode, normalises by the running
 * statistics and writes nothing else.
 *
 * The column sums run row by row, accumulating in mean and rstd themselves: each feature's sum is
 * its own chain, so the adds of a row overlap instead of waiting on one another down a column.
 */
export function batchNormForward(
  Y: usize, X: usize, gamma: usize, beta: usize, mean: usize, rstd: usize, runningMean: usize, runningVar: usize,
  batchesTracked: usize, batch: i32, n: i32, training: i32, momentum: f32, eps: f32,
): void {
  const rowBytes = <usize>n << 2;
  const epsilon = f32x4.splat(eps);
  const one = f32x4.splat(1);
  if (training != 0) {
    store<f32>(batchesTracked, load<f32>(batchesTracked) + 1);
    const inverseBatch = f32x4.splat(<f32>1 / <f32>batch);
    memory.fill(mean, 0, rowBytes);
    memory.fill(rstd, 0, rowBytes);
    for (let row = 0; row < batch; row++) {
      const x = X + <usize>row * rowBytes;
      for (let c = 0; c < n; c += 4) {
        const lanes = min(4, n - c);
        const o = <usize>c << 2;
        storeLanes(mean + o, f32x4.add(loadLanes(mean + o, lanes), loadLanes(x + o, lanes)), lanes);
      }
    }
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      storeLanes(mean + (<usize>c << 2), f32x4.mul(loadLanes(mean + (<usize>c << 2), lanes), inverseBatch), lanes);
    }
    // Σ(x − μ)², in rstd until it becomes 1/√(var + eps).
    for (let row = 0; row < batch; row++) {
      const x = X + <usize>row * rowBytes;
      for (let c = 0; c < n; c += 4) {
        const lanes = min(4, n - c);
        const o = <usize>c << 2;
        const d = f32x4.sub(loadLanes(x + o, lanes), loadLanes(mean + o, lanes));
        storeLanes(rstd + o, f32x4.add(loadLanes(rstd + o, lanes), f32x4.mul(d, d)), lanes);
      }
    }
    const keep = f32x4.splat(1 - momentum);
    const move = f32x4.splat(momentum);
    const unbias = f32x4.splat(<f32>batch / <f32>max(batch - 1, 1));
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      const o = <usize>c << 2;
      const variance = f32x4.mul(loadLanes(rstd + o, lanes), inverseBatch);
      storeLanes(rstd + o, f32x4.div(one, f32x4.sqrt(f32x4.add(variance, epsilon))), lanes);
      storeLanes(runningMean + o, f32x4.add(f32x4.mul(keep, loadLanes(runningMean + o, lanes)), f32x4.mul(move, loadLanes(mean + o, lanes))), lanes);
      storeLanes(runningVar + o, f32x4.add(f32x4.mul(keep, loadLanes(runningVar + o, lanes)), f32x4.mul(move, f32x4.mul(variance, unbias))), lanes);
    }
  }
  // y = (x − μ)·(γ·rstd) + β, with μ and rstd the batch's (training) or the running ones (eval).
  const mu = training != 0 ? mean : runningMean;
  for (let row = 0; row < batch; row++) {
    const x = X + <usize>row * rowBytes;
    const y = Y + <usize>row * rowBytes;
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      const o = <usize>c << 2;
      const r = training != 0 ? loadLanes(rstd + o, lanes) : f32x4.div(one, f32x4.sqrt(f32x4.add(loadLanes(runningVar + o, lanes), epsilon)));
      const scale = f32x4.mul(loadLanes(gamma + o, lanes), r);
      storeLanes(y + o, f32x4.add(f32x4.mul(f32x4.sub(loadLanes(x + o, lanes), loadLanes(mu + o, lanes)), scale), loadLanes(beta + o, lanes)), lanes);
    }
  }
}

/**
 * BatchNorm1d backward in training mode, given dY [batch, n], the forward's input X and its saved
 * mean and rstd [n]: dBeta = Σ dY, dGamma = Σ dY·x̂ (overwritten), and
 * dX = γ·rstd·(dY − (dBeta + x̂·dGamma)/batch) [batch, n], which may be written over dY.
 */
export function batchNormBackward(
  dX: usize, dGamma: usize, dBeta: usize, dY: usize, X: usize, gamma: usize, mean: usize, rstd: usize, batch: i32, n: i32,
): void {
  const rowBytes = <usize>n << 2;
  const inverseBatch = f32x4.splat(<f32>1 / <f32>batch);
  // Column by column (four features at a time): the sums stay in registers.
  for (let c = 0; c < n; c += 4) {
    const lanes = min(4, n - c);
    const o = <usize>c << 2;
    const mu = loadLanes(mean + o, lanes);
    const r = loadLanes(rstd + o, lanes);
    // Two rows at a time into two pairs of sums: the adds down a column are a chain, and two chains
    // overlap where one would wait on each add.
    let db = f32x4.splat(0);
    let dg = f32x4.splat(0);
    let db2 = f32x4.splat(0);
    let dg2 = f32x4.splat(0);
    let row = 0;
    for (; row + 2 <= batch; row += 2) {
      const p = <usize>row * rowBytes + o;
      const dy = loadLanes(dY + p, lanes);
      const dy2 = loadLanes(dY + p + rowBytes, lanes);
      db = f32x4.add(db, dy);
      db2 = f32x4.add(db2, dy2);
      dg = f32x4.add(dg, f32x4.mul(dy, f32x4.mul(f32x4.sub(loadLanes(X + p, lanes), mu), r)));
      dg2 = f32x4.add(dg2, f32x4.mul(dy2, f32x4.mul(f32x4.sub(loadLanes(X + p + rowBytes, lanes), mu), r)));
    }
    for (; row < batch; row++) {
      const p = <usize>row * rowBytes + o;
      const dy = loadLanes(dY + p, lanes);
      db = f32x4.add(db, dy);
      dg = f32x4.add(dg, f32x4.mul(dy, f32x4.mul(f32x4.sub(loadLanes(X + p, lanes), mu), r)));
    }
    db = f32x4.add(db, db2);
    dg = f32x4.add(dg, dg2);
    storeLanes(dBeta + o, db, lanes);
    storeLanes(dGamma + o, dg, lanes);
    const scale = f32x4.mul(loadLanes(gamma + o, lanes), r);
    const meanDb = f32x4.mul(db, inverseBatch);
    const meanDg = f32x4.mul(dg, inverseBatch);
    for (let row = 0; row < batch; row++) {
      const p = <usize>row * rowBytes + o;
      const xhat = f32x4.mul(f32x4.sub(loadLanes(X + p, lanes), mu), r);
      const g = f32x4.sub(f32x4.sub(loadLanes(dY + p, lanes), meanDb), f32x4.mul(xhat, meanDg));
      storeLanes(dX + p, f32x4.mul(scale, g), lanes);
    }
  }
}

/**
 * LayerNorm over the last dimension: each row of X [batch, n] normalised by its own mean and biased
 * variance, then y = x̂·γ + β with gamma, beta [n]; Y may not alias X. Saves mean and rstd [batch].
 * The same in training and eval (no running statistics).
 */
export function layerNormForward(Y: usize, X: usize, gamma: usize, beta: usize, mean: usize, rstd: usize, batch: i32, n: i32, eps: f32): void {
  const rowBytes = <usize>n << 2;
  for (let row = 0; row < batch; row++) {
    const x = X + <usize>row * rowBytes;
    const y = Y + <usize>row * rowBytes;
    let sum = f32x4.splat(0);
    for (let c = 0; c < n; c += 4) sum = f32x4.add(sum, loadLanes(x + (<usize>c << 2), min(4, n - c)));
    const m: f32 = hsum(sum) / <f32>n;
    const mu = f32x4.splat(m);
    let squares = f32x4.splat(0);
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      // Lanes past the end load as 0: mask their (0 − μ)² out.
      const d = f32x4.sub(loadLanes(x + (<usize>c << 2), lanes), mu);
      const kept = lanes == 4 ? d : laneMask(d, lanes);
      squares = f32x4.add(squares, f32x4.mul(kept, kept));
    }
    const s: f32 = <f32>1 / Mathf.sqrt(hsum(squares) / <f32>n + eps);
    store<f32>(mean + (<usize>row << 2), m);
    store<f32>(rstd + (<usize>row << 2), s);
    const r = f32x4.splat(s);
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(loadLanes(x + o, lanes), mu), r);
      storeLanes(y + o, f32x4.add(f32x4.mul(xhat, loadLanes(gamma + o, lanes)), loadLanes(beta + o, lanes)), lanes);
    }
  }
}

/**
 * LayerNorm backward, given dY [batch, n], the forward's input X and its saved mean and rstd [batch]:
 * dBeta = Σ_rows dY, dGamma = Σ_rows dY·x̂ (overwritten), and per row, with g = dY·γ,
 * dX = rstd·(g − mean(g) − x̂·mean(g·x̂)) [batch, n], which may be written over dY.
 */
export function layerNormBackward(
  dX: usize, dGamma: usize, dBeta: usize, dY: usize, X: usize, gamma: usize, mean: usize, rstd: usize, batch: i32, n: i32,
): void {
  const rowBytes = <usize>n << 2;
  memory.fill(dGamma, 0, rowBytes);
  memory.fill(dBeta, 0, rowBytes);
  const inverseN: f32 = <f32>1 / <f32>n;
  for (let row = 0; row < batch; row++) {
    const x = X + <usize>row * rowBytes;
    const dy = dY + <usize>row * rowBytes;
    const dx = dX + <usize>row * rowBytes;
    const mu = f32x4.splat(load<f32>(mean + (<usize>row << 2)));
    const r = f32x4.splat(load<f32>(rstd + (<usize>row << 2)));
    let sumG = f32x4.splat(0);
    let sumGx = f32x4.splat(0);
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      const o = <usize>c << 2;
      const d = loadLanes(dy + o, lanes);
      const xhat = f32x4.mul(f32x4.sub(loadLanes(x + o, lanes), mu), r);
      // Past the end, d and γ load as 0, so g and g·x̂ are 0 there and the sums need no mask.
      const g = f32x4.mul(d, loadLanes(gamma + o, lanes));
      sumG = f32x4.add(sumG, g);
      sumGx = f32x4.add(sumGx, f32x4.mul(g, xhat));
      storeLanes(dBeta + o, f32x4.add(loadLanes(dBeta + o, lanes), d), lanes);
      storeLanes(dGamma + o, f32x4.add(loadLanes(dGamma + o, lanes), f32x4.mul(d, xhat)), lanes);
    }
    const meanG = f32x4.splat(hsum(sumG) * inverseN);
    const meanGx = f32x4.splat(hsum(sumGx) * inverseN);
    for (let c = 0; c < n; c += 4) {
      const lanes = min(4, n - c);
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(loadLanes(x + o, lanes), mu), r);
      const g = f32x4.mul(loadLanes(dy + o, lanes), loadLanes(gamma + o, lanes));
      storeLanes(dx + o, f32x4.mul(r, f32x4.sub(f32x4.sub(g, meanG), f32x4.mul(xhat, meanGx))), lanes);
    }
  }
}

/** v with the lanes from `lanes` on set to 0. */
// @ts-ignore: decorator
@inline function laneMask(v: v128, lanes: i32): v128 {
  let m = v;
  if (lanes < 4) m = f32x4.replace_lane(m, 3, 0);
  if (lanes < 3) m = f32x4.replace_lane(m, 2, 0);
  if (lanes < 2) m = f32x4.replace_lane(m, 1, 0);
  return m;
}
