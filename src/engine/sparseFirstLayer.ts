// The first layer's products on sparse images (see assembly/sparse.ts for the arithmetic). Used when
// the batch came from uint8 pixels and at most half of its pixels are nonzero (MNIST: about a
// fifth), so that it does a fraction of the dense products' work; other batches, and layers whose
// width is not a multiple of 4, take the dense path. The lists of nonzero pixels are the input
// pipeline's (inputPipeline.ts): they do not depend on the weights. What does (Wᵀ and its row
// sums) is kept here and rebuilt after the model says its weights changed.
import { COLUMN_GRAIN, runBands, type KernelCall, type ThreadTeam } from "./threadTeam.js";
import type { PixelLists } from "./inputPipeline.js";
import { probeKernels, type Kernels, type MemoryPlan } from "./kernels.js";

/** Where the layer's derived buffers lie (pointers), as SparseFirstLayer.plan placed them. */
export interface SparseRegions {
  transposed: number;
  rowSums: number;
  /** Layers of fewer than 128 outputs: dWᵀ [in, out], transposed into dW after each backward; else 0. */
  gradientTransposed: number;
  /** Layers of 128 outputs and more: the batch's entries regrouped by pixel (sparseByPixel); else 0. */
  pixelCounts: number;
  pixelOffsets: number;
  pixelValues: number;
}

export class SparseFirstLayer {
  /** Wᵀ [in, out] (rows rowBytes apart) and Σ_k W[n, k], derived from the weights: refreshed before use once stale. */
  private readonly transposed: number;
  private readonly rowSums: number;
  private readonly rowBytes: number;
  private stale = true;
  private readonly regions: SparseRegions;

  /** Bytes between the rows of Wᵀ for a layer of `outSize` outputs (padded for wide layers); the lists' offsets count in them. */
  static rowBytes(outSize: number): number {
    return probeKernels().exports.sparseRowBytes(outSize);
  }

  /**
   * Places the layer's buffers in a model's memory plan (mlp.ts). Layers of fewer than 128 outputs
   * gather the weight gradient into dWᵀ; wider ones (sparseGradientByPixel) write dW from entries
   * regrouped by pixel, `trainRows` slots per pixel (the most images a training batch has: 400 KB at
   * 64), where dWᵀ would be 6.4 MB at 784 × 2048.
   */
  static plan(plan: MemoryPlan, inSize: number, outSize: number, trainRows: number): SparseRegions {
    const byPixel = probeKernels().exports.sparseGradientByPixel(outSize) !== 0;
    return {
      transposed: plan.take("sparse.transposed", inSize * SparseFirstLayer.rowBytes(outSize)),
      rowSums: plan.takeFloats("sparse.rowSums", outSize),
      gradientTransposed: byPixel ? 0 : plan.takeFloats("sparse.gradientTransposed", inSize * outSize),
      pixelCounts: byPixel ? plan.take("sparse.pixelCounts", 4 * inSize) : 0,
      pixelOffsets: byPixel ? plan.take("sparse.pixelOffsets", 4 * inSize * trainRows) : 0,
      pixelValues: byPixel ? plan.takeFloats("sparse.pixelValues", inSize * trainRows) : 0,
    };
  }

  constructor(private readonly kernels: Kernels, readonly inSize: number, readonly outSize: number, regions: SparseRegions) {
    this.transposed = regions.transposed;
    this.rowSums = regions.rowSums;
    this.rowBytes = SparseFirstLayer.rowBytes(outSize);
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
   * Wᵀ and its row sums (summed as W is transposed), rebuilt from W when the weights changed. A team
   * splits the outputs: each thread writes its band of Wᵀ's columns and their sums (copies, and
   * each sum in order).
   */
  refresh(W: number, team?: ThreadTeam): void {
    if (!this.stale) return;
    const k = this.kernels.exports;
    if (team) {
      runBands(team, this.outSize, COLUMN_GRAIN, (n0, n1) => [
        { fn: "transposeInto", args: [this.transposed + n0 * 4, this.rowBytes, W + n0 * this.inSize * 4, n1 - n0, this.inSize, this.rowSums + n0 * 4] },
      ]);
    } else {
      k.transposeInto(this.transposed, this.rowBytes, W, this.outSize, this.inSize, this.rowSums);
    }
    this.stale = false;
  }

  /** Z = X·Wᵀ + b for the listed batch; W [out, in] and b as in the parameter block. */
  forward(Z: number, W: number, b: number, lists: PixelLists, count: number): void {
    const k = this.kernels.exports;
    this.refresh(W);
    k.sparseForward(Z, lists.starts, lists.offsets, lists.values, this.transposed, b, this.rowSums, lists.zeroValue, count, this.outSize);
  }

  /**
   * The call that computes rows first ... first + count − 1 of Z (Z pointing at row `first`) for a
   * thread team; Wᵀ is refreshed here first if the model has not (with its team) already.
   */
  forwardCall(Z: number, W: number, b: number, lists: PixelLists, first: number, count: number): KernelCall {
    this.refresh(W);
    return { fn: "sparseForward", args: [Z, lists.starts + first * 4, lists.offsets, lists.values, this.transposed, b, this.rowSums, lists.zeroValue, count, this.outSize] };
  }

  /**
   * dW [out, in] and db for the listed batch, from dZ [count, out]. With a team (layers of 128
   * outputs and more), each thread regroups and sums a band of dW's columns (pixels), each element
   * as the whole call sums it, so the same bits.
   */
  backward(dW: number, db: number, dZ: number, lists: PixelLists, count: number, team?: ThreadTeam): void {
    const k = this.kernels.exports;
    k.columnSums(db, dZ, count, this.outSize);
    const { gradientTransposed: dWt, pixelCounts, pixelOffsets, pixelValues } = this.regions;
    if (dWt === 0) {
      // Each thread regroups the entries of its band of pixels, then sums that band of dW's columns.
      if (team) {
        runBands(team, this.inSize, COLUMN_GRAIN, (k0, k1) => [
          { fn: "sparseByPixel", args: [pixelCounts, pixelOffsets, pixelValues, lists.starts, lists.offsets, lists.values, count, this.inSize, this.rowBytes, k0, k1] },
          { fn: "sparseWeightGradientByPixel", args: [dW, pixelCounts, pixelOffsets, pixelValues, dZ, db, lists.zeroValue, count, this.outSize, this.inSize, k0, k1] },
        ]);
      } else {
        k.sparseByPixel(pixelCounts, pixelOffsets, pixelValues, lists.starts, lists.offsets, lists.values, count, this.inSize, this.rowBytes, 0, this.inSize);
        k.sparseWeightGradientByPixel(dW, pixelCounts, pixelOffsets, pixelValues, dZ, db, lists.zeroValue, count, this.outSize, this.inSize, 0, this.inSize);
      }
      return;
    }
    // Narrow layers run on this thread: a team splits only layers of SPLIT_MIN_WIDTH (256) and more,
    // which take the path above.
    k.sparseWeightGradient(dWt, lists.starts, lists.offsets, lists.values, dZ, db, lists.zeroValue, count, this.outSize, this.inSize);
    k.transpose(dW, dWt, this.inSize, this.outSize);
  }
}
