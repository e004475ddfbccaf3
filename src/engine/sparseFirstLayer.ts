// The first layer's products on sparse images (see assembly/sparse.ts for the arithmetic). Used when
// the batch came from uint8 pixels (loadBatch) and at most half of its pixels are nonzero (MNIST:
// about a fifth), so that it does a fraction of the dense products' work; other batches, and layers
// whose width is not a multiple of 4, take the dense path. The choice depends on the batch's pixels
// only, so a given batch takes the same path in every worker and every run.
//
// The lists of nonzero pixels do not depend on the weights, so those of a split read in order (the
// test set, evaluated after every epoch) are kept: the first evaluation lists it batch by batch into
// a reserved area, and the later ones reuse the lists. PyTorch's reference keeps its test set as
// normalised float tensors in the same spirit.
import type { Kernels } from "./kernels.js";

/** Above this fraction of nonzero pixels the dense product is as fast. */
export const SPARSE_MAX_DENSITY = 0.5;

/**
 * Entries reserved for the lists of a split read in order: 8 bytes each, 16 MB in all (the MNIST
 * test set needs about 1.4 million). Reserved virtual memory: pages count only once written.
 */
const KEPT_ENTRIES = 2 * 1024 * 1024;
/** Images whose list starts can be kept (the MNIST test set has 10,000). */
const KEPT_IMAGES = 65536;

interface Lists {
  starts: number;
  offsets: number;
  values: number;
}

export class SparseFirstLayer {
  /** Wᵀ [in, out] and Σ_k W[n, k], derived from the weights: refreshed before use once stale. */
  private readonly transposed: number;
  private readonly rowSums: number;
  private stale = true;
  /** dWᵀ [in, out], turned into dW in the gradient block after each backward. */
  private readonly gradientTransposed: number;
  /** The batch's own lists: starts [maxBatch + 1], offsets and values [maxBatch·in]. */
  private readonly batch: Lists;
  /** Kept lists of a split read in order: which images, listed with which table, how far. */
  private readonly kept: Lists | undefined;
  private keptImages: Uint8Array | undefined;
  private keptTable = -1;
  private keptCount = 0;
  private keptEntries = 0;
  /** The lists the next forward and backward use (the batch's or the kept ones), and where in them. */
  private startsInUse = 0;
  private offsetsInUse = 0;
  private valuesInUse = 0;
  /** The normalised value of a 0 pixel, for the batch listed last. */
  private zeroValue = 0;

  constructor(private readonly kernels: Kernels, readonly inSize: number, readonly outSize: number, maxBatch: number) {
    this.transposed = kernels.allocFloats(inSize * outSize);
    this.rowSums = kernels.allocFloats(outSize);
    this.gradientTransposed = kernels.allocFloats(inSize * outSize);
    this.batch = {
      starts: kernels.alloc(4 * (maxBatch + 1)),
      offsets: kernels.alloc(4 * maxBatch * inSize),
      values: kernels.allocFloats(maxBatch * inSize),
    };
    // Keeping lists only pays for image-sized inputs (and is reserved once, at construction,
    // so that the memory never grows under views handed out earlier).
    this.kept = inSize >= 256 ? {
      starts: kernels.alloc(4 * (KEPT_IMAGES + 1)),
      offsets: kernels.alloc(4 * KEPT_ENTRIES),
      values: kernels.allocFloats(KEPT_ENTRIES),
    } : undefined;
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
    const { starts, offsets, values } = this.batch;
    const entries = k.exports.sparsePixels(offsets, values, starts, pixels, count, this.inSize, table, this.outSize * 4, 0);
    this.use(starts, offsets, values, table);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  /** Whether the lists of images first ... first + count − 1 of `images` (with this table) are kept. */
  isKept(images: Uint8Array, first: number, count: number, tableVersion: number): boolean {
    return images === this.keptImages && tableVersion === this.keptTable && first + count <= this.keptCount;
  }

  /**
   * As prepare, for images first ... first + count − 1 of `images` in order (their pixels are at
   * `pixels`, which are not read when isKept); tableVersion changes whenever the table does. Lists
   * kept from an earlier pass are used as they are; the next batch of a pass in order is listed
   * into the kept area.
   */
  prepareInOrder(images: Uint8Array, first: number, pixels: number, count: number, table: number, tableVersion: number): boolean {
    const kept = this.kept;
    if (!kept) return this.prepare(pixels, count, table);
    if (images !== this.keptImages || tableVersion !== this.keptTable) {
      if (first !== 0) return this.prepare(pixels, count, table);
      this.keptImages = images;
      this.keptTable = tableVersion;
      this.keptCount = 0;
      this.keptEntries = 0;
    }
    if (first + count > this.keptCount) {
      const room = first === this.keptCount && first + count <= KEPT_IMAGES && this.keptEntries + count * this.inSize <= KEPT_ENTRIES;
      if (!room) return this.prepare(pixels, count, table);
      this.keptEntries = this.kernels.exports.sparsePixels(kept.offsets, kept.values, kept.starts + 4 * first, pixels, count,
        this.inSize, table, this.outSize * 4, this.keptEntries);
      this.keptCount = first + count;
    }
    const starts = kept.starts + 4 * first;
    this.use(starts, kept.offsets, kept.values, table);
    const entries = this.kernels.intAt(starts + 4 * count) - this.kernels.intAt(starts);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  private use(starts: number, offsets: number, values: number, table: number): void {
    this.startsInUse = starts;
    this.offsetsInUse = offsets;
    this.valuesInUse = values;
    this.zeroValue = this.kernels.floatAt(table);
  }

  /** Z = X·Wᵀ + b for the listed batch; W [out, in] and b as in the parameter block. */
  forward(Z: number, W: number, b: number, count: number): void {
    const k = this.kernels.exports;
    if (this.stale) {
      k.transpose(this.transposed, W, this.outSize, this.inSize);
      k.columnSums(this.rowSums, this.transposed, this.inSize, this.outSize);
      this.stale = false;
    }
    k.sparseForward(Z, this.startsInUse, this.offsetsInUse, this.valuesInUse, this.transposed, b, this.rowSums, this.zeroValue, count, this.outSize);
  }

  /** dW [out, in] and db for the listed batch, from dZ [count, out]. */
  backward(dW: number, db: number, dZ: number, count: number): void {
    const k = this.kernels.exports;
    k.columnSums(db, dZ, count, this.outSize);
    k.sparseWeightGradient(this.gradientTransposed, this.startsInUse, this.offsetsInUse, this.valuesInUse, dZ, db, this.zeroValue,
      count, this.outSize, this.inSize);
    k.transpose(dW, this.gradientTransposed, this.inSize, this.outSize);
  }
}
