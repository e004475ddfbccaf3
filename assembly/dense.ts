// A dense layer in PyTorch's layout: W is [out, in], y = x·Wᵀ + b.
import { gemmBroadcast, transpose } from "./gemm";

/**
 * Y[batch, out] = X[batch, in] · Wᵀ + b. Wt is a scratch panel of in·out floats that receives Wᵀ,
 * so the product runs as a broadcast GEMM over contiguous rows of Wᵀ.
 */
export function denseForward(Y: usize, X: usize, W: usize, b: usize, Wt: usize, batch: i32, inSize: i32, outSize: i32): void {
  transpose(Wt, W, outSize, inSize);
  gemmBroadcast(Y, X, inSize, 1, Wt, b, batch, outSize, inSize);
}

/**
 * Given dY = ∂L/∂Y [batch, out] and the layer input X: dW = dYᵀ·X, db = Σ_rows dY, and, unless
 * dX is 0 (the first layer, whose input needs no gradient), dX = dY·W. All outputs are overwritten.
 */
export function denseBackward(
  dX: usize, dW: usize, db: usize, dY: usize, X: usize, W: usize, batch: i32, inSize: i32, outSize: i32,
): void {
  gemmBroadcast(dW, dY, 1, outSize, X, 0, outSize, inSize, batch);
  columnSums(db, dY, batch, outSize);
  if (dX != 0) gemmBroadcast(dX, dY, outSize, 1, W, 0, batch, inSize, outSize);
}

/** s[cols] = Σ_r M[r, cols]. */
export function columnSums(s: usize, M: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    let acc = f32x4.splat(0);
    let p = M + (<usize>c << 2);
    for (let r = 0; r < rows; r++) {
      acc = f32x4.add(acc, v128.load(p));
      p += rowBytes;
    }
    v128.store(s + (<usize>c << 2), acc);
  }
  for (; c < cols; c++) {
    let acc: f32 = 0;
    for (let r = 0; r < rows; r++) acc += load<f32>(M + ((<usize>r * <usize>cols + <usize>c) << 2));
    store<f32>(s + (<usize>c << 2), acc);
  }
}
