// The first layer's products on sparse images (see assembly/sparse.ts for the arithmetic). Used when
// the batch came from uint8 pixels and at most half of its pixels are nonzero (MNIST: about a
// fifth), so that it does a fraction of the dense products' work; other batches, and layers whose
// width is not a multiple of 4, take the dense path. The lists of nonzero pixels are the input
// pipeline's (inputPipeline.ts): they do not depend on the weights. What does (Wᵀ and its row
// sums) is kept here and rebuilt after the model says its weights changed.
import { band, type KernelCall, type ThreadTeam } from "./threadTeam.js";
import type { PixelLists } from "./inputPipeline.js";
import { probeKernels, type Kernels, type MemoryPlan } from "./kernels.js";

/** Where the layer's derived buffers lie (pointers), as SparseFirstLayer.plan placed them. */
export interface SparseRegions {
  transposed: number;
  rowSums: number;
  gradientTransposed: number;
}

export class SparseFirstLayer {
  /** Wᵀ [in, out] and Σ_k W[n, k], derived from the weights: refreshed before use once stale. */
  private readonly transposed: number;
  private readonly rowSums: number;
  private stale = true;
  /** dWᵀ [in, out], turned into dW in the gradient block after each backward; 0 where dW is written directly. */
  private readonly gradientTransposed: number;

  /** Places the layer's buffers in a model's memory plan (mlp.ts). */
  static plan(plan: MemoryPlan, inSize: number, outSize: number): SparseRegions {
    // Wide layers write dW straight from the kernel's panels: no dWᵀ (6.4 MB at 784 × 2048).
    const direct = probeKernels().exports.sparseGradientDirect(outSize, inSize) !== 0;
    return {
      transposed: plan.takeFloats("sparse.transposed", inSize * outSize),
      rowSums: plan.takeFloats("sparse.rowSums", outSize),
      gradientTransposed: direct ? 0 : plan.takeFloats("sparse.gradientTransposed", inSize * outSize),
    };
  }

  constructor(private readonly kernels: Kernels, readonly inSize: number, readonly outSize: number, regions: SparseRegions) {
    this.transposed = regions.transposed;
    this.rowSums = regions.rowSums;
    this.gradientTransposed = regions.gradientTransposed;
  }

  /** Whether a layer of this shape can take the sparse path at all. */
  static fits(outSize: number): boolean {
    return outSize % 4 === 0;
  }

  /** The weights changed (an SGD step, a write): Wᵀ is recomputed before the next sparse forward. */
  invalidate(): void {
    this.stale = true;
  }

  /** Wᵀ and its row sums, rebuilt from W when the weights changed. */
  private refresh(W: number): void {
    if (!this.stale) return;
    const k = this.kernels.exports;
    k.transpose(this.transposed, W, this.outSize, this.inSize);
    k.columnSums(this.rowSums, this.transposed, this.inSize, this.outSize);
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
   * thread team; Wᵀ is refreshed here first, once, on the calling thread.
   */
  forwardCall(Z: number, W: number, b: number, lists: PixelLists, first: number, count: number): KernelCall {
    this.refresh(W);
    return { fn: "sparseForward", args: [Z, lists.starts + first * 4, lists.offsets, lists.values, this.transposed, b, this.rowSums, lists.zeroValue, count, this.outSize] };
  }

  /**
   * dW [out, in] and db for the listed batch, from dZ [count, out]. With a team, each thread sums the
   * weight gradient of a band of the outputs (dW's rows), column by column as the whole call does,
   * so the same bits (where the gradient goes through its packed dWᵀ path, one thread does it all).
   */
  backward(dW: number, db: number, dZ: number, lists: PixelLists, count: number, team?: ThreadTeam): void {
    const k = this.kernels.exports;
    k.columnSums(db, dZ, count, this.outSize);
    const direct = this.gradientTransposed === 0;
    const target = direct ? dW : this.gradientTransposed;
    if (team && (direct || k.sparseGradientUnpacked(this.outSize))) {
      const fn = direct ? "sparseWeightGradientDirectColumns" : "sparseWeightGradientColumns";
      team.run(Array.from({ length: team.size }, (_, t) => {
        const [from, to] = band(this.outSize, team.size, t);
        return to > from ? [{ fn, args: [target, lists.starts, lists.offsets, lists.values, dZ, db, lists.zeroValue, count, this.outSize, this.inSize, from, to] }] : [];
      }));
    } else if (direct) {
      k.sparseWeightGradientDirect(dW, lists.starts, lists.offsets, lists.values, dZ, db, lists.zeroValue, count, this.outSize, this.inSize);
    } else {
      k.sparseWeightGradient(target, lists.starts, lists.offsets, lists.values, dZ, db, lists.zeroValue, count, this.outSize, this.inSize);
    }
    if (!direct) k.transpose(dW, this.gradientTransposed, this.inSize, this.outSize);
  }
}
