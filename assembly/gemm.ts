// Matrix products for dense layers, over row-major f32 buffers addressed by byte pointers.
//
// A dense layer needs three products. Two of them, dX = dY·W and dW = dYᵀ·X, have their right
// operand row-major along the summed index, so gemmBroadcast computes them by broadcasting one
// scalar of the left operand into a vector of the right one (no horizontal sums; the left operand
// is read through element strides, as it is or transposed, without a copy). The forward product
// X·Wᵀ sums along the rows of both operands, so gemmNT takes dot products of contiguous rows: no
// transposed copy of W is ever made, which used to cost a pass over W on every forward.
// (Applying the activation to each gemmNT tile as it leaves the registers was tried and measured
// slower for sigmoid and tanh: their exp and division then wait behind the product's multiply-adds
// instead of overlapping across a loop of their own. dense.ts runs the activation right after.)
//
// Both kernels keep a tile of C in registers: 8 accumulators of 4 lanes, as many as x86's 16 vector
// registers hold beside the operands, and enough independent multiply-add chains to cover the
// latency of the fused multiply-add. Edges go through the same tile code with the missing rows
// repeated (computed, never stored) and the missing columns masked, so no element takes a different
// arithmetic path because of where it sits.
import { activationBackward } from "./activations";
import { loadLanes, storeLanes, storeTransposed4, storeUpTo4 } from "./lanes";
import { madd } from "./vmath";

/** [Σ lanes of c0, Σ c1, Σ c2, Σ c3]: four horizontal sums in six shuffles and three adds. */
// @ts-ignore: decorator
@inline function sumLanes4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v128.shuffle<f32>(c0, c1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(c2, c3, 0, 4, 1, 5), v128.shuffle<f32>(c2, c3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** B[row n..n+3, k] for one k as a vector (the scalar-k tail of gemmNT). */
// @ts-ignore: decorator
@inline function column4(b0: usize, b1: usize, b2: usize, b3: usize, k: usize): v128 {
  let v = f32x4.splat(load<f32>(b0 + k));
  v = f32x4.replace_lane(v, 1, load<f32>(b1 + k));
  v = f32x4.replace_lane(v, 2, load<f32>(b2 + k));
  return f32x4.replace_lane(v, 3, load<f32>(b3 + k));
}

/**
 * C[M, N] = A[M, K] · B[N, K]ᵀ + bias[N] (bias 0: none).
 * Tiles are 2 rows of A by 4 rows of B, 4 values of k at a time. The loop over rows of A is the
 * inner one, so the 4 rows of B (12.5 KB for the 784-wide first layer) stay in L1 while A streams.
 */
export function gemmNT(C: usize, A: usize, B: usize, bias: usize, M: i32, N: i32, K: i32): void {
  const rowBytes = <usize>K << 2;
  const rowBytesC = <usize>N << 2;
  const vectorBytes = <usize>(K & ~3) << 2;
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n += 4) {
    const cols = min(4, N - n);
    const b0 = B + <usize>n * rowBytes;
    const b1 = B + <usize>min(n + 1, N - 1) * rowBytes;
    const b2 = B + <usize>min(n + 2, N - 1) * rowBytes;
    const b3 = B + <usize>min(n + 3, N - 1) * rowBytes;
    const biasV = bias != 0 ? loadLanes(bias + (<usize>n << 2), cols) : zero;
    for (let m = 0; m < M; m += 2) {
      const a0 = A + <usize>m * rowBytes;
      const a1 = A + <usize>min(m + 1, M - 1) * rowBytes;
      let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
      let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
      for (let k: usize = 0; k < vectorBytes; k += 16) {
        const x0 = v128.load(a0 + k);
        const x1 = v128.load(a1 + k);
        const w0 = v128.load(b0 + k);
        const w1 = v128.load(b1 + k);
        c00 = madd(x0, w0, c00); c10 = madd(x1, w0, c10);
        c01 = madd(x0, w1, c01); c11 = madd(x1, w1, c11);
        const w2 = v128.load(b2 + k);
        const w3 = v128.load(b3 + k);
        c02 = madd(x0, w2, c02); c12 = madd(x1, w2, c12);
        c03 = madd(x0, w3, c03); c13 = madd(x1, w3, c13);
      }
      let r0 = sumLanes4(c00, c01, c02, c03);
      let r1 = sumLanes4(c10, c11, c12, c13);
      for (let k = vectorBytes; k < rowBytes; k += 4) {
        const w = column4(b0, b1, b2, b3, k);
        r0 = madd(v128.load32_splat(a0 + k), w, r0);
        r1 = madd(v128.load32_splat(a1 + k), w, r1);
      }
      const c = C + <usize>m * rowBytesC + (<usize>n << 2);
      storeUpTo4(c, f32x4.add(r0, biasV), cols);
      if (m + 1 < M) storeUpTo4(c + rowBytesC, f32x4.add(r1, biasV), cols);
    }
  }
}

/**
 * C[M, N] = bias[N] + A(M, K) · B[K, N] with B row-major (bias 0: none); A(m, k) lives at
 * A + 4·(m·strideM + k·strideK).
 * When kind ≠ 0, C is a gradient dA and the kernel leaves f'(Z) ⊙ C there instead (Z and F = f(Z)
 * laid out like C). Operands that fit the caches go straight through gemmBroadcastDirect; larger
 * ones are blocked and packed (broadcastPacked). Both give the same bits.
 */
export function gemmBroadcast(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize, M: i32, N: i32, K: i32,
  kind: i32, Z: usize, F: usize, param: f32,
): void {
  if (!gemmPacks(K, N)) {
    gemmBroadcastDirect(C, A, strideM, strideK, B, bias, M, N, K, kind, Z, F, param);
    return;
  }
  broadcastPacked(C, A, strideM, strideK, B, false, bias, M, N, K, N);
  if (kind != 0) activationBackward(kind, C, C, Z, F, M * N, param);
}

/**
 * C[M, N] = A[M, K] · B[N, K]ᵀ + bias[N] (bias 0: none), with B read as it is stored (a layer's W
 * [out, in]): the packed kernel below, its panels of B gathered from B's rows (packBT). Gives the
 * bits gemmBroadcast gives with Bᵀ [K, N] as its right operand, so that a wide layer's forward needs
 * no transposed copy of W (16 MB at 2048 × 2048, and a pass over W after every step to refresh it).
 */
export function gemmNTPacked(C: usize, A: usize, B: usize, bias: usize, M: i32, N: i32, K: i32): void {
  broadcastPacked(C, A, K, 1, B, true, bias, M, N, K, N);
}

/**
 * Columns n0 ... n1 − 1 of gemmNTPacked's C (C, B and bias as for the whole product), for a thread
 * that computes one band of them: it packs only its own rows of B, where a band of C's rows would
 * pack all of B on every thread. Each element is computed as in the whole call (lanes never mix),
 * so a band gives the whole call's bits there.
 */
export function gemmNTPackedColumns(C: usize, A: usize, B: usize, bias: usize, M: i32, N: i32, K: i32, n0: i32, n1: i32): void {
  broadcastPacked(C + (<usize>n0 << 2), A, K, 1, B + <usize>n0 * (<usize>K << 2), true, bias != 0 ? bias + (<usize>n0 << 2) : 0, M, n1 - n0, K, N);
}

/**
 * Columns n0 ... n1 − 1 of gemmBroadcast's C, and of its fused backward (Z and F laid out like C),
 * for a thread's band; always the packed path, which gives the bits of the direct one.
 */
export function gemmBroadcastColumns(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize, M: i32, N: i32, K: i32,
  kind: i32, Z: usize, F: usize, param: f32, n0: i32, n1: i32,
): void {
  const offset = <usize>n0 << 2;
  broadcastPacked(C + offset, A, strideM, strideK, B + offset, false, bias != 0 ? bias + offset : 0, M, n1 - n0, K, N);
  if (kind == 0) return;
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const at = <usize>m * rowBytes + offset;
    activationBackward(kind, C + at, C + at, Z + at, F + at, n1 - n0, param);
  }
}

/**
 * gemmBroadcast for large operands, blocked for the caches and packed as GotoBLAS and BLIS do.
 * B [K, N] is too big for L2, and its rows are N·4 bytes apart: at N = 1024 a column panel's rows
 * all fall in the same L1 set, so unpacked it streams from L3 or memory once per strip of A. Here
 * K is cut into blocks of KC and M into blocks of MC; each block of A is packed once into
 * [MC/4][KC][4] (4 rows' values side by side), each block of NC columns of B into 8-column panels
 * [KC][8], each contiguous in L1, and the 4×8 register tile runs over both with unit strides. Every element still sums
 * bias + Σ_k in the order of k (a K block resumes from the value the last one stored, exactly), so
 * the result is bit-identical to the unpacked kernel's and does not depend on the blocking.
 */
function broadcastPacked(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bTransposed: bool, bias: usize, M: i32, N: i32, K: i32, ld: i32,
): void {
  // ld: the row length of C (and of B as [K, N]) in floats; N, or more for a band of a wider product.
  const rowBytesC = <usize>ld << 2;
  const sm = <usize>strideM << 2;
  const sk = <usize>strideK << 2;
  const zero = f32x4.splat(0);
  for (let kb = 0; kb < K; kb += KC) {
    const kLen = min(KC, K - kb);
    for (let mb = 0; mb < M; mb += MC) {
      const mLen = min(MC, M - mb);
      packA(A + <usize>mb * sm + <usize>kb * sk, sm, sk, mLen, M - mb, kLen);
      for (let nb = 0; nb < N; nb += NC) {
        if (bTransposed) packBT(B + <usize>nb * (<usize>K << 2) + (<usize>kb << 2), <usize>K << 2, min(NC, N - nb), kLen);
        else packB(B + <usize>kb * rowBytesC + (<usize>nb << 2), rowBytesC, min(NC, N - nb), kLen);
        for (let n = nb; n < min(nb + NC, N); n += 8) {
        const cols = min(8, N - n);
        const panel = PACK_B + <usize>(n - nb) * (<usize>kLen << 2);
        let left = zero, right = zero;
        if (kb == 0 && bias != 0) {
          left = loadLanes(bias + (<usize>n << 2), min(4, cols));
          if (cols > 4) right = loadLanes(bias + (<usize>n << 2) + 16, cols - 4);
        }
        for (let m = 0; m < mLen; m += 4) {
          const rows = min(4, mLen - m);
          const o = C + <usize>(mb + m) * rowBytesC + (<usize>n << 2);
          let c00 = left, c01 = right, c10 = left, c11 = right, c20 = left, c21 = right, c30 = left, c31 = right;
          if (kb != 0) {
            c00 = loadTile(o, cols, 0); c01 = loadTile(o, cols, 1);
            if (rows > 1) { c10 = loadTile(o + rowBytesC, cols, 0); c11 = loadTile(o + rowBytesC, cols, 1); }
            if (rows > 2) { c20 = loadTile(o + 2 * rowBytesC, cols, 0); c21 = loadTile(o + 2 * rowBytesC, cols, 1); }
            if (rows > 3) { c30 = loadTile(o + 3 * rowBytesC, cols, 0); c31 = loadTile(o + 3 * rowBytesC, cols, 1); }
          }
          let pa = PACK_A + <usize>m * (<usize>kLen << 2);
          let pb = panel;
          const end = pb + (<usize>kLen << 5);
          while (pb < end) {
            const b0 = v128.load(pb);
            const b1 = v128.load(pb, 16);
            const x0 = v128.load32_splat(pa);
            c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
            const x1 = v128.load32_splat(pa, 4);
            c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
            const x2 = v128.load32_splat(pa, 8);
            c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
            const x3 = v128.load32_splat(pa, 12);
            c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
            pa += 16;
            pb += 32;
          }
          storeTile(o, c00, c01, cols);
          if (rows > 1) storeTile(o + rowBytesC, c10, c11, cols);
          if (rows > 2) storeTile(o + 2 * rowBytesC, c20, c21, cols);
          if (rows > 3) storeTile(o + 3 * rowBytesC, c30, c31, cols);
        }
        }
      }
    }
  }
}

/** Rows of B per packed block: a [KC][8] panel of B is 8 KB, in L1 beside the strip of A it meets. */
const KC = 256;
/** Rows of A per packed block: [MC/4][KC][4] is 256 KB, in L2 while every panel of B passes over it. */
const MC = 256;
/**
 * Columns of B packed at a time, as NC/8 panels [KC][8] (64 KB, in L2): each row of B is read as
 * 256 contiguous bytes, whole cache lines that the prefetcher follows, where one 8-column panel at a
 * time read half a line per row and fetched every line twice (rows 8 KB apart at N = 2048 leave
 * none of them in L1 or L2 between the two halves).
 */
const NC = 64;
/** Bytes of PACK_A and PACK_B, the packing areas (a thread's own: see scratch.ts). */
export const GEMM_SCRATCH_BYTES: usize = MC * KC * 4 + KC * NC * 4;
// Globals, not constants: each instance over a shared memory (one per thread) points them at its own area.
let PACK_A: usize = memory.data(MC * KC * 4, 64);
let PACK_B: usize = memory.data(KC * NC * 4, 64);
/** Moves this instance's packing areas to `base` (GEMM_SCRATCH_BYTES, 64-byte aligned). */
export function useGemmScratch(base: usize): void {
  PACK_A = base;
  PACK_B = base + MC * KC * 4;
}
/** Up to this many floats in B, the unpacked kernel is as fast (B stays in L2 and packing would not pay). */
const UNPACKED_MAX_FLOATS: i64 = 16 * 1024;

/** Whether gemmBroadcast blocks and packs a right operand of K × N floats (else it reads it as it is). */
export function gemmPacks(K: i32, N: i32): bool {
  return <i64>K * <i64>N > UNPACKED_MAX_FLOATS;
}

/**
 * PACK_A[m/4][k][m%4] = A(m, k) for m < rows (rows rounded up to 4) and k < kLen; rows past
 * `available` repeat the last available one, as the unpacked kernel's edge tiles do.
 */
function packA(A: usize, sm: usize, sk: usize, rows: i32, available: i32, kLen: i32): void {
  const stripBytes = <usize>kLen << 4;
  for (let m = 0; m < rows; m += 4) {
    const a0 = A + <usize>m * sm;
    const a1 = A + <usize>min(m + 1, available - 1) * sm;
    const a2 = A + <usize>min(m + 2, available - 1) * sm;
    const a3 = A + <usize>min(m + 3, available - 1) * sm;
    let p = PACK_A + (<usize>(m >> 2)) * stripBytes;
    if (sm == 4) {
      // A read transposed (dW = dZᵀ·X): the 4 rows' values at one k are side by side already.
      let ka: usize = 0;
      for (let k = 0; k < kLen; k++) {
        if (m + 4 <= available) v128.store(p, v128.load(a0 + ka));
        else {
          v128.store(p, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(a0 + ka)),
            1, load<f32>(a1 + ka)), 2, load<f32>(a2 + ka)), 3, load<f32>(a3 + ka)));
        }
        p += 16;
        ka += sk;
      }
    } else {
      let ka: usize = 0;
      let k = 0;
      if (sk == 4) {
        // Rows stored along k: transpose 4×4 blocks.
        for (; k + 4 <= kLen; k += 4) {
          storeTransposed4(p, 16, v128.load(a0 + ka), v128.load(a1 + ka), v128.load(a2 + ka), v128.load(a3 + ka));
          p += 64;
          ka += 16;
        }
      }
      for (; k < kLen; k++) {
        v128.store(p, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(a0 + ka)),
          1, load<f32>(a1 + ka)), 2, load<f32>(a2 + ka)), 3, load<f32>(a3 + ka)));
        p += 16;
        ka += sk;
      }
    }
  }
}

/**
 * PACK_B's panels: panel j (columns 8j ... 8j + 7 of the block) at PACK_B + j·kLen·32, as [k][8], for
 * k < kLen and the block's `cols` columns; lanes past cols are zeros (computed, never stored).
 */
function packB(B: usize, rowBytes: usize, cols: i32, kLen: i32): void {
  const panelBytes = <usize>kLen << 5;
  const full = cols & ~7;
  let b = B;
  let p = PACK_B;
  for (let k = 0; k < kLen; k++) {
    let q = p;
    for (let c = 0; c < full; c += 8) {
      v128.store(q, v128.load(b + (<usize>c << 2)));
      v128.store(q, v128.load(b + (<usize>c << 2), 16), 16);
      q += panelBytes;
    }
    if (full < cols) {
      const e = b + (<usize>full << 2);
      const left = cols - full;
      v128.store(q, loadLanes(e, min(4, left)));
      v128.store(q, left > 4 ? loadLanes(e + 16, left - 4) : f32x4.splat(0), 16);
    }
    p += 32;
    b += rowBytes;
  }
}

/**
 * packB's panels from B stored the other way, [N, K] (row n at B + n·rowBytes): panel j holds
 * B[8j + c, k] at [k][c], the same values packB lays out from Bᵀ. Four rows of B at a time are read
 * 16 bytes along k and transposed in registers; rows past `cols` are zeros, and never read.
 */
function packBT(B: usize, rowBytes: usize, cols: i32, kLen: i32): void {
  const panelBytes = <usize>kLen << 5;
  const fullK = kLen & ~3;
  const zero = f32x4.splat(0);
  for (let c = 0; c < cols; c += 4) {
    // Lanes c ... c + 3 of panel c / 8, at byte 16 of each [8] row when c is the panel's second half.
    const p = PACK_B + <usize>(c >> 3) * panelBytes + (<usize>(c & 4) << 2);
    const rows = min(4, cols - c);
    const b0 = B + <usize>c * rowBytes;
    const b1 = rows > 1 ? b0 + rowBytes : 0;
    const b2 = rows > 2 ? b0 + 2 * rowBytes : 0;
    const b3 = rows > 3 ? b0 + 3 * rowBytes : 0;
    let q = p;
    let kb: usize = 0;
    for (let k = 0; k < fullK; k += 4) {
      const r1 = b1 != 0 ? v128.load(b1 + kb) : zero;
      const r2 = b2 != 0 ? v128.load(b2 + kb) : zero;
      const r3 = b3 != 0 ? v128.load(b3 + kb) : zero;
      storeTransposed4(q, 32, v128.load(b0 + kb), r1, r2, r3);
      q += 128;
      kb += 16;
    }
    for (let k = fullK; k < kLen; k++) {
      let v = f32x4.splat(load<f32>(b0 + kb));
      v = f32x4.replace_lane(v, 1, b1 != 0 ? load<f32>(b1 + kb) : 0);
      v = f32x4.replace_lane(v, 2, b2 != 0 ? load<f32>(b2 + kb) : 0);
      v128.store(q, f32x4.replace_lane(v, 3, b3 != 0 ? load<f32>(b3 + kb) : 0));
      q += 32;
      kb += 4;
    }
  }
  // A last panel with at most 4 columns: its right half is zeros, as packB leaves it.
  if ((cols & 7) != 0 && (cols & 7) <= 4) {
    let q = PACK_B + <usize>(cols >> 3) * panelBytes + 16;
    for (let k = 0; k < kLen; k++) {
      v128.store(q, zero);
      q += 32;
    }
  }
}

/** Half `half` (0: columns 0–3, 1: columns 4–7) of a row of a C tile `cols` wide. */
// @ts-ignore: decorator
@inline function loadTile(p: usize, cols: i32, half: i32): v128 {
  if (half == 0) return cols >= 4 ? v128.load(p) : loadLanes(p, cols);
  if (cols >= 8) return v128.load(p, 16);
  return cols > 4 ? loadLanes(p + 16, cols - 4) : f32x4.splat(0);
}

// @ts-ignore: decorator
@inline function storeTile(p: usize, left: v128, right: v128, cols: i32): void {
  if (cols == 8) {
    v128.store(p, left);
    v128.store(p, right, 16);
  } else {
    storeLanes(p, left, min(4, cols));
    if (cols > 4) storeLanes(p + 16, right, cols - 4);
  }
}

/**
 * gemmBroadcast for operands that fit the caches as they are: tiles of 4 rows by 8 columns straight
 * from A and B (4 by 4, then masked lanes, at the right edge). The activation's backward runs on each
 * strip of 4 rows as soon as it is done, while it is in L1, instead of in a pass of its own.
 * Exported so that the tests can hold the packed kernel to it bit for bit.
 */
export function gemmBroadcastDirect(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize, M: i32, N: i32, K: i32,
  kind: i32, Z: usize, F: usize, param: f32,
): void {
  const rowBytesB = <usize>N << 2;
  const sm = <usize>strideM << 2;
  const sk = <usize>strideK << 2;
  const zero = f32x4.splat(0);
  for (let m = 0; m < M; m += 4) {
    // Rows past M repeat the last one; their results are not stored.
    const a0 = A + <usize>m * sm;
    const a1 = A + <usize>min(m + 1, M - 1) * sm;
    const a2 = A + <usize>min(m + 2, M - 1) * sm;
    const a3 = A + <usize>min(m + 3, M - 1) * sm;
    const rows = min(4, M - m);
    const rowC = <usize>m * rowBytesB;
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let c00 = zero, c01 = zero;
      if (bias != 0) {
        c00 = v128.load(bias + (<usize>n << 2));
        c01 = v128.load(bias + (<usize>n << 2), 16);
      }
      let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
      let pb = B + (<usize>n << 2);
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const x0 = v128.load32_splat(a0 + ka);
        c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
        const x1 = v128.load32_splat(a1 + ka);
        c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
        const x2 = v128.load32_splat(a2 + ka);
        c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
        const x3 = v128.load32_splat(a3 + ka);
        c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
        pb += rowBytesB;
        ka += sk;
      }
      const o = C + rowC + (<usize>n << 2);
      v128.store(o, c00); v128.store(o, c01, 16);
      if (rows > 1) { v128.store(o + rowBytesB, c10); v128.store(o + rowBytesB, c11, 16); }
      if (rows > 2) { v128.store(o + 2 * rowBytesB, c20); v128.store(o + 2 * rowBytesB, c21, 16); }
      if (rows > 3) { v128.store(o + 3 * rowBytesB, c30); v128.store(o + 3 * rowBytesB, c31, 16); }
    }
    for (; n < N; n += 4) {
      const cols = min(4, N - n);
      let c0 = zero;
      if (bias != 0) c0 = loadLanes(bias + (<usize>n << 2), cols);
      let c1 = c0, c2 = c0, c3 = c0;
      let pb = B + (<usize>n << 2);
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b = cols == 4 ? v128.load(pb) : loadLanes(pb, cols);
        c0 = madd(v128.load32_splat(a0 + ka), b, c0);
        c1 = madd(v128.load32_splat(a1 + ka), b, c1);
        c2 = madd(v128.load32_splat(a2 + ka), b, c2);
        c3 = madd(v128.load32_splat(a3 + ka), b, c3);
        pb += rowBytesB;
        ka += sk;
      }
      const o = C + rowC + (<usize>n << 2);
      storeLanes(o, c0, cols);
      if (rows > 1) storeLanes(o + rowBytesB, c1, cols);
      if (rows > 2) storeLanes(o + 2 * rowBytesB, c2, cols);
      if (rows > 3) storeLanes(o + 3 * rowBytesB, c3, cols);
    }
    if (kind != 0) activationBackward(kind, C + rowC, C + rowC, Z + rowC, F + rowC, rows * N, param);
  }
}

/**
 * The one-core ceiling of this build's vector multiply-add: `iterations` × 10 independent madd
 * chains on values in registers (no loads), so that the benchmark can report each product against
 * what the core can do at all (80 flops per iteration). Ten chains cover the fused multiply-add's
 * latency on two pipes; the result is returned so that the work cannot be optimised away.
 */
export function simdCeiling(iterations: i32, seed: f32): f32 {
  const x = f32x4.splat(seed);
  const y = f32x4.splat(1.0000001);
  let c0 = x, c1 = f32x4.add(x, y), c2 = f32x4.sub(x, y), c3 = f32x4.mul(x, y), c4 = f32x4.add(x, x);
  let c5 = f32x4.sub(y, x), c6 = f32x4.mul(x, x), c7 = f32x4.add(y, y), c8 = f32x4.neg(x), c9 = f32x4.neg(y);
  for (let i = 0; i < iterations; i++) {
    c0 = madd(c0, y, x); c1 = madd(c1, y, x); c2 = madd(c2, y, x); c3 = madd(c3, y, x); c4 = madd(c4, y, x);
    c5 = madd(c5, y, x); c6 = madd(c6, y, x); c7 = madd(c7, y, x); c8 = madd(c8, y, x); c9 = madd(c9, y, x);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)), f32x4.add(c8, c9)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
