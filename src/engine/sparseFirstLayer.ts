// The first layer's products on sparse images (see assembly/sparse.ts for the arithmetic). Used when
// the batch came from uint8 pixels (loadBatch) and at most half of its pixels are nonzero (MNIST:
// about a fifth), so that it does a fraction of the dense products' work; other batches, and layers
// whose width is not a multiple of 4, take the dense path. The choice depends on the batch's pixels
// only, so a given batch takes the same path in every worker and every run.
import type { Kernels } from "./kernels.js";

/** Above this fraction of nonzero pixels the dense product is as fast. */
export const SPARSE_MAX_DENSITY = 0.5;

export class SparseFirstLayer {
  /** Wᵀ [in, out] and Σ_k W[n, k], derived from the weights: refreshed before use once stale. */
  private readonly transposed: number;
  private readonly rowSums: number;
  private stale = true;
  /** dWᵀ [in, out], turned into dW in the gradient block after each backward. */
  private readonly gradientTransposed: number;
  /** The batch's nonzero pixels: starts [maxBatch + 1], offsets and values [maxBatch·in]. */
  private readonly starts: number;
  private readonly offsets: number;
  private readonly values: number;
  /** The normalised value of a 0 pixel, for the batch listed last. */
  private zeroValue = 0;

  constructor(private readonly kernels: Kernels, readonly inSize: number, readonly outSize: number, maxBatch: number) {
    this.transposed = kernels.allocFloats(inSize * outSize);
    this.rowSums = kernels.allocFloats(outSize);
    this.gradientTransposed = kernels.allocFloats(inSize * outSize);
    this.starts = kernels.alloc(4 * (maxBatch + 1));
    this.offsets = kernels.alloc(4 * maxBatch * inSize);
    this.values = kernels.allocFloats(maxBatch * inSize);
  }

  /** Whether a layer of this shape can take the sparse path at all. */
  static fits(outSize: number): boolean {
    return outSize % 4 === 0;
  }

  /** The weights changed (an SGD step, a load): Wᵀ is recomputed before the next sparse forward. */
  invalidate(): void {
    this.stale = true;
  }

  /**
   * Lists the nonzero pixels of `count` images at `pixels` (normalised by `table`, which holds the
   * 256 normalised values); true when the batch is sparse enough for this path.
   */
  prepare(pixels: number, count: number, table: number): boolean {
    const k = this.kernels;
    const entries = k.exports.sparsePixels(this.offsets, this.values, this.starts, pixels, count, this.inSize, table, this.outSize * 4);
    this.zeroValue = k.floats(table, 1)[0];
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  /** Z = X·Wᵀ + b for the listed batch; W [out, in] and b as in the parameter block. */
  forward(Z: number, W: number, b: number, count: number): void {
    const k = this.kernels.exports;
    if (this.stale) {
      k.transpose(this.transposed, W, this.outSize, this.inSize);
      k.columnSums(this.rowSums, this.transposed, this.inSize, this.outSize);
      this.stale = false;
    }
    k.sparseForward(Z, this.starts, this.offsets, this.values, this.transposed, b, this.rowSums, this.zeroValue, count, this.outSize);
  }

  /** dW [out, in] and db for the listed batch, from dZ [count, out]. */
  backward(dW: number, db: number, dZ: number, count: number): void {
    const k = this.kernels.exports;
    k.columnSums(db, dZ, count, this.outSize);
    k.sparseWeightGradient(this.gradientTransposed, this.starts, this.offsets, this.values, dZ, db, this.zeroValue, count, this.outSize, this.inSize);
    k.transpose(dW, this.gradientTransposed, this.inSize, this.outSize);
  }
}
