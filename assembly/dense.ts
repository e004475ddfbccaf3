// A dense layer in PyTorch's layout: W is [out, in], y = x·Wᵀ + b, together with the activation that
// follows it: the forward applies f to Z right after the product, while Z is in L1, and the backward
// turns the gradient it sends down into the lower layer's dZ directly.
import { activationForward } from "./activations";
import { gemmBroadcast, gemmBroadcastColumns, gemmNT, gemmNTPacked, gemmNTPackedColumns, gemmPacks } from "./gemm";

/**
 * Z[batch, out] = X[batch, in] · Wᵀ + b, and A = f(Z) when kind ≠ 0 (kind 0: no activation, A unused).
 * Wt is 0, or Wᵀ [in, out] kept by the caller: then the product broadcasts over its rows, which is
 * faster than gemmNT's dot products where the layer is narrow (K = 64: 41 against 34 GFLOP/s).
 * Without Wt, a layer too large for the unpacked kernels is packed straight from W (gemmNTPacked:
 * the same bits as with Wᵀ), so only layers that denseKeepsTransposed names need the copy.
 */
export function denseForward(
  Z: usize, A: usize, X: usize, W: usize, Wt: usize, b: usize, batch: i32, inSize: i32, outSize: i32, kind: i32, param: f32,
): void {
  if (Wt != 0) gemmBroadcast(Z, X, inSize, 1, Wt, b, batch, outSize, inSize, 0, 0, 0, 0);
  else if (gemmPacks(inSize, outSize)) gemmNTPacked(Z, X, W, b, batch, outSize, inSize);
  else gemmNT(Z, X, W, b, batch, outSize, inSize);
  if (kind != 0) activationForward(kind, A, Z, batch * outSize, param);
}

/**
 * Columns (outputs) n0 ... n1 − 1 of denseForward for a layer that packs straight from W (no Wᵀ
 * kept), for a thread given that band: the product through gemmNTPackedColumns, then f on the band
 * of each row. The same bits as the whole call there.
 */
export function denseForwardColumns(
  Z: usize, A: usize, X: usize, W: usize, b: usize, batch: i32, inSize: i32, outSize: i32, kind: i32, param: f32, n0: i32, n1: i32,
): void {
  gemmNTPackedColumns(Z, X, W, b, batch, outSize, inSize, n0, n1);
  if (kind == 0) return;
  const rowBytes = <usize>outSize << 2;
  const offset = <usize>n0 << 2;
  for (let m = 0; m < batch; m++) {
    const at = <usize>m * rowBytes + offset;
    activationForward(kind, A + at, Z + at, n1 - n0, param);
  }
}

/**
 * Whether a layer [out, in] gains from a kept Wᵀ: only where the product reads its right operand
 * unpacked. Wider layers pack their panels from W itself and give the same bits without the copy.
 */
export function denseKeepsTransposed(inSize: i32, outSize: i32): bool {
  return !gemmPacks(inSize, outSize);
}

/**
 * Given dY = ∂L/∂Y [batch, out] and the layer input X: dW = dYᵀ·X and db = Σ_rows dY (overwritten).
 * Unless dX is 0 (the first layer, whose input needs no gradient), dX = dY·W; when kind ≠ 0, X is
 * f(Zbelow) of the layer below and dX receives that layer's dZ = f'(Zbelow) ⊙ (dY·W) instead.
 */
export function denseBackward(
  dX: usize, dW: usize, db: usize, dY: usize, X: usize, W: usize, batch: i32, inSize: i32, outSize: i32,
  kind: i32, Zbelow: usize, param: f32,
): void {
  denseBackwardBand(dX, dW, dY, X, W, batch, inSize, outSize, kind, Zbelow, param, 0, outSize, 0, inSize);
  columnSums(db, dY, batch, outSize);
}

/**
 * denseBackward's two products for dW's rows o0 ... o1 − 1 and dX's columns n0 ... n1 − 1 (db
 * apart), for a thread given those bands; the whole ranges are the whole products. A band of dX
 * packs only its own columns of W (gemmBroadcastColumns), and gives the whole call's bits there.
 */
export function denseBackwardBand(
  dX: usize, dW: usize, dY: usize, X: usize, W: usize, batch: i32, inSize: i32, outSize: i32,
  kind: i32, Zbelow: usize, param: f32, o0: i32, o1: i32, n0: i32, n1: i32,
): void {
  if (o1 > o0) gemmBroadcast(dW + <usize>o0 * (<usize>inSize << 2), dY + (<usize>o0 << 2), 1, outSize, X, 0, o1 - o0, inSize, batch, 0, 0, 0, 0);
  if (dX == 0 || n1 <= n0) return;
  if (n0 == 0 && n1 == inSize) gemmBroadcast(dX, dY, outSize, 1, W, 0, batch, inSize, outSize, kind, Zbelow, X, param);
  else gemmBroadcastColumns(dX, dY, outSize, 1, W, 0, batch, inSize, outSize, kind, Zbelow, X, param, n0, n1);
}

/**
 * s[cols] = Σ_r M[r, cols], each column summed from row 0 down. The rows are read in order, in
 * blocks of 256 columns whose sums stay in L1: reading down 4 columns at a time went through lines
 * cols·4 bytes apart, which for wide matrices all fall in a few sets of L1.
 */
export function columnSums(s: usize, M: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const vectorCols = cols & ~3;
  for (let cb = 0; cb < vectorCols; cb += 256) {
    const end = <usize>min(cb + 256, vectorCols) << 2;
    for (let c = <usize>cb << 2; c < end; c += 16) v128.store(s + c, f32x4.splat(0));
    let p = M;
    for (let r = 0; r < rows; r++) {
      let c = <usize>cb << 2;
      // Four vectors per turn of the loop (784 × 64: 4.5 → 4.0 µs).
      for (; c + 64 <= end; c += 64) {
        v128.store(s + c, f32x4.add(v128.load(s + c), v128.load(p + c)));
        v128.store(s + c, f32x4.add(v128.load(s + c, 16), v128.load(p + c, 16)), 16);
        v128.store(s + c, f32x4.add(v128.load(s + c, 32), v128.load(p + c, 32)), 32);
        v128.store(s + c, f32x4.add(v128.load(s + c, 48), v128.load(p + c, 48)), 48);
      }
      for (; c < end; c += 16) v128.store(s + c, f32x4.add(v128.load(s + c), v128.load(p + c)));
      p += rowBytes;
    }
  }
  for (let c = vectorCols; c < cols; c++) {
    let acc: f32 = 0;
    for (let r = 0; r < rows; r++) acc += load<f32>(M + ((<usize>r * <usize>cols + <usize>c) << 2));
    store<f32>(s + (<usize>c << 2), acc);
  }
}
