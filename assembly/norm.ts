// Normalisation layers, as PyTorch's BatchNorm1d and LayerNorm (affine, eps 1e-5) define them. Each is
// a forward/backward pair; the backward writes dX over dY when they are the same buffer (every
// element is read before it is written), so the engine needs no third gradient buffer.
//
// Batch norm works down the columns, four features at a time (the rows of a column are a strided
// walk, as in columnSums); layer norm works along each row. The statistics use two passes (mean,
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
 * [n] for the backward, and moves runningMean/runningVar [n] toward the batch's mean and UNBIASED
 * variance by `momentum` (PyTorch's convention; needs batch ≥ 2), and adds 1 to the f32 at
 * batchesTracked (num_batches_tracked). training = 0: eval mode, normalises by the running
 * statistics and writes nothing else.
 */
export function batchNormForward(
  Y: usize, X: usize, gamma: usize, beta: usize, mean: usize, rstd: usize, runningMean: usize, runningVar: usize,
  batchesTracked: usize, batch: i32, n: i32, training: i32, momentum: f32, eps: f32,
): void {
  if (training != 0) store<f32>(batchesTracked, load<f32>(batchesTracked) + 1);
  const rowBytes = <usize>n << 2;
  const keep = f32x4.splat(1 - momentum);
  const move = f32x4.splat(momentum);
  const epsilon = f32x4.splat(eps);
  const inverseBatch = f32x4.splat(<f32>1 / <f32>batch);
  const unbias = f32x4.splat(<f32>batch / <f32>max(batch - 1, 1));
  for (let c = 0; c < n; c += 4) {
    const lanes = min(4, n - c);
    const o = <usize>c << 2;
    let mu: v128;
    let r: v128;
    if (training != 0) {
      let sum = f32x4.splat(0);
      for (let row = 0; row < batch; row++) sum = f32x4.add(sum, loadLanes(X + <usize>row * rowBytes + o, lanes));
      mu = f32x4.mul(sum, inverseBatch);
      let squares = f32x4.splat(0);
      for (let row = 0; row < batch; row++) {
        const d = f32x4.sub(loadLanes(X + <usize>row * rowBytes + o, lanes), mu);
        squares = f32x4.add(squares, f32x4.mul(d, d));
      }
      const variance = f32x4.mul(squares, inverseBatch);
      r = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(variance, epsilon)));
      storeLanes(mean + o, mu, lanes);
      storeLanes(rstd + o, r, lanes);
      storeLanes(runningMean + o, f32x4.add(f32x4.mul(keep, loadLanes(runningMean + o, lanes)), f32x4.mul(move, mu)), lanes);
      storeLanes(runningVar + o, f32x4.add(f32x4.mul(keep, loadLanes(runningVar + o, lanes)), f32x4.mul(move, f32x4.mul(variance, unbias))), lanes);
    } else {
      mu = loadLanes(runningMean + o, lanes);
      r = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(loadLanes(runningVar + o, lanes), epsilon)));
    }
    // y = (x − μ)·(γ·rstd) + β
    const scale = f32x4.mul(loadLanes(gamma + o, lanes), r);
    const shift = loadLanes(beta + o, lanes);
    for (let row = 0; row < batch; row++) {
      const p = <usize>row * rowBytes + o;
      storeLanes(Y + p, f32x4.add(f32x4.mul(f32x4.sub(loadLanes(X + p, lanes), mu), scale), shift), lanes);
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
  for (let c = 0; c < n; c += 4) {
    const lanes = min(4, n - c);
    const o = <usize>c << 2;
    const mu = loadLanes(mean + o, lanes);
    const r = loadLanes(rstd + o, lanes);
    let db = f32x4.splat(0);
    let dg = f32x4.splat(0);
    for (let row = 0; row < batch; row++) {
      const p = <usize>row * rowBytes + o;
      const dy = loadLanes(dY + p, lanes);
      db = f32x4.add(db, dy);
      dg = f32x4.add(dg, f32x4.mul(dy, f32x4.mul(f32x4.sub(loadLanes(X + p, lanes), mu), r)));
    }
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
