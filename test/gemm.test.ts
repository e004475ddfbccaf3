// The matrix-product kernels against float64 on shapes that exercise every edge of their tiles, the
// fused activation epilogues against the standalone activation kernels (bit for bit), and the pixel
// normalisation of loadBatch against the formula.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Kernels } from "../src/engine/kernels.js";
import { Mlp, mlpMemoryPlan } from "../src/engine/mlp.js";
import { mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";

const kernels = new Kernels();
const e = kernels.exports;
const random = Random.fromSeed(11);

function filled(count: number, scale = 1): { pointer: number; values: Float32Array } {
  const pointer = kernels.allocFloats(count);
  const values = new Float32Array(count);
  random.fillUniform(values, scale);
  kernels.floats(pointer, count).set(values);
  return { pointer, values };
}

/** |c − exact| within a float32 summation bound: K roundings of terms up to Σ|a·b|. */
function assertProductClose(actual: Float32Array, exact: Float64Array, magnitude: Float64Array, K: number, what: string): void {
  for (let i = 0; i < exact.length; i++) {
    const bound = (K + 2) * 2 ** -24 * magnitude[i] + 1e-30;
    assert.ok(Math.abs(actual[i] - exact[i]) <= bound, `${what}[${i}] = ${actual[i]}, exact ${exact[i]} (bound ${bound})`);
  }
}

// M, N, K: full tiles, every partial tile, and the first layer's 784.
const SHAPES: Array<[number, number, number]> = [[1, 1, 1], [2, 4, 4], [3, 5, 7], [7, 10, 13], [9, 17, 6], [4, 8, 3], [64, 64, 784], [65, 11, 21]];
// Sizes that are not multiples of any tile, in every position, a few drawn at random (seeded)...
const ODD = [1, 3, 5, 17, 63, 65, 257];
const drawn = Random.fromSeed(1234);
const pick = () => ODD[drawn.nextInt(0, ODD.length - 1)];
const ODD_SHAPES: Array<[number, number, number]> = [
  [1, 257, 65], [3, 17, 257], [5, 63, 1], [17, 65, 5], [63, 5, 17], [65, 257, 3], [257, 3, 63],
  ...Array.from({ length: 4 }, (): [number, number, number] => [pick(), pick(), pick()]),
];
// ...and ones large enough for gemmBroadcast's packed path (K·N above 16,384 floats), with partial
// blocks of K (256) and of M (128) and a partial 8-column panel.
const PACKED_SHAPES: Array<[number, number, number]> = [[65, 257, 257], [257, 65, 300], [130, 17, 1100], [5, 1030, 20], [3, 129, 600]];

describe("gemmNT: C = A·Bᵀ + bias", () => {
  for (const [M, N, K] of [...SHAPES, ...ODD_SHAPES]) {
    it(`${M}×${N}, K = ${K}`, () => {
      const A = filled(M * K);
      const B = filled(N * K);
      const bias = filled(N);
      const C = kernels.allocFloats(M * N);
      e.gemmNT(C, A.pointer, B.pointer, bias.pointer, M, N, K);
      const exact = new Float64Array(M * N);
      const magnitude = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let sum = bias.values[n];
          let size = Math.abs(bias.values[n]);
          for (let k = 0; k < K; k++) {
            sum += A.values[m * K + k] * B.values[n * K + k];
            size += Math.abs(A.values[m * K + k] * B.values[n * K + k]);
          }
          exact[m * N + n] = sum;
          magnitude[m * N + n] = size;
        }
      }
      assertProductClose(kernels.floats(C, M * N), exact, magnitude, K, "C");
    });
  }
});

describe("gemmBroadcast: C = bias + A(strided)·B, with the activation's backward fused", () => {
  for (const [M, N, K] of [...SHAPES, ...ODD_SHAPES, ...PACKED_SHAPES]) {
    for (const transposed of [false, true]) {
      it(`${M}×${N}, K = ${K}, A ${transposed ? "transposed" : "as stored"}`, () => {
        const A = filled(M * K);
        const B = filled(K * N);
        // A(m, k) at m·strideM + k·strideK: [M, K] as stored, or [K, M] read transposed.
        const [strideM, strideK] = transposed ? [1, M] : [K, 1];
        const bias = filled(N);
        const C = kernels.allocFloats(M * N);
        e.gemmBroadcast(C, A.pointer, strideM, strideK, B.pointer, bias.pointer, M, N, K, 0, 0, 0, 0);
        const exact = new Float64Array(M * N);
        const magnitude = new Float64Array(M * N);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            exact[m * N + n] = bias.values[n];
            magnitude[m * N + n] = Math.abs(bias.values[n]);
            for (let k = 0; k < K; k++) {
              const term = A.values[m * strideM + k * strideK] * B.values[k * N + n];
              exact[m * N + n] += term;
              magnitude[m * N + n] += Math.abs(term);
            }
          }
        }
        assertProductClose(kernels.floats(C, M * N), exact, magnitude, K, "C");

        // Fused: C ← f'(Z) ⊙ (A·B), equal to the plain product followed by the backward kernel.
        const Z = filled(M * N, 3);
        const F = kernels.allocFloats(M * N);
        kernels.activationForward("silu")(F, Z.pointer, M * N, 0);
        const fused = kernels.allocFloats(M * N);
        e.gemmBroadcast(fused, A.pointer, strideM, strideK, B.pointer, bias.pointer, M, N, K, kernels.activationKind("silu"), Z.pointer, F, 0);
        kernels.activationBackward("silu")(C, C, Z.pointer, F, M * N, 0);
        assert.deepEqual(kernels.floats(fused, M * N), kernels.floats(C, M * N));
      });
    }
  }
});

describe("gemmBroadcast's packed path gives the bits of the direct kernel", () => {
  for (const [M, N, K] of PACKED_SHAPES) {
    for (const transposed of [false, true]) {
      it(`${M}×${N}, K = ${K}, A ${transposed ? "transposed" : "as stored"}, with bias and relu's derivative`, () => {
        const A = filled(M * K);
        const B = filled(K * N);
        const bias = filled(N);
        const Z = filled(M * N, 3);
        const F = kernels.allocFloats(M * N);
        kernels.activationForward("relu")(F, Z.pointer, M * N, 0);
        const [strideM, strideK] = transposed ? [1, M] : [K, 1];
        const relu = kernels.activationKind("relu");
        for (const [b, kind] of [[bias.pointer, 0], [0, relu]]) {
          const packed = kernels.allocFloats(M * N);
          const direct = kernels.allocFloats(M * N);
          e.gemmBroadcast(packed, A.pointer, strideM, strideK, B.pointer, b, M, N, K, kind, Z.pointer, F, 0);
          (e as unknown as { gemmBroadcastDirect: typeof e.gemmBroadcast }).gemmBroadcastDirect(
            direct, A.pointer, strideM, strideK, B.pointer, b, M, N, K, kind, Z.pointer, F, 0);
          assert.deepEqual(kernels.floats(packed, M * N), kernels.floats(direct, M * N));
        }
      });
    }
  }
});

describe("gemmNTPacked: A·Bᵀ packed straight from B [N, K], the bits of gemmBroadcast over a copy of Bᵀ", () => {
  // Partial panels of 1 to 7 columns (N mod 8), K not a multiple of 4 (the scalar tail of packBT), small shapes too.
  for (const [M, N, K] of [...PACKED_SHAPES, [9, 23, 77], [4, 4, 4], [1, 5, 3], [66, 2053, 131]] as Array<[number, number, number]>) {
    it(`${M}×${N}, K = ${K}`, () => {
      const A = filled(M * K);
      const B = filled(N * K);
      const bias = filled(N);
      const Bt = kernels.allocFloats(K * N);
      e.transpose(Bt, B.pointer, N, K);
      for (const b of [bias.pointer, 0]) {
        const packed = kernels.allocFloats(M * N);
        const direct = kernels.allocFloats(M * N);
        e.gemmNTPacked(packed, A.pointer, B.pointer, b, M, N, K);
        (e as unknown as { gemmBroadcastDirect: typeof e.gemmBroadcast }).gemmBroadcastDirect(direct, A.pointer, K, 1, Bt, b, M, N, K, 0, 0, 0, 0);
        assert.deepEqual(kernels.floats(packed, M * N), kernels.floats(direct, M * N));
      }
    });
  }
});

describe("transpose and columnSums", () => {
  // 256 and 1024 rows take the transpose's tiles for rows a multiple of 1 KB apart, 784 the others.
  for (const [rows, cols] of [[1, 1], [3, 5], [17, 63], [65, 257], [256, 13], [1024, 9], [784, 65], [257, 784]]) {
    it(`${rows}×${cols}`, () => {
      const S = filled(rows * cols);
      const T = kernels.allocFloats(rows * cols);
      e.transpose(T, S.pointer, rows, cols);
      const t = kernels.floats(T, rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) if (t[c * rows + r] !== S.values[r * cols + c]) assert.fail(`T[${c}, ${r}] = ${t[c * rows + r]}`);
      }
      // Into rows 64 bytes further apart, with the row sums columnSums gives over T, bit for bit.
      const tRowBytes = rows * 4 + 64;
      const padded = kernels.alloc(cols * tRowBytes);
      const fused = kernels.allocFloats(rows);
      e.transposeInto(padded, tRowBytes, S.pointer, rows, cols, fused);
      const overT = kernels.allocFloats(rows);
      e.columnSums(overT, T, cols, rows);
      // (Views of the memory are taken again after the allocations above, which may have grown it.)
      const plain = kernels.floats(T, rows * cols);
      for (let c = 0; c < cols; c++) {
        const row = kernels.floats(padded + c * tRowBytes, rows);
        for (let r = 0; r < rows; r++) if (row[r] !== plain[c * rows + r]) assert.fail(`padded T[${c}, ${r}] = ${row[r]}`);
      }
      assert.deepEqual(kernels.floats(fused, rows), kernels.floats(overT, rows));
      // Column sums in f32, each column from row 0 down, exactly.
      const sums = kernels.allocFloats(cols);
      e.columnSums(sums, S.pointer, rows, cols);
      const actual = kernels.floats(sums, cols);
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = 0; r < rows; r++) acc = Math.fround(acc + S.values[r * cols + c]);
        assert.equal(actual[c], acc, `column ${c}`);
      }
    });
  }
});

describe("sparse first layer kernels against float64", () => {
  // 516 columns (2,064-byte rows) are a wide layer: padded Wᵀ rows, the gradient by pixel; 132 that
  // gradient without padding; 8 and 100 the narrow path.
  for (const N of [8, 100, 132, 516]) {
    it(`784 pixels → ${N}, forward and weight gradient`, () => {
      const K = 784;
      const M = 5;
      const pixels = kernels.alloc(M * K);
      const bytes = kernels.bytes();
      for (let i = 0; i < M * K; i++) bytes[pixels + i] = random.nextFloat() < 0.8 ? 0 : 1 + random.nextInt(0, 254);
      const u = bytes.slice(pixels, pixels + M * K);
      const table = kernels.allocFloats(512);
      e.pixelTable(table, 0.1307, 0.3081);
      const values = kernels.floats(table, 256).slice();
      const starts = kernels.alloc(4 * (M + 1));
      const offsets = kernels.alloc(4 * M * K);
      const lists = kernels.allocFloats(M * K);
      // Wᵀ's rows as the layer keeps them: padded for wide layers (516 outputs), the lists' offsets in them.
      const rowBytes = e.sparseRowBytes(N);
      e.sparsePixels(offsets, lists, starts, pixels, M, K, table, rowBytes, 0);
      const W = filled(N * K);
      const b = filled(N);
      const Wt = kernels.alloc(K * rowBytes);
      const rowSums = kernels.allocFloats(N);
      e.transposeInto(Wt, rowBytes, W.pointer, N, K, rowSums);
      const Z = kernels.allocFloats(M * N);
      e.sparseForward(Z, starts, offsets, lists, Wt, b.pointer, rowSums, values[0], M, N);
      const exact = new Float64Array(M * N);
      const magnitude = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let sum = b.values[n];
          let size = Math.abs(sum);
          for (let k = 0; k < K; k++) {
            const term = values[u[m * K + k]] * W.values[n * K + k];
            sum += term;
            size += Math.abs(term) + Math.abs(values[0] * W.values[n * K + k]);
          }
          exact[m * N + n] = sum;
          magnitude[m * N + n] = size;
        }
      }
      assertProductClose(kernels.floats(Z, M * N), exact, magnitude, K, "Z");

      // dWᵀ[k, n] = Σ_m x[m, k]·dZ[m, n], with db = Σ_m dZ[m, n] first.
      const dZ = filled(M * N);
      const db = kernels.allocFloats(N);
      e.columnSums(db, dZ.pointer, M, N);
      // Narrow layers gather dWᵀ; wide ones (516) write dW [N, K] from the entries regrouped by pixel.
      const dWt = kernels.allocFloats(K * N);
      const byPixel = e.sparseGradientByPixel(N) !== 0;
      assert.equal(byPixel, N >= 128);
      if (byPixel) {
        const counts = kernels.alloc(4 * K);
        const pixelOffsets = kernels.alloc(4 * M * K);
        const pixelValues = kernels.allocFloats(M * K);
        const dW = kernels.allocFloats(N * K);
        e.sparseByPixel(counts, pixelOffsets, pixelValues, starts, offsets, lists, M, K, rowBytes, 0, K);
        e.sparseWeightGradientByPixel(dW, counts, pixelOffsets, pixelValues, dZ.pointer, db, values[0], M, N, K, 0, K, 0);
        e.transpose(dWt, dW, N, K);
      } else {
        e.sparseWeightGradient(dWt, starts, offsets, lists, dZ.pointer, db, values[0], M, N, K);
      }
      const exactG = new Float64Array(K * N);
      const magnitudeG = new Float64Array(K * N);
      for (let k = 0; k < K; k++) {
        for (let n = 0; n < N; n++) {
          for (let m = 0; m < M; m++) {
            const term = values[u[m * K + k]] * dZ.values[m * N + n];
            exactG[k * N + n] += term;
            magnitudeG[k * N + n] += Math.abs(term) + Math.abs(values[0] * dZ.values[m * N + n]);
          }
        }
      }
      assertProductClose(kernels.floats(dWt, K * N), exactG, magnitudeG, M + 2, "dWt");
    });
  }
});

describe("sparseWeightGradientByPixel: dW from the entries by pixel, the bits of the narrow path's dWᵀ transposed", () => {
  // 100 images with every pixel set (78,400 entries, 100 per pixel), batches past the copy of dZ's
  // blocks at full width (700: narrower blocks), 781 pixels (the last group of four short), and bands
  // of pixels as a thread team cuts them.
  for (const [M, N, K, density] of [[5, 516, 784, 0.2], [64, 1024, 784, 0.2], [100, 512, 784, 1], [7, 520, 781, 0.5], [700, 512, 784, 0.2], [64, 2048, 784, 0.2], [64, 128, 784, 0.2]]) {
    it(`${M} images of ${K} pixels (${density * 100}% set) → ${N}`, () => {
      assert.equal(e.sparseGradientByPixel(N), 1);
      const pixels = kernels.alloc(M * K);
      const bytes = kernels.bytes();
      for (let i = 0; i < M * K; i++) bytes[pixels + i] = random.nextFloat() < density ? 1 + random.nextInt(0, 254) : 0;
      const table = kernels.allocFloats(512);
      e.pixelTable(table, 0.1307, 0.3081);
      const x0 = kernels.floats(table, 1)[0];
      const list = (rowBytes: number) => {
        const starts = kernels.alloc(4 * (M + 1));
        const offsets = kernels.alloc(4 * M * K);
        const values = kernels.allocFloats(M * K);
        e.sparsePixels(offsets, values, starts, pixels, M, K, table, rowBytes, 0);
        return { starts, offsets, values };
      };
      const dZ = filled(M * N);
      const db = kernels.allocFloats(N);
      e.columnSums(db, dZ.pointer, M, N);
      const narrow = list(N * 4);
      const dWt = kernels.allocFloats(K * N);
      const viaTranspose = kernels.allocFloats(N * K);
      e.sparseWeightGradient(dWt, narrow.starts, narrow.offsets, narrow.values, dZ.pointer, db, x0, M, N, K);
      e.transpose(viaTranspose, dWt, K, N);
      const wide = list(e.sparseRowBytes(N));
      const counts = kernels.alloc(4 * K);
      const pixelOffsets = kernels.alloc(4 * M * K);
      const pixelValues = kernels.allocFloats(M * K);
      e.sparseByPixel(counts, pixelOffsets, pixelValues, wide.starts, wide.offsets, wide.values, M, K, e.sparseRowBytes(N), 0, K);
      const whole = kernels.allocFloats(N * K);
      e.sparseWeightGradientByPixel(whole, counts, pixelOffsets, pixelValues, dZ.pointer, db, x0, M, N, K, 0, K, 0);
      assert.deepEqual(kernels.floats(whole, N * K), kernels.floats(viaTranspose, N * K));
      // Bands as a team's threads take them: each regroups its own pixels, then sums them.
      const banded = kernels.allocFloats(N * K);
      const bandCounts = kernels.alloc(4 * K);
      for (const [k0, k1] of [[0, 196], [196, 392], [392, K]]) {
        e.sparseByPixel(bandCounts, pixelOffsets, pixelValues, wide.starts, wide.offsets, wide.values, M, K, e.sparseRowBytes(N), k0, k1);
        e.sparseWeightGradientByPixel(banded, bandCounts, pixelOffsets, pixelValues, dZ.pointer, db, x0, M, N, K, k0, k1, 0);
      }
      assert.deepEqual(kernels.floats(banded, N * K), kernels.floats(whole, N * K));
      // Into dWᵀ's rows (a model that keeps the layer transposed): the narrow path's dWᵀ, whole and in bands.
      const rows = kernels.allocFloats(K * N);
      e.sparseWeightGradientByPixel(rows, counts, pixelOffsets, pixelValues, dZ.pointer, db, x0, M, N, K, 0, K, 1);
      assert.deepEqual(kernels.floats(rows, K * N), kernels.floats(dWt, K * N));
      const bandedRows = kernels.allocFloats(K * N);
      for (const [k0, k1] of [[0, 196], [196, 392], [392, K]]) {
        e.sparseByPixel(bandCounts, pixelOffsets, pixelValues, wide.starts, wide.offsets, wide.values, M, K, e.sparseRowBytes(N), k0, k1);
        e.sparseWeightGradientByPixel(bandedRows, bandCounts, pixelOffsets, pixelValues, dZ.pointer, db, x0, M, N, K, k0, k1, 1);
      }
      assert.deepEqual(kernels.floats(bandedRows, K * N), kernels.floats(dWt, K * N));
    });
  }
  it("is chosen by shape, with Wᵀ's rows padded: narrow layers keep dWᵀ", () => {
    assert.equal(e.sparseGradientByPixel(64), 0);
    assert.equal(e.sparseGradientByPixel(124), 0);
    assert.equal(e.sparseGradientByPixel(128), 1);
    assert.equal(e.sparseGradientByPixel(130), 0);
    assert.equal(e.sparseRowBytes(256), 1024);
    assert.equal(e.sparseRowBytes(1024), 4096 + 64);
  });
});

describe("listPixels and expandPixels: compact lists kept, expanded per batch, give sparsePixels' lists", () => {
  it("expands lists gathered in any order (and repeated) to the entries sparsePixels makes for that batch, bit for bit", () => {
    const K = 784;
    const M = 12;
    const pixels = kernels.alloc(M * K);
    const bytes = kernels.bytes();
    // Image 3 is blank (no entries), image 7 full (784), the rest about a fifth nonzero.
    for (let i = 0; i < M * K; i++) {
      const image = Math.floor(i / K);
      bytes[pixels + i] = image === 3 ? 0 : image === 7 ? 1 + (i % 255) : random.nextFloat() < 0.8 ? 0 : 1 + random.nextInt(0, 254);
    }
    const table = kernels.allocFloats(512);
    e.pixelTable(table, 0.1307, 0.3081);
    const rowBytes = e.sparseRowBytes(516);
    // Kept: the compact lists of all 12, listed after 5 entries already there.
    const compact = kernels.alloc(4 * (5 + M * K));
    const keptStarts = kernels.alloc(4 * (M + 1));
    const end = e.listPixels(compact, keptStarts, pixels, M, K, 5);
    const starts = kernels.intAt(keptStarts);
    assert.equal(starts, 5);
    assert.equal(kernels.intAt(keptStarts + 4 * 4) - kernels.intAt(keptStarts + 3 * 4), 0, "a blank image has no entries");
    assert.equal(kernels.intAt(keptStarts + 8 * 4) - kernels.intAt(keptStarts + 7 * 4), K);
    // A batch in another order, one image twice: its lists expanded from the kept ones.
    const batch = [7, 2, 11, 3, 2, 0, 9];
    const from = kernels.alloc(4 * batch.length);
    const to = kernels.alloc(4 * batch.length);
    batch.forEach((image, b) => {
      kernels.words()[(from >>> 2) + b] = kernels.intAt(keptStarts + 4 * image);
      kernels.words()[(to >>> 2) + b] = kernels.intAt(keptStarts + 4 * (image + 1));
    });
    const list = () => ({ starts: kernels.alloc(4 * (batch.length + 1)), offsets: kernels.alloc(4 * batch.length * K), values: kernels.allocFloats(batch.length * K) });
    const expanded = list();
    const entries = e.expandPixels(expanded.offsets, expanded.values, expanded.starts, compact, from, to, batch.length, table, rowBytes, 0);
    // The same batch's pixels, listed afresh.
    const batchPixels = kernels.alloc(batch.length * K);
    batch.forEach((image, b) => kernels.bytes().copyWithin(batchPixels + b * K, pixels + image * K, pixels + (image + 1) * K));
    const fresh = list();
    assert.equal(e.sparsePixels(fresh.offsets, fresh.values, fresh.starts, batchPixels, batch.length, K, table, rowBytes, 0), entries);
    assert.deepEqual(kernels.bytes().slice(expanded.starts, expanded.starts + 4 * (batch.length + 1)), kernels.bytes().slice(fresh.starts, fresh.starts + 4 * (batch.length + 1)));
    assert.deepEqual(kernels.bytes().slice(expanded.offsets, expanded.offsets + 4 * entries), kernels.bytes().slice(fresh.offsets, fresh.offsets + 4 * entries));
    assert.deepEqual(kernels.bytes().slice(expanded.values, expanded.values + 4 * entries), kernels.bytes().slice(fresh.values, fresh.values + 4 * entries));
    // And those are the pixels: offset k·rowBytes and d = table[u] − table[0], in pixel order.
    const values = kernels.floats(table + 1024, 256);
    let at = 0;
    batch.forEach((image) => {
      for (let k = 0; k < K; k++) {
        const u = kernels.bytes()[pixels + image * K + k];
        if (u === 0) continue;
        assert.equal(kernels.intAt(fresh.offsets + 4 * at), k * rowBytes);
        assert.equal(kernels.floatAt(fresh.values + 4 * at), values[u]);
        at++;
      }
    });
    assert.equal(at, entries);
    assert.equal(end, kernels.intAt(keptStarts + 4 * M), "listPixels returns starts[count]");
  });
});

describe("the memory plan keeps transposed copies only where the kernels read them", () => {
  const names = (width: number, layers: number) =>
    mlpMemoryPlan(mlpConfig({ inSize: 784, outSize: 10, hiddenSize: width, numHiddenLayers: layers, activation: "relu" }), 64).plan.regions.map((r) => r.name);
  it("the notebook's 5 × 64 keeps Wᵀ of its hidden layers, and no copy of the first layer's (the blocks hold it transposed)", () => {
    const plan = names(64, 5);
    for (const k of [1, 2, 3, 4]) assert.ok(plan.includes(`layer${k}.Wt`), `layer${k}.Wt`);
    assert.ok(plan.includes("layer0.scratch"));
    assert.ok(!plan.includes("sparse.transposed"), plan.join(", "));
  });
  it("3 × 1024 keeps neither for its wide layers (gemmNTPacked and sparseWeightGradientByPixel read and write W and dW themselves)", () => {
    const plan = names(1024, 3);
    assert.ok(!plan.includes("layer1.Wt"), plan.join(", "));
    // The 10 × 1024 output layer is small enough for the unpacked product: its Wᵀ (40 KB) stays.
    assert.ok(plan.includes("layer2.Wt"));
    // The first layer writes dW by pixel and reads a padded copy of Wᵀ: its blocks keep PyTorch's layout.
    assert.ok(!plan.includes("layer0.scratch"));
    assert.ok(plan.includes("sparse.transposed"));
  });
  it("3 × 256 keeps its first layer transposed in the blocks (unpadded rows of Wᵀ), and writes its dW by pixel", () => {
    const plan = names(256, 3);
    assert.ok(plan.includes("layer0.scratch"));
    assert.ok(!plan.includes("sparse.transposed"), plan.join(", "));
    assert.ok(plan.includes("sparse.pixelCounts"));
  });
});

describe("loadBatch", () => {
  // 784 bytes are 196 words (copied four at a time); 28 are 7 (three left after the fours), 30 not words at all.
  for (const size of [28 * 28, 28, 30]) it(`gathers images of ${size} pixels in order and normalises each pixel exactly as (u/255 − mean)/std in f32`, () => {
    const count = 300;
    const images = new Uint8Array(count * size);
    for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
    const model = new Mlp(mlpConfig({ inSize: size, outSize: 10, hiddenSize: 8, numHiddenLayers: 2, activation: "relu" }), 64);
    const order = Uint32Array.from({ length: count }, (_, i) => (i * 7) % count);
    for (const normalization of [{ mean: 0.1307, std: 0.3081 }, { mean: 0.5, std: 0.25 }]) {
      const [mean, std] = [Math.fround(normalization.mean), Math.fround(normalization.std)];
      model.input.loadBatch(images, labels, order, 100, 64, normalization);
      const input = model.input.inputValues(64);
      for (let i = 0; i < 64; i++) {
        const image = order[100 + i];
        assert.equal(model.kernels.bytes()[model.input.labels + i], labels[image]);
        for (let j = 0; j < size; j++) {
          const u = images[image * size + j];
          const expected = Math.fround(Math.fround(Math.fround(u / 255) - mean) / std);
          if (input[i * size + j] !== expected) assert.fail(`image ${image} pixel ${j}: ${input[i * size + j]}, expected ${expected}`);
        }
      }
    }
  });
});
