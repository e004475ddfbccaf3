// The first layer's products on sparse images (see assembly/sparse.ts for the arithmetic). Used when
// the batch came from uint8 pixels and at most half of its pixels are nonzero (MNIST: about a
// fifth), so that it does a fraction of the dense products' work; other batches, and layers whose
// width is not a multiple of 4, take the dense path. The lists of nonzero pixels are the input
// pipeline's (inputPipeline.ts): they do not depend on the weights. What does (the row sums of W,
// and a wide layer's Wᵀ) is kept here and rebuilt after the model says its weights changed. Up to
// 511 outputs Wᵀ is no copy: the model keeps that layer's weight transposed in its own blocks
// (transposedInBlocks), so its optimiser updates Wᵀ itself and no transpose runs in a step.
import { COLUMN_GRAIN, runBands, type KernelCall, type ThreadTeam } from "./threadTeam.js";
import type { PixelLists } from "./inputPipeline.js";
import { probeKernels, type Kernels, type MemoryPlan } from "./kernels.js";

/** Where the layer's derived buffers lie (pointers), as SparseFirstLayer.plan placed them. */
export interface SparseRegions {
  /** Layers whose Wᵀ rows are padded (512 outputs and more): Wᵀ [in, out], rows rowBytes apart, derived from W; else 0 (the blocks' own). */
  transposed: number;
  rowSums: number;
  /** Layers of 128 outputs and more (sparseGradientByPixel): the batch's entries regrouped by pixel (sparseByPixel); else 0. */
  pixelCounts: number;
  pixelOffsets: number;
  pixelValues: number;
}

export class SparseFirstLayer {
  /** Wᵀ [in, out] (rows rowBytes apart) and Σ_k W[n, k], derived from the weights: refreshed before use once stale. */
  private readonly transposed: number;
  /** Whether the weight and its gradient come as the blocks hold them transposed (transposedInBlocks). */
  private readonly inBlocks: boolean;
  private readonly rowSums: number;
  private readonly rowBytes: number;
  private stale = true;
  private readonly regions: SparseRegions;

  /** Bytes between the rows of Wᵀ for a layer of `outSize` outputs (padded for wide layers); the lists' offsets count in them. */
  static rowBytes(outSize: number): number {
    return probeKernels().exports.sparseRowBytes(outSize);
  }

  /**
   * Whether a model keeps this layer's weight, its gradient and its optimiser state transposed,
   * [in, out], in its blocks: where the rows of Wᵀ are not padded (under 2 KB: fewer than 512
   * outputs), since the forward reads rows of Wᵀ and the weight gradient makes rows of dWᵀ. That
   * saves the transposes of every step (Wᵀ and its row sums from W: 15 µs at 784 × 64, 65 at 256;
   * below 128 outputs also dW from dWᵀ, 10 µs at 64): the row sums are then a column sum of the
   * block's Wᵀ (8 and 30 µs). Wider layers read a padded copy of Wᵀ, rebuilt after every step.
   */
  static transposedInBlocks(outSize: number): boolean {
    return SparseFirstLayer.fits(outSize) && SparseFirstLayer.rowBytes(outSize) === outSize * 4;
  }

  /**
   * Places the layer's buffers in a model's memory plan (mlp.ts): the row sums; a padded Wᵀ where the
   * blocks do not hold it (transposedInBlocks); and from 128 outputs on, to write dW from entries
   * regrouped by pixel, `trainRows` slots per pixel (the most images a training batch has: 400 KB
   * at 64), where dWᵀ would be 6.4 MB at 784 × 2048.
   */
  static plan(plan: MemoryPlan, inSize: number, outSize: number, trainRows: number): SparseRegions {
    const byPixel = probeKernels().exports.sparseGradientByPixel(outSize) !== 0;
    return {
      transposed: SparseFirstLayer.transposedInBlocks(outSize) ? 0 : plan.take("sparse.transposed", inSize * SparseFirstLayer.rowBytes(outSize)),
      rowSums: plan.takeFloats("sparse.rowSums", outSize),
      pixelCounts: byPixel ? plan.take("sparse.pixelCounts", 4 * inSize) : 0,
      pixelOffsets: byPixel ? plan.take("sparse.pixelOffsets", 4 * inSize * trainRows) : 0,
      pixelValues: byPixel ? plan.takeFloats("sparse.pixelValues", inSize * trainRows) : 0,
    };
  }

  constructor(private readonly kernels: Kernels, readonly inSize: number, readonly outSize: number, regions: SparseRegions) {
    this.transposed = regions.transposed;
    this.rowSums = regions.rowSums;
    this.rowBytes = SparseFirstLayer.rowBytes(outSize);
    this.inBlocks = SparseFirstLayer.transposedInBlocks(outSize);
    this.regions = regions;
  }

  /** Whether a layer of this shape can take the sparse path at all. */
  static fits(outSize: number): boolean {
    return outSize % 4 === 0;
  }

  /** The weights changed (an SGD step, a write): Wᵀ is recomputed before the next sparse forward. */
  invalidate(): void {
    this.stale = true;
  }

  /**
   * The row sums of W, and a wide layer's Wᵀ (the sums made as W is transposed), rebuilt when the
   * weights changed; `W` is the weight as the blocks hold it (Wᵀ where transposedInBlocks, whose
   * column sums are the same bits). A team splits the outputs: each thread writes its band of Wᵀ's
   * columns and their sums (copies, and each sum in order).
   */
  refresh(W: number, team?: ThreadTeam): void {
    if (!this.stale) return;
    const k = this.kernels.exports;
    if (this.inBlocks) {
      k.columnSums(this.rowSums, W, this.inSize, this.outSize);
    } else if (team) {
      runBands(team, this.outSize, COLUMN_GRAIN, (n0, n1) => [
        { fn: "transposeInto", args: [this.transposed + n0 * 4, this.rowBytes, W + n0 * this.inSize * 4, n1 - n0, this.inSize, this.rowSums + n0 * 4] },
      ]);
    } else {
      k.transposeInto(this.transposed, this.rowBytes, W, this.outSize, this.inSize, this.rowSums);
    }
    this.stale = false;
  }

  /** Z = X·Wᵀ + b for the listed batch; W and b as the parameter block holds them (see refresh). */
  forward(Z: number, W: number, b: number, lists: PixelLists, count: number): void {
    const k = this.kernels.exports;
    this.refresh(W);
    k.sparseForward(Z, lists.starts, lists.offsets, lists.values, this.rows(W), b, this.rowSums, lists.zeroValue, count, this.outSize);
  }

  /** Where the forward reads Wᵀ: the blocks' own (transposedInBlocks) or the derived copy. */
  private rows(W: number): number {
    return this.inBlocks ? W : this.transposed;
  }

  /**
   * The call that computes rows first ... first + count − 1 of Z (Z pointing at row `first`) for a
   * thread team; Wᵀ is refreshed here first if the model has not (with its team) already.
   */
  forwardCall(Z: number, W: number, b: number, lists: PixelLists, first: number, count: number): KernelCall {
    this.refresh(W);
    return { fn: "sparseForward", args: [Z, lists.starts + first * 4, lists.offsets, lists.values, this.rows(W), b, this.rowSums, lists.zeroValue, count, this.outSize] };
  }

  /**
   * dW and db for the listed batch, from dZ [count, out]; dW as the gradient block holds it (dWᵀ
   * [in, out] where transposedInBlocks, else [out, in]). From 128 outputs on the entries are
   * regrouped by pixel and each element summed in registers (sparseGradientByPixel); with a team
   * (layers of 256 outputs and more), each thread regroups and sums a band of the pixels, each
   * element as the whole call sums it, so the same bits.
   */
  backward(dW: number, db: number, dZ: number, lists: PixelLists, count: number, team?: ThreadTeam): void {
    const k = this.kernels.exports;
    k.columnSums(db, dZ, count, this.outSize);
    const { pixelCounts, pixelOffsets, pixelValues } = this.regions;
    if (pixelCounts !== 0) {
      const rows = this.inBlocks ? 1 : 0;
      if (team) {
        runBands(team, this.inSize, COLUMN_GRAIN, (k0, k1) => [
          { fn: "sparseByPixel", args: [pixelCounts, pixelOffsets, pixelValues, lists.starts, lists.offsets, lists.values, count, this.inSize, this.rowBytes, k0, k1] },
          { fn: "sparseWeightGradientByPixel", args: [dW, pixelCounts, pixelOffsets, pixelValues, dZ, db, lists.zeroValue, count, this.outSize, this.inSize, k0, k1, rows] },
        ]);
      } else {
        k.sparseByPixel(pixelCounts, pixelOffsets, pixelValues, lists.starts, lists.offsets, lists.values, count, this.inSize, this.rowBytes, 0, this.inSize);
        k.sparseWeightGradientByPixel(dW, pixelCounts, pixelOffsets, pixelValues, dZ, db, lists.zeroValue, count, this.outSize, this.inSize, 0, this.inSize, rows);
      }
      return;
    }
    // Fewer than 128 outputs (always transposedInBlocks): gathered image by image into dWᵀ's rows.
    // A team splits only layers of SPLIT_MIN_WIDTH (256) and more, which take the path above.
    k.sparseWeightGradient(dW, lists.starts, lists.offsets, lists.values, dZ, db, lists.zeroValue, count, this.outSize, this.inSize);
  }
}
