// The first layer on sparse images. Most MNIST pixels are 0 (about 81%), and every 0 normalises to
// the same value x0 = table[0]. Writing each input as x = x0 + d, with d = 0 for those pixels:
//
//   forward   Z[b, n]  = b[n] + x0·Σ_k W[n, k] + Σ_{k: d[b,k] ≠ 0} d[b, k]·W[n, k]
//   backward  dW[n, k] = x0·Σ_b dZ[b, n]     + Σ_{b: d[b,k] ≠ 0} d[b, k]·dZ[b, n]
//
// which is the same arithmetic as the dense product with the zero terms left out (the values differ
// only by rounding), at a fifth of the multiply-adds. Both sums run over rows of Wᵀ and dWᵀ (the
// out-wide rows of a pixel): below 512 outputs the model keeps this layer's weight transposed in its
// own blocks (SparseFirstLayer.transposedInBlocks); wider layers keep a padded copy of Wᵀ
// (transposeInto below).
//
// The forward reads Wᵀ's rows in place. For wide layers (rows of 2 KB and more) they are kept 64 bytes
// further apart than their width (sparseRowBytes): rows a power of two apart fall in a few sets of
// L1 and L2, which then hold a fraction of them (padding: 784 → 2048 forward 1.4 ms, was 2.2 ms with
// each block copied into a panel first, and a thread team no longer copies it once per thread).
// The weight gradient of narrow layers (below 128 outputs) gathers into dWᵀ's rows image by image
// (sparseWeightGradient); wider ones regroup the entries by pixel and sum each element in registers
// (sparseWeightGradientByPixel), into the rows of dWᵀ or the columns of dW (the model keeps layers
// under 512 outputs transposed: SparseFirstLayer.transposedInBlocks). Both add the same terms in
// the same order.
//
// The batch's nonzero pixels are listed (sparsePixels) as rows: starts[b] is the first entry of
// image b, and each entry holds the byte offset of its pixel's row in Wᵀ and its d. They are made
// from compact entries (listPixels: pixel and value, 4 bytes), which the input pipeline keeps for
// images it reads again (every epoch) and expands per batch (touchPixels, then expandPixels).
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
/** Columns of dWᵀ per pass over the images in the narrow layers' weight gradient (a multiple of 128 bytes). */
const GRADIENT_BLOCK_BYTES: usize = 1024;
/** Wᵀ's rows of this many bytes and more are padded (sparseRowBytes). */
const WIDE_ROW_BYTES: usize = 2048;
const ROW_PAD_BYTES: usize = 64;
/** Bytes between the rows of the layer's Wᵀ for N outputs: N·4, padded for wide layers. */
export function sparseRowBytes(N: i32): i32 {
  const bytes = <usize>N << 2;
  return <i32>(bytes >= WIDE_ROW_BYTES ? bytes + ROW_PAD_BYTES : bytes);
}
/**
 * Whether the weight gradient of N outputs goes by pixel (sparseWeightGradientByPixel): from 128
 * outputs on, where it beats gathering into dWᵀ image by image (timed with dWᵀ kept in the model's
 * blocks, no transpose either way: 256: 0.17 ms against 0.19, 128: 0.099 against 0.096, even); below,
 * regrouping the entries (about 24 µs for a batch of MNIST) costs more than it saves (64: 0.074 ms
 * against 0.046). From 512 outputs the blocks hold dW [out, in], and gathering would add a transpose
 * (512: 0.45 ms with it against 0.33 by pixel).
 */
const BY_PIXEL_MIN_ROW_BYTES: usize = 512;
export function sparseGradientByPixel(N: i32): bool {
  return (<usize>N << 2) >= BY_PIXEL_MIN_ROW_BYTES && (N & 3) == 0;
}

/** The gradient by pixel's copy of dZ's block and its sums for four pixels (a thread's own: scratch.ts). */
const PANEL_CAPACITY: usize = 256 * 1024;
let PANEL: usize = memory.data(<i32>PANEL_CAPACITY, 64);
export const SPARSE_SCRATCH_BYTES: usize = PANEL_CAPACITY;
/** Moves this instance's panel to `base` (SPARSE_SCRATCH_BYTES, 64-byte aligned). */
export function useSparseScratch(base: usize): void {
  PANEL = base;
}

/** Copies `width` bytes (a multiple of 16) of `rows` rows from S (rows sBytes apart) to T (tBytes apart). */
function copyColumns(T: usize, tBytes: usize, S: usize, sBytes: usize, rows: i32, width: usize): void {
  for (let r = 0; r < rows; r++) {
    const t = T + <usize>r * tBytes;
    const s = S + <usize>r * sBytes;
    for (let n: usize = 0; n < width; n += 16) v128.store(t + n, v128.load(s + n));
  }
}

/**
 * Lists the nonzero pixels of `count` images (`size` bytes each, at `pixels`, size ≤ 2^24) as compact
 * entries numbered from firstEntry on: k << 8 | u for pixel k of value u, in pixel order; starts[b]
 * is image b's first entry and starts[count] the number after the last (also returned). These
 * depend on the pixels only, not on the normalisation or the layer: the input pipeline keeps them
 * across epochs (4 bytes an entry) and expands them per batch (expandPixels).
 */
export function listPixels(compact: usize, starts: usize, pixels: usize, count: i32, size: i32, firstEntry: i32): i32 {
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
        store<u32>(compact + (<usize>e << 2), (<u32>j << 8) | <u32>load<u8>(image + <usize>j));
        e++;
      }
    }
    for (; k < size; k++) {
      const u = <u32>load<u8>(image + <usize>k);
      if (u == 0) continue;
      store<u32>(compact + (<usize>e << 2), (<u32>k << 8) | u);
      e++;
    }
  }
  store<i32>(starts + (<usize>count << 2), e);
  return e;
}

/** What touchPixels read (kept, so that its loads are never left out). */
let touchedLines: u32 = 0;

/**
 * Reads one word of every line of images' compact entries from[b] ... to[b] − 1, b < count: kept
 * lists of a reshuffled epoch lie anywhere in tens of MB, and these loads are independent, so the
 * core keeps many in flight, where expandPixels would wait for each image's first line in turn.
 */
export function touchPixels(compact: usize, from: usize, to: usize, count: i32): void {
  let touched: u32 = 0;
  for (let b = 0; b < count; b++) {
    const last = load<i32>(to + (<usize>b << 2));
    for (let i = load<i32>(from + (<usize>b << 2)); i < last; i += 16) touched |= load<u32>(compact + (<usize>i << 2));
  }
  touchedLines = touched;
}

/**
 * The lists the sparse kernels read, from compact entries (listPixels): image b's are compact
 * entries from[b] ... to[b] − 1, written as entries numbered from firstEntry on, with offset =
 * k·rowBytes (the pixel's row in Wᵀ) and d = table[u] − table[0] (the second half of pixelTable's
 * table); starts[b] gets image b's first and starts[count] the number after the last (returned).
 * Written in place over compact entries (sparsePixels) it is safe: entries are read (four at a
 * time) before they are written, and never after.
 */
export function expandPixels(
  offsets: usize, values: usize, starts: usize, compact: usize, from: usize, to: usize, count: i32, table: usize, rowBytes: i32,
  firstEntry: i32,
): i32 {
  const differences = table + 1024;
  const rowStride = i32x4.splat(rowBytes);
  let e = firstEntry;
  for (let b = 0; b < count; b++) {
    const first = load<i32>(from + (<usize>b << 2));
    const last = load<i32>(to + (<usize>b << 2));
    store<i32>(starts + (<usize>b << 2), e);
    let i = first;
    // Four entries at a time, their offsets as one vector: one at a time, the loop's own
    // instructions took a third of its time (7.6 µs for a batch of MNIST, 4.8 this way).
    for (; i + 4 <= last; i += 4) {
      const entries = v128.load(compact + (<usize>i << 2));
      v128.store(offsets + (<usize>e << 2), i32x4.mul(i32x4.shr_u(entries, 8), rowStride));
      const at = values + (<usize>e << 2);
      store<f32>(at, load<f32>(differences + (<usize>(i32x4.extract_lane(entries, 0) & 255) << 2)));
      store<f32>(at, load<f32>(differences + (<usize>(i32x4.extract_lane(entries, 1) & 255) << 2)), 4);
      store<f32>(at, load<f32>(differences + (<usize>(i32x4.extract_lane(entries, 2) & 255) << 2)), 8);
      store<f32>(at, load<f32>(differences + (<usize>(i32x4.extract_lane(entries, 3) & 255) << 2)), 12);
      e += 4;
    }
    for (; i < last; i++) {
      const entry = load<u32>(compact + (<usize>i << 2));
      store<i32>(offsets + (<usize>e << 2), <i32>(entry >> 8) * rowBytes);
      store<f32>(values + (<usize>e << 2), load<f32>(differences + (<usize>(entry & 255) << 2)));
      e++;
    }
  }
  store<i32>(starts + (<usize>count << 2), e);
  return e;
}

/**
 * Lists the nonzero pixels of `count` images straight into the lists the sparse kernels read
 * (listPixels, then expandPixels in place over the values), entries numbered from firstEntry on;
 * returns the number after the last (also stored in starts[count]).
 */
export function sparsePixels(
  offsets: usize, values: usize, starts: usize, pixels: usize, count: i32, size: i32, table: usize, rowBytes: i32, firstEntry: i32,
): i32 {
  listPixels(values, starts, pixels, count, size, firstEntry);
  return expandPixels(offsets, values, starts, values, starts, starts + 4, count, table, rowBytes, firstEntry);
}

/**
 * out[0 .. 24) = c + Σ_e d[e]·rows[offsets[e] .. + 24) for entries first ... last − 1, added in
 * their order, six accumulators in registers: the inner loop of the forward (rows: Wᵀ's, entries
 * an image's pixels) and of the weight gradient by pixel (rows: dZ's, entries a pixel's images).
 */
// @ts-ignore: decorator
@inline function sumRows24(
  out: usize, rows: usize, offsets: usize, values: usize, first: i32, last: i32, c0: v128, c1: v128, c2: v128, c3: v128, c4: v128, c5: v128,
): void {
  for (let e = first; e < last; e++) {
    const d = v128.load32_splat(values + (<usize>e << 2));
    const w = rows + <usize>load<i32>(offsets + (<usize>e << 2));
    c0 = madd(d, v128.load(w), c0); c1 = madd(d, v128.load(w, 16), c1);
    c2 = madd(d, v128.load(w, 32), c2); c3 = madd(d, v128.load(w, 48), c3);
    c4 = madd(d, v128.load(w, 64), c4); c5 = madd(d, v128.load(w, 80), c5);
  }
  v128.store(out, c0); v128.store(out, c1, 16); v128.store(out, c2, 32);
  v128.store(out, c3, 48); v128.store(out, c4, 64); v128.store(out, c5, 80);
}

/**
 * Z[M, N] = b + x0·rowSums + (sparse rows)·Wt, with Wt = Wᵀ [K, N] and rowSums[n] = Σ_k W[n, k].
 * N must be a multiple of 4. Entry e reads its pixel's row at Wt + offsets[e] (rows sparseRowBytes
 * apart). Each image's row of Z is built in registers, 24 outputs at a time: with 8 accumulators
 * V8 ran out of vector registers (it loads all 8 operands first) and spilled, which measured 10%
 * slower than 6. The columns go in blocks of FORWARD_BLOCK_BYTES, each over every image.
 */
export function sparseForward(
  Z: usize, starts: usize, offsets: usize, values: usize, Wt: usize, bias: usize, rowSums: usize, x0: f32, M: i32, N: i32,
): void {
  const rowBytes = <usize>N << 2;
  const base = f32x4.splat(x0);
  for (let block: usize = 0; block < rowBytes; block += FORWARD_BLOCK_BYTES) {
  const blockEnd = min(block + FORWARD_BLOCK_BYTES, rowBytes);
  for (let b = 0; b < M; b++) {
    const first = load<i32>(starts + (<usize>b << 2));
    const last = load<i32>(starts + (<usize>(b + 1) << 2));
    const z = Z + <usize>b * rowBytes;
    let n: usize = block;
    for (; n + 96 <= blockEnd; n += 96) {
      sumRows24(z + n, Wt + n, offsets, values, first, last,
        madd(base, v128.load(rowSums + n), v128.load(bias + n)), madd(base, v128.load(rowSums + n, 16), v128.load(bias + n, 16)),
        madd(base, v128.load(rowSums + n, 32), v128.load(bias + n, 32)), madd(base, v128.load(rowSums + n, 48), v128.load(bias + n, 48)),
        madd(base, v128.load(rowSums + n, 64), v128.load(bias + n, 64)), madd(base, v128.load(rowSums + n, 80), v128.load(bias + n, 80)));
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
 * dWt[K, N] = x0·db (every row) + (sparse rows)ᵀ·dZ, the transposed weight gradient of a layer too
 * narrow for the gradient by pixel (sparseGradientByPixel false); db[N] = Σ_b dZ[b, :] must be
 * computed first. N must be a multiple of 4. Entry e's row of dWᵀ is at dWt + offsets[e] (rows N·4
 * bytes apart, as the lists were made for). Each image's dZ row stays in registers, 32 values at a
 * time, while its pixels' rows of dWt are updated; the columns go in blocks of GRADIENT_BLOCK_BYTES.
 */
export function sparseWeightGradient(
  dWt: usize, starts: usize, offsets: usize, values: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32,
): void {
  const rowBytes = <usize>N << 2;
  const base = f32x4.splat(x0);
  for (let block: usize = 0; block < rowBytes; block += GRADIENT_BLOCK_BYTES) {
  const blockEnd = min(block + GRADIENT_BLOCK_BYTES, rowBytes);
  for (let k = 0; k < K; k++) {
    const row = dWt + <usize>k * rowBytes;
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
  transposeInto(T, rows << 2, S, rows, cols, 0);
}

/**
 * transpose into a T whose rows are tRowBytes apart (the sparse layer's padded Wᵀ); where `sums` is
 * not 0, also sums[r] = Σ_c S[r, c] for r < rows, added from c = 0 up in f32: the bits columnSums
 * gives over T (its layer needs both after every step; summing here saves a pass over T). Each
 * 4 × 4 block's columns are read back from T, just written, and added to its four rows' sums;
 * tiles go through the columns in order for every row, so the sums keep it.
 */
export function transposeInto(T: usize, tRowBytes: i32, S: usize, rows: i32, cols: i32, sums: usize): void {
  const rowBytesS = <usize>cols << 2;
  const rowBytesT = <usize>tRowBytes;
  const fullRows = rows & ~3;
  const fullCols = cols & ~3;
  if (sums != 0) memory.fill(sums, 0, <usize>rows << 2);
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
          const t = T + <usize>c * rowBytesT + (<usize>r << 2);
          storeTransposed4(t, rowBytesT, v128.load(s), v128.load(s + rowBytesS), v128.load(s + 2 * rowBytesS), v128.load(s + 3 * rowBytesS));
          if (sums != 0) {
            const at = sums + (<usize>r << 2);
            let sum = f32x4.add(v128.load(at), v128.load(t));
            sum = f32x4.add(sum, v128.load(t + rowBytesT));
            sum = f32x4.add(sum, v128.load(t + 2 * rowBytesT));
            v128.store(at, f32x4.add(sum, v128.load(t + 3 * rowBytesT)));
          }
        }
      }
    }
  }
  // The edges: columns past the last multiple of 4 for the full row blocks, then the last rows.
  for (let r = 0; r < fullRows; r++) {
    for (let c = fullCols; c < cols; c++) {
      const value = load<f32>(S + ((<usize>r * <usize>cols + <usize>c) << 2));
      store<f32>(T + <usize>c * rowBytesT + (<usize>r << 2), value);
      if (sums != 0) store<f32>(sums + (<usize>r << 2), load<f32>(sums + (<usize>r << 2)) + value);
    }
  }
  for (let r = fullRows; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = load<f32>(S + ((<usize>r * <usize>cols + <usize>c) << 2));
      store<f32>(T + <usize>c * rowBytesT + (<usize>r << 2), value);
      if (sums != 0) store<f32>(sums + (<usize>r << 2), load<f32>(sums + (<usize>r << 2)) + value);
    }
  }
}

/**
 * The batch's entries of pixels k0 ... k1 − 1 regrouped by pixel, for the weight gradient: pixel k's
 * are entries k·M ... k·M + pixelCounts[k] − 1 (M slots each, the most it can have), in batch order;
 * each holds its image's offset in the gradient's copy of dZ's block (b·byPixelBlockBytes(M)) and its
 * d. One pass over the lists (sparsePixels', whose offsets are k·rowBytes, increasing within an
 * image, so a band's entries of an image lie together); a thread team's threads each regroup the
 * band of pixels they then sum, side by side, instead of one thread regrouping all of them first.
 */
export function sparseByPixel(
  pixelCounts: usize, pixelOffsets: usize, pixelValues: usize, starts: usize, offsets: usize, values: usize, M: i32, K: i32, rowBytes: i32,
  k0: i32, k1: i32,
): void {
  memory.fill(pixelCounts + (<usize>k0 << 2), 0, <usize>(k1 - k0) << 2);
  // The pixel of an entry is its offset ÷ rowBytes, an exact multiple: a product with the
  // reciprocal, rounded, is exact for these offsets and costs a fraction of a division.
  const inverse = 1.0 / <f64>rowBytes;
  const imageBytes = <i32>byPixelBlockBytes(M);
  const low = k0 * rowBytes;
  const high = k1 * rowBytes;
  for (let b = 0; b < M; b++) {
    const row = b * imageBytes;
    const end = load<i32>(starts + (<usize>(b + 1) << 2));
    let e = load<i32>(starts + (<usize>b << 2));
    while (e < end && load<i32>(offsets + (<usize>e << 2)) < low) e++;
    for (; e < end; e++) {
      const offset = load<i32>(offsets + (<usize>e << 2));
      if (offset >= high) break;
      const k = <usize><i32>(<f64>offset * inverse + 0.5);
      const at = pixelCounts + (k << 2);
      const count = load<i32>(at);
      store<i32>(at, count + 1);
      const slot = k * <usize>M + <usize>count;
      store<i32>(pixelOffsets + (slot << 2), row);
      store<f32>(pixelValues + (slot << 2), load<f32>(values + (<usize>e << 2)));
    }
  }
}

/** dZ's columns per pass over the pixels (bytes): their rows, copied side by side, stay in L1. */
const BY_PIXEL_BLOCK_BYTES: usize = 384;
/** The four pixels' sums of a block sit at the start of PANEL; the block's rows of dZ after them. */
const BY_PIXEL_TILE_BYTES: usize = 4 * BY_PIXEL_BLOCK_BYTES;

/**
 * Bytes per image in the weight gradient's copy of dZ's block for a batch of M: BY_PIXEL_BLOCK_BYTES,
 * or less where M rows of it would not fit PANEL (batches beyond 600 or so). sparseByPixel gives
 * each entry its image's offset in that copy.
 */
export function byPixelBlockBytes(M: i32): usize {
  const fit = ((PANEL_CAPACITY - BY_PIXEL_TILE_BYTES) / <usize>max(M, 1)) & ~15;
  return max<usize>(16, min(BY_PIXEL_BLOCK_BYTES, fit));
}

/**
 * dW[N, K] = x0·db[n] + Σ_b d[b, k]·dZ[b, n] for the pixels k0 ... k1 − 1 (k0 a multiple of 4), from
 * the entries by pixel (sparseByPixel); db = Σ_b dZ[b, :] first. Each pixel's row of dWᵀ is summed
 * in registers, 24 outputs at a time, over its images in batch order (the forward's loop with the
 * roles of Wᵀ and the images swapped), from a copy of dZ's block whose rows lie side by side (dZ's
 * own rows are N·4 bytes apart, which for N = 256 ... 2048 puts all 64 of a block in a few sets of
 * L1). With `rows` 0, four pixels' rows are then written into dW's columns as 4 × 4 transposes;
 * otherwise dW is dWᵀ [K, N] (the model keeps that layer transposed) and each row is summed into
 * place. Every element's sum is the same whatever the band, so a thread team splits the pixels.
 */
export function sparseWeightGradientByPixel(
  dW: usize, pixelCounts: usize, pixelOffsets: usize, pixelValues: usize, dZ: usize, db: usize, x0: f32, M: i32, N: i32, K: i32, k0: i32, k1: i32,
  rows: i32,
): void {
  const rowBytes = <usize>N << 2;
  const wRowBytes = <usize>K << 2;
  const base = f32x4.splat(x0);
  const blockBytes = byPixelBlockBytes(M);
  const tile = PANEL;
  const copy = PANEL + BY_PIXEL_TILE_BYTES;
  for (let block: usize = 0; block < rowBytes; block += blockBytes) {
    const blockEnd = min(block + blockBytes, rowBytes);
    copyColumns(copy, blockBytes, dZ + block, rowBytes, M, blockEnd - block);
    // copy − block + b·blockBytes + n addresses dZ[b, n] for n in the block.
    const g0 = copy - block;
    for (let k = k0; k < k1; k += 4) {
      const pixels = min(4, k1 - k);
      for (let j = 0; j < pixels; j++) {
        const first = (k + j) * M;
        const last = first + load<i32>(pixelCounts + (<usize>(k + j) << 2));
        // t + n: where element n of pixel k + j's sums goes (the tile, or dWᵀ's row itself).
        const t = rows != 0 ? dW + <usize>(k + j) * rowBytes : tile + <usize>j * BY_PIXEL_BLOCK_BYTES - block;
        let n: usize = block;
        for (; n + 96 <= blockEnd; n += 96) {
          sumRows24(t + n, g0 + n, pixelOffsets, pixelValues, first, last,
            f32x4.mul(base, v128.load(db + n)), f32x4.mul(base, v128.load(db + n, 16)), f32x4.mul(base, v128.load(db + n, 32)),
            f32x4.mul(base, v128.load(db + n, 48)), f32x4.mul(base, v128.load(db + n, 64)), f32x4.mul(base, v128.load(db + n, 80)));
        }
        for (; n < blockEnd; n += 16) {
          let c = f32x4.mul(base, v128.load(db + n));
          for (let e = first; e < last; e++) {
            const g = g0 + <usize>load<i32>(pixelOffsets + (<usize>e << 2)) + n;
            c = madd(v128.load32_splat(pixelValues + (<usize>e << 2)), v128.load(g), c);
          }
          v128.store(t + n, c);
        }
      }
      if (rows != 0) continue;
      // The tile's rows are dWᵀ[k + j, block]: into dW[block's outputs, k ... k + pixels − 1].
      const w = dW + (<usize>k << 2);
      if (pixels == 4) {
        for (let n = block; n < blockEnd; n += 16) {
          const t = tile - block + n;
          storeTransposed4(w + n * <usize>K, wRowBytes, v128.load(t), v128.load(t + BY_PIXEL_BLOCK_BYTES),
            v128.load(t + 2 * BY_PIXEL_BLOCK_BYTES), v128.load(t + 3 * BY_PIXEL_BLOCK_BYTES));
        }
      } else {
        for (let j = 0; j < pixels; j++) {
          for (let n = block; n < blockEnd; n += 4) {
            store<f32>(w + n * <usize>K + (<usize>j << 2), load<f32>(tile + <usize>j * BY_PIXEL_BLOCK_BYTES + n - block));
          }
        }
      }
    }
  }
}
