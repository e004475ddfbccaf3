// The first layer on sparse images. Most MNIST pixels are 0 (about 81%), and every 0 normalises to
// the same value x0 = table[0]. Writing each input as x = x0 + d, with d = 0 for those pixels:
//
//   forward   Z[b, n]  = b[n] + x0·Σ_k W[n, k] + Σ_{k: d[b,k] ≠ 0} d[b, k]·W[n, k]
//   backward  dW[n, k] = x0·Σ_b dZ[b, n]     + Σ_{b: d[b,k] ≠ 0} d[b, k]·dZ[b, n]
//
// which is the same arithmetic as the dense product with the zero terms left out (the values differ
// only by rounding), at a fifth of the multiply-adds. Both sums run over rows of Wᵀ and dWᵀ (the
// out-wide rows of a pixel), so this layer keeps a transposed copy of its weight (transpose below).
//
// The batch's nonzero pixels are listed once per batch (sparsePixels), as rows: starts[b] is the
// first entry of image b, and each entry holds the byte offset of its pixel's row in Wᵀ and its d.
// (Wᵀ, 200 KB for 784×64, lives in L2. Cutting the pixels into blocks whose rows fit in L1 was tried:
// 5% faster forward, 5% slower listing; not kept. The loops are bound by instruction count.)
import { storeTransposed4 } from "./lanes";
import { madd } from "./vmath";

/**
 * Columns of Z per pass over the images (bytes, a multiple of 96): the rows of Wᵀ the batch's pixels
 * touch, 784 × 384 bytes at most, stay in L2 for the whole batch instead of streaming from memory
 * for every image once the layer is wide (a 1024-wide Wᵀ is 3.2 MB).
 */
const FORWARD_BLOCK_BYTES: usize = 192;
/**
 * Wide layers: Wᵀ's rows are N·4 bytes apart, and at N = 1024 or 2048 the rows a block reads all fall
 * in a few sets of L1 and L2, which then hold a fraction of them. From this row size on, each block
 * of columns is first copied into PANEL, rows side by side (and each dWᵀ block gathered there), and
 * the entries' offsets are rewritten for it once per call (PACKED_OFFSETS). The sums are the same.
 */
const PACK_MIN_ROW_BYTES: usize = 2048;
const FORWARD_PANEL_BYTES: usize = 192;
const GRADIENT_PANEL_BYTES: usize = 256;
const PANEL_CAPACITY: usize = 256 * 1024;
let PANEL: usize = memory.data(<i32>PANEL_CAPACITY, 64);
/** Entries a batch may have for the packed path (a batch of 256 MNIST images has about 38,000). */
const PACKED_ENTRY_CAPACITY: i32 = 65536;
let PACKED_OFFSETS: usize = memory.data(PACKED_ENTRY_CAPACITY * 4, 64);
/** Bytes of PANEL and PACKED_OFFSETS (a thread's own: see scratch.ts). */
export const SPARSE_SCRATCH_BYTES: usize = PANEL_CAPACITY + <usize>PACKED_ENTRY_CAPACITY * 4;
/** Moves this instance's panel and offsets to `base` (SPARSE_SCRATCH_BYTES, 64-byte aligned). */
export function useSparseScratch(base: usize): void {
  PANEL = base;
  PACKED_OFFSETS = base + PANEL_CAPACITY;
}

/**
 * PACKED_OFFSETS[e − first] = k·panelBytes for the batch's entries (offset k·rowBytes); returns the
 * number of rows a panel needs (the largest k + 1), or −1 when the batch has too many entries.
 */
function packedOffsets(starts: usize, offsets: usize, M: i32, rowBytes: usize, panelBytes: usize): i32 {
  const first = load<i32>(starts);
  const last = load<i32>(starts + (<usize>M << 2));
  if (last - first > PACKED_ENTRY_CAPACITY) return -1;
  let rows: u32 = 0;
  for (let e = first; e < last; e++) {
    const k = <u32>load<i32>(offsets + (<usize>e << 2)) / <u32>rowBytes;
    rows = max(rows, k + 1);
    store<u32>(PACKED_OFFSETS + (<usize>(e - first) << 2), k * <u32>panelBytes);
  }
  return <i32>rows;
}

/** Copies `width` bytes (a multiple of 16) of `rows` rows from S (rows sBytes apart) to T (tBytes apart). */
function copyColumns(T: usize, tBytes: usize, S: usize, sBytes: usize, rows: i32, width: usize): void {
  for (let r = 0; r < rows; r++) {
    const t = T + <usize>r * tBytes;
    const s = S + <usize>r * sBytes;
    for (let n: usize = 0; n < width; n += 16) v128.store(t + n, v128.load(s + n));
  }
}

/** The same for dWᵀ's columns in the weight gradient (a multiple of 128 bytes). */
const GRADIENT_BLOCK_BYTES: usize = 1024;

/**
 * Lists the nonzero pixels of `count` images (`size` bytes each, at `pixels`), with d = table[u] − table[0]
 * (read from the second half of pixelTable's table) and offset = k·rowBytes, as entries numbered from
 * firstEntry on (so that lists can be appended to one another). Returns the number after the last
 * entry (also stored in starts[count]).
 */
export function sparsePixels(
  offsets: usize, values: usize, starts: usize, pixels: usize, count: i32, size: i32, table: usize, rowBytes: i32, firstEntry: i32,
): i32 {
  const differences = table + 1024;
  const zero = i8x16.splat(0);
  let e = firstEntry;
  for (let b = 0; b < count; b++) {
    store<i32>(starts + (<usize>b << 2), e);
    const image = pixels + <usize>b * <usize>size;
    let k = 0;
    // Four 16-byte comparisons make a 64-bit mask of nonzero pixels; the loop visits only its set
    // bits. (One 16-bit mask at a time was 27% slower: its loop exit mispredicts four times as often.)
    for (; k + 64 <= size; k += 64) {
      const p = image + <usize>k;
      let mask: u64 = <u64>i8x16.bitmask(i8x16.ne(v128.load(p), zero))
        | (<u64>i8x16.bitmask(i8x16.ne(v128.load(p, 16), zero)) << 16)
        | (<u64>i8x16.bitmask(i8x16.ne(v128.load(p, 32), zero)) << 32)
        | (<u64>i8x16.bitmask(i8x16.ne(v128.load(p, 48), zero)) << 48);
      while (mask != 0) {
        const j = k + <i32>ctz(mask);
        mask &= mask - 1;
        const u = <usize>load<u8>(image + <usize>j);
        store<i32>(offsets + (<usize>e << 2), j * rowBytes);
        store<f32>(values + (<usize>e << 2), load<f32>(differences + (u << 2)));
        e++;
      }
    }
    for (; k < size; k++) {
      const u = <usize>load<u8>(image + <usize>k);
      if (u == 0) continue;
      store<i32>(offsets + (<usize>e << 2), k * rowBytes);
      store<f32>(values + (<usize>e << 2), load<f32>(differences + (u << 2)));
      e++;
    }
  }
  store<i32>(starts + (<usize>count << 2), e);
  return e;
}

/**
 * Z[M, N] = b + x0·rowSums + (sparse rows)·Wt, with Wt = Wᵀ [K, N] and rowSums[n] = Σ_k W[n, k].
 * N must be a multiple of 4. Each image's row of Z is built in registers, 24 outputs at a time:
 * with 8 accumulators V8 ran out of vector registers (it loads all 8 operands first) and spilled,
 * which measured 10% slower than 6.
 */
export function sparseForward(
  Z: usize, starts: usize, offsets: usize, values: usize, Wt: usize, bias: usize, rowSums: usize, x0: f32, M: i32, N: i32,
): void {
  const rowBytes = <usize>N << 2;
  const K = rowBytes >= PACK_MIN_ROW_BYTES ? packedOffsets(starts, offsets, M, rowBytes, FORWARD_PANEL_BYTES) : -1;
  if (K < 0 || <usize>K * FORWARD_PANEL_BYTES > PANEL_CAPACITY) {
    forwardColumns(Z, starts, offsets, values, Wt, bias, rowSums, x0, M, rowBytes, 0, rowBytes, FORWARD_BLOCK_BYTES);
    return;
  }
  // Offsets into PANEL for entries first ... (PACKED_OFFSETS is numbered from the batch's first entry).
  const packed = PACKED_OFFSETS - (<usize>load<i32>(starts) << 2);
  for (let block: usize = 0; block < rowBytes; block += FORWARD_PANEL_BYTES) {
    const width = min(FORWARD_PANEL_BYTES, rowBytes - block);
    copyColumns(PANEL, FORWARD_PANEL_BYTES, Wt + block, rowBytes, K, width);
    // PANEL − block + k·FORWARD_PANEL_BYTES + n addresses Wᵀ[k, n] for n in the block (wrapping arithmetic).
    forwardColumns(Z, starts, packed, values, PANEL - block, bias, rowSums, x0, M, rowBytes, block, block + width, width);
  }
}

/**
 * sparseForward's products for the columns from ... to (bytes) of Z, in blocks of blockBytes: entry e
 * reads its pixel's row at W + offsets[e], columns at the same byte offsets as in Z.
 */
function forwardColumns(
  Z: usize, starts: usize, offsets: usize, values: usize, Wt: usize, bias: usize, rowSums: usize, x0: f32, M: i32,
  rowBytes: usize, from: usize, to: usize, blockBytes: usize,
): void {
  const base = f32x4.splat(x0);
  for (let block = from; block < to; block += blockBytes) {
  const blockEnd = min(block + blockBytes, to);
  for (let b = 0; b < M; b++) {
    const first = load<i32>(starts + (<usize>b << 2));
    const last = load<i32>(starts + (<usize>(b + 1) << 2));
    const z = Z + <usize>b * rowBytes;
    let n: usize = block;
    for (; n + 96 <= blockEnd; n += 96) {
      let c0 = madd(base, v128.load(rowSums + n), v128.load(bias + n));
      let c1 = madd(base, v128.load(rowSums + n, 16), v128.load(bias + n, 16));
      let c2 = madd(base, v128.load(rowSums + n, 32), v128.load(bias + n, 32));
      let c3 = madd(base, v128.load(rowSums + n, 48), v128.load(bias + n, 48));
      let c4 = madd(base, v128.load(rowSums + n, 64), v128.load(bias + n, 64));
      let c5 = madd(base, v128.load(rowSums + n, 80), v128.load(bias + n, 80));
      for (let e = first; e < last; e++) {
        const d = v128.load32_splat(values + (<usize>e << 2));
        const w = Wt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        c0 = madd(d, v128.load(w), c0); c1 = madd(d, v128.load(w, 16), c1);
        c2 = madd(d, v128.load(w, 32), c2); c3 = madd(d, v128.load(w, 48), c3);
        c4 = madd(d, v128.load(w, 64), c4); c5 = madd(d, v128.load(w, 80), c5);
      }
      v128.store(z + n, c0); v128.store(z + n, c1, 16); v128.store(z + n, c2, 32);
      v128.store(z + n, c3, 48); v128.store(z + n, c4, 64); v128.store(z + n, c5, 80);
    }
    for (; n + 64 <= blockEnd; n += 64) {
      let c0 = madd(base, v128.load(rowSums + n), v128.load(bias + n));
      let c1 = madd(base, v128.load(rowSums + n, 16), v128.load(bias + n, 16));
      let c2 = madd(base, v128.load(rowSums + n, 32), v128.load(bias + n, 32));
      let c3 = madd(base, v128.load(rowSums + n, 48), v128.load(bias + n, 48));
      for (let e = first; e < last; e++) {
        const d = v128.load32_splat(values + (<usize>e << 2));
        const w = Wt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        c0 = madd(d, v128.load(w), c0); c1 = madd(d, v128.load(w, 16), c1);
        c2 = madd(d, v128.load(w, 32), c2); c3 = madd(d, v128.load(w, 48), c3);
      }
      v128.store(z + n, c0); v128.store(z + n, c1, 16); v128.store(z + n, c2, 32); v128.store(z + n, c3, 48);
    }
    for (; n < blockEnd; n += 16) {
      let c = madd(base, v128.load(rowSums + n), v128.load(bias + n));
      for (let e = first; e < last; e++) {
        const w = Wt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        c = madd(v128.load32_splat(values + (<usize>e << 2)), v128.load(w), c);
      }
      v128.store(z + n, c);
    }
  }
  }
}

/**
 * dWt[K, N] = x0·db (every row) + (sparse rows)ᵀ·dZ, the transposed weight gradient of the first
 * layer; db[N] = Σ_b dZ[b, :] must be computed first. N must be a multiple of 4. Each image's dZ row
 * stays in registers, 32 values at a time, while its pixels' rows of dWt are updated.
 */
export function sparseWeightGradient(
  dWt: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32,
): void {
  const rowBytes = <usize>N << 2;
  const maxK = rowBytes >= PACK_MIN_ROW_BYTES ? packedOffsets(starts, offsets, M, rowBytes, GRADIENT_PANEL_BYTES) : -1;
  if (maxK < 0 || <usize>K * GRADIENT_PANEL_BYTES > PANEL_CAPACITY) {
    gradientColumns(dWt, rowBytes, starts, offsets, values, dZ, db, x0, M, K, rowBytes, 0, rowBytes, GRADIENT_BLOCK_BYTES);
    return;
  }
  const packed = PACKED_OFFSETS - (<usize>load<i32>(starts) << 2);
  for (let block: usize = 0; block < rowBytes; block += GRADIENT_PANEL_BYTES) {
    const width = min(GRADIENT_PANEL_BYTES, rowBytes - block);
    // The panel's rows start as x0·db and gather the images' terms, then go to dWᵀ's columns whole.
    gradientColumns(PANEL - block, GRADIENT_PANEL_BYTES, starts, packed, values, dZ, db, x0, M, K, rowBytes, block, block + width, width);
    copyColumns(dWt + block, rowBytes, PANEL, GRADIENT_PANEL_BYTES, K, width);
  }
}

/**
 * sparseWeightGradient's sums for dWᵀ's columns from ... to − 1 (multiples of 4) of a layer too
 * narrow for its packed path (N·4 < PACK_MIN_ROW_BYTES), for a thread team's band of them: each
 * column is summed on its own, as the whole call sums it.
 */
export function sparseWeightGradientColumns(
  dWt: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32, from: i32, to: i32,
): void {
  const rowBytes = <usize>N << 2;
  gradientColumns(dWt, rowBytes, starts, offsets, values, dZ, db, x0, M, K, rowBytes, <usize>from << 2, <usize>to << 2, GRADIENT_BLOCK_BYTES);
}

/** Whether sparseWeightGradient takes its unpacked path for N outputs (the one sparseWeightGradientColumns splits). */
export function sparseGradientUnpacked(N: i32): bool {
  return (<usize>N << 2) < PACK_MIN_ROW_BYTES;
}

/**
 * Whether sparseWeightGradientDirect takes a layer of N outputs and K inputs: wide enough that the
 * gradient goes through PANEL anyway (so writing dW from there costs nothing), and K rows of a panel fit.
 * Narrower layers keep dWᵀ and transpose it (sparseWeightGradient).
 */
export function sparseGradientDirect(N: i32, K: i32): bool {
  return (<usize>N << 2) >= PACK_MIN_ROW_BYTES && <usize>K * GRADIENT_PANEL_BYTES <= PANEL_CAPACITY && (N & 3) == 0;
}

/**
 * dW[N, K] = (sparseWeightGradient's dWᵀ)ᵀ, written straight from the panels (no dWᵀ buffer, no
 * transpose pass): the same sums in the same order, so the same bits. Needs sparseGradientDirect(N, K).
 * The images go in runs whose entries fit PACKED_OFFSETS; a run after the first resumes each
 * panel from the values the last one left in dW (copies, exact), so the sums keep the images' order.
 */
export function sparseWeightGradientDirect(
  dW: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32,
): void {
  sparseWeightGradientDirectColumns(dW, starts, offsets, values, dZ, db, x0, M, N, K, 0, N);
}

/**
 * sparseWeightGradientDirect for dW's rows (the outputs) from ... to − 1 only, from a multiple of 4:
 * each column of the panels is summed on its own, so a thread given a band of them writes exactly
 * what the whole call writes there (a thread team splits the first layer's gradient this way).
 */
export function sparseWeightGradientDirectColumns(
  dW: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32, from: i32, to: i32,
): void {
  const rowBytes = <usize>N << 2;
  const fromBytes = <usize>from << 2;
  const toBytes = <usize>to << 2;
  const wRowBytes = <usize>K << 2;
  let b0 = 0;
  while (b0 < M) {
    // The longest run of images from b0 whose entries fit (one image always does: K ≤ the capacity).
    const first = load<i32>(starts + (<usize>b0 << 2));
    let b1 = b0 + 1;
    while (b1 < M && load<i32>(starts + (<usize>(b1 + 1) << 2)) - first <= PACKED_ENTRY_CAPACITY) b1++;
    const runStarts = starts + (<usize>b0 << 2);
    packedOffsets(runStarts, offsets, b1 - b0, rowBytes, GRADIENT_PANEL_BYTES);
    const packed = PACKED_OFFSETS - (<usize>first << 2);
    for (let block = fromBytes; block < toBytes; block += GRADIENT_PANEL_BYTES) {
      const width = min(GRADIENT_PANEL_BYTES, toBytes - block);
      const rowsOfW = dW + (block >> 2) * wRowBytes;
      if (b0 > 0) transposeStrided(PANEL, GRADIENT_PANEL_BYTES, rowsOfW, wRowBytes, <i32>(width >> 2), K);
      gradientColumns(PANEL - block, GRADIENT_PANEL_BYTES, runStarts, packed, values, dZ + <usize>b0 * rowBytes, db, x0,
        b1 - b0, K, rowBytes, block, block + width, width, b0 == 0);
      transposeStrided(rowsOfW, wRowBytes, PANEL, GRADIENT_PANEL_BYTES, K, <i32>(width >> 2));
    }
    b0 = b1;
  }
}

/**
 * T[c, r] = S[r, c] for r < rows, c < cols, with S's rows sBytes apart and
 * T's tBytes apart: transpose below for operands inside larger matrices (a panel and a band of dW).
 */
function transposeStrided(T: usize, tBytes: usize, S: usize, sBytes: usize, rows: i32, cols: i32): void {
  const fullRows = rows & ~3;
  const fullCols = cols & ~3;
  for (let r = 0; r < fullRows; r += 4) {
    for (let c = 0; c < fullCols; c += 4) {
      const s = S + <usize>r * sBytes + (<usize>c << 2);
      storeTransposed4(T + <usize>c * tBytes + (<usize>r << 2), tBytes, v128.load(s), v128.load(s + sBytes), v128.load(s + 2 * sBytes), v128.load(s + 3 * sBytes));
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = r < fullRows ? fullCols : 0; c < cols; c++) {
      store<f32>(T + <usize>c * tBytes + (<usize>r << 2), load<f32>(S + <usize>r * sBytes + (<usize>c << 2)));
    }
  }
}

/**
 * sparseWeightGradient for the columns from ... to (bytes) of dWᵀ, in blocks of blockBytes: dWᵀ's
 * row k is at dWt + k·wRowBytes, entry e's at dWt + offsets[e], columns at the same byte offsets as in dZ.
 * Rows start as x0·db, or (init false) go on from the values they hold.
 */
function gradientColumns(
  dWt: usize, wRowBytes: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, K: i32,
  rowBytes: usize, from: usize, to: usize, blockBytes: usize, init: bool = true,
): void {
  const base = f32x4.splat(x0);
  for (let block = from; block < to; block += blockBytes) {
  const blockEnd = min(block + blockBytes, to);
  if (init) for (let k = 0; k < K; k++) {
    const row = dWt + <usize>k * wRowBytes;
    for (let n = block; n < blockEnd; n += 16) v128.store(row + n, f32x4.mul(base, v128.load(db + n)));
  }
  for (let b = 0; b < M; b++) {
    const first = load<i32>(starts + (<usize>b << 2));
    const last = load<i32>(starts + (<usize>(b + 1) << 2));
    const g = dZ + <usize>b * rowBytes;
    let n: usize = block;
    for (; n + 128 <= blockEnd; n += 128) {
      const g0 = v128.load(g + n), g1 = v128.load(g + n, 16), g2 = v128.load(g + n, 32), g3 = v128.load(g + n, 48);
      const g4 = v128.load(g + n, 64), g5 = v128.load(g + n, 80), g6 = v128.load(g + n, 96), g7 = v128.load(g + n, 112);
      for (let e = first; e < last; e++) {
        const d = v128.load32_splat(values + (<usize>e << 2));
        const w = dWt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        v128.store(w, madd(d, g0, v128.load(w))); v128.store(w, madd(d, g1, v128.load(w, 16)), 16);
        v128.store(w, madd(d, g2, v128.load(w, 32)), 32); v128.store(w, madd(d, g3, v128.load(w, 48)), 48);
        v128.store(w, madd(d, g4, v128.load(w, 64)), 64); v128.store(w, madd(d, g5, v128.load(w, 80)), 80);
        v128.store(w, madd(d, g6, v128.load(w, 96)), 96); v128.store(w, madd(d, g7, v128.load(w, 112)), 112);
      }
    }
    for (; n + 64 <= blockEnd; n += 64) {
      const g0 = v128.load(g + n), g1 = v128.load(g + n, 16), g2 = v128.load(g + n, 32), g3 = v128.load(g + n, 48);
      for (let e = first; e < last; e++) {
        const d = v128.load32_splat(values + (<usize>e << 2));
        const w = dWt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        v128.store(w, madd(d, g0, v128.load(w))); v128.store(w, madd(d, g1, v128.load(w, 16)), 16);
        v128.store(w, madd(d, g2, v128.load(w, 32)), 32); v128.store(w, madd(d, g3, v128.load(w, 48)), 48);
      }
    }
    for (; n < blockEnd; n += 16) {
      const g0 = v128.load(g + n);
      for (let e = first; e < last; e++) {
        const w = dWt + <usize>load<i32>(offsets + (<usize>e << 2)) + n;
        v128.store(w, madd(v128.load32_splat(values + (<usize>e << 2)), g0, v128.load(w)));
      }
    }
  }
  }
}

/**
 * T[cols, rows] = S[rows, cols]ᵀ, in 4×4 blocks where the shape allows, visited in tiles so that
 * a tile's rows of T are written whole cache lines at a time, where plain 4×4 order wrote 16 bytes
 * per line to lines rows·4 bytes apart, which for wide layers all fall in a few sets of L1 (the
 * 1024 × 784 transpose took 1.3 ms, tiled 0.11; 2048 × 2048, 4.9 ms, tiled 2.6).
 */
export function transpose(T: usize, S: usize, rows: i32, cols: i32): void {
  const rowBytesS = <usize>cols << 2;
  const rowBytesT = <usize>rows << 2;
  const fullRows = rows & ~3;
  const fullCols = cols & ~3;
  // Where T's rows are a multiple of 1 KB apart, 64 of them share a few L1 sets: then tiles are
  // 64 rows of S by 8 columns (8 rows of T, 256 bytes each; measured best of 8 to 128 rows), else 16 by 64.
  const conflicting = (rowBytesT & 1023) == 0;
  const tileRows = conflicting ? 64 : 16;
  const tileCols = conflicting ? 8 : 64;
  for (let rb = 0; rb < fullRows; rb += tileRows) {
    const rEnd = min(rb + tileRows, fullRows);
    for (let cb = 0; cb < fullCols; cb += tileCols) {
      const cEnd = min(cb + tileCols, fullCols);
      for (let r = rb; r < rEnd; r += 4) {
        for (let c = cb; c < cEnd; c += 4) {
          const s = S + ((<usize>r * <usize>cols + <usize>c) << 2);
          storeTransposed4(T + ((<usize>c * <usize>rows + <usize>r) << 2), rowBytesT,
            v128.load(s), v128.load(s + rowBytesS), v128.load(s + 2 * rowBytesS), v128.load(s + 3 * rowBytesS));
        }
      }
    }
  }
  // The edges: columns past the last multiple of 4 for the full row blocks, then the last rows.
  for (let r = 0; r < fullRows; r++) {
    for (let c = fullCols; c < cols; c++) {
      store<f32>(T + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(S + ((<usize>r * <usize>cols + <usize>c) << 2)));
    }
  }
  for (let r = fullRows; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(T + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(S + ((<usize>r * <usize>cols + <usize>c) << 2)));
    }
  }
}
