// The model's input pipeline: where a batch comes from before the first layer sees it. It gathers
// shuffled uint8 images and their labels into wasm memory, normalises pixels through a 256-entry
// table, and, for the first layer's sparse path (sparseFirstLayer.ts), lists each image's nonzero
// pixels, keeping each image's list once made (a split read again: the training set every epoch, the
// test set at every evaluation).
// None of this depends on the weights, so none of it lives in the model. Everything is allocated
// in the constructor; loading a batch only moves bytes.
import type { Kernels, MemoryPlan } from "./kernels.js";

/** Above this fraction of nonzero pixels the dense product is as fast. */
export const SPARSE_MAX_DENSITY = 0.5;

/** Batches of at least this many consecutive images are copied as one block (see copyPendingPixels). */
const CONTIGUOUS_COPY_MIN = 16;

/**
 * Compact entries reserved for kept lists (listPixels: 4 bytes each), 48 MB in all (MNIST's training
 * set needs 9.0 million, its test set 1.5). Reserved virtual memory: pages count only once written.
 */
const KEPT_ENTRIES = 12 * 1024 * 1024;
/** Images whose pixel numbers fit a compact entry (listPixels: k << 8 | u). */
const KEPT_MAX_SIZE = 1 << 24;
/** Images of a split whose lists can be kept (MNIST's training set has 60,000). */
const KEPT_IMAGES = 65536;
/** Splits kept at once: the training set and the test set. */
const KEPT_SETS = 2;
/** An image's kept start before its list is made, and while it is being made. */
const UNLISTED = -1;
const LISTING = -2;

export interface Normalization {
  mean: number;
  std: number;
}

/** Nonzero-pixel lists of the current batch (pointers), as the sparse kernels read them. */
export interface PixelLists {
  starts: number;
  offsets: number;
  values: number;
  /** The normalised value of a 0 pixel. */
  zeroValue: number;
}

interface ListArea {
  starts: number;
  offsets: number;
  values: number;
}

/**
 * Kept lists: for set s and image i, the first and the end of its compact entries at
 * [s·KEPT_IMAGES + i] of starts and ends (UNLISTED until made); every kept image's compact entries
 * (listPixels); and the batch's starts and ends, gathered for shuffled images.
 */
interface KeptArea {
  starts: number;
  ends: number;
  compact: number;
  batchStarts: number;
  batchEnds: number;
}

/** Where the pipeline's buffers lie (pointers), as InputPipeline.plan placed them. */
export interface InputRegions {
  x: number;
  pixels: number;
  labels: number;
  pixelTable: number;
  batchLists: ListArea | undefined;
  kept: KeptArea | undefined;
}

function isRun(order: ArrayLike<number>, start: number, count: number): boolean {
  const first = order[start];
  for (let i = 1; i < count; i++) if (order[start + i] !== first + i) return false;
  return true;
}

export class InputPipeline {
  /**
   * The network input [maxBatch, in] and the labels [maxBatch] of the current batch. After loadBatch
   * the input is normalised when first needed (a batch that takes the sparse path never needs it):
   * read it through inputValues().
   */
  readonly x: number;
  readonly labels: number;
  private readonly pixels: number;
  /** (u/255 − mean)/std for the 256 pixel values, then their differences from the value of 0 (pixelTable). */
  private readonly pixelTable: number;
  private tableMean = NaN;
  private tableStd = NaN;
  /** Where loadBatch's images come from, and how many rows of pixels it has not copied yet. */
  private sourceImages: Uint8Array | undefined;
  private sourceOrder: ArrayLike<number> = [];
  private sourceStart = 0;
  private pendingPixels = 0;
  /** When the current batch is images runFirst ... of runImages in order (see loadBatch); else undefined. */
  private runImages: Uint8Array | undefined;
  private runFirst = 0;
  /** 32-bit views of image arrays, made once per array (pixels are copied four at a time). */
  private readonly imageWords = new WeakMap<Uint8Array, Uint32Array>();
  /** Whether the current input came from uint8 pixels (loadBatch). */
  private inputIsPixels = false;
  /** Rows of pixels loaded but not yet normalised into the input (0: the input is up to date). */
  private pendingRows = 0;
  /** The sparse lists: the batch's own, and those kept image by image (undefined where unused). */
  private readonly batchLists: ListArea | undefined;
  private readonly kept: KeptArea | undefined;
  /** The image arrays whose lists each kept set holds (compact entries do not depend on the table). */
  private readonly keptImages: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(KEPT_SETS).fill(undefined);
  private keptEntries = 0;
  /** The batch's images whose lists are not kept yet (their indices). */
  private readonly unlisted: Int32Array;
  /**
   * What copyPendingPixels' first pass read, kept where the compiler cannot see it unused, so that
   * the pass is never optimised away. Not private for that reason only: nothing reads it.
   */
  touched = 0;
  /** What prepareForward hands the sparse path; one object, refilled per batch. */
  private readonly lists: PixelLists = { starts: 0, offsets: 0, values: 0, zeroValue: 0 };

  /**
   * Places the pipeline's buffers in a model's memory plan (mlp.ts). `sparseRowBytes`: where the
   * first layer can take the sparse path, the bytes between the rows of its Wᵀ (the lists hold
   * offsets of those rows: SparseFirstLayer.rowBytes); undefined where it cannot.
   */
  static plan(plan: MemoryPlan, inSize: number, maxBatch: number, sparseRowBytes?: number, keepLists = true): InputRegions {
    const x = plan.takeFloats("input.x", maxBatch * inSize);
    const pixels = plan.take("input.pixels", maxBatch * inSize);
    const labels = plan.take("input.labels", maxBatch);
    const pixelTable = plan.takeFloats("input.pixelTable", 512);
    const batchLists = sparseRowBytes === undefined ? undefined : {
      starts: plan.take("input.lists.starts", 4 * (maxBatch + 1)),
      offsets: plan.take("input.lists.offsets", 4 * maxBatch * inSize),
      values: plan.takeFloats("input.lists.values", maxBatch * inSize),
    };
    // Keeping lists only pays for image-sized inputs read more than once (and is reserved once, with
    // the model, so that the memory never grows under views handed out earlier).
    const kept = keepLists && sparseRowBytes !== undefined && inSize >= 256 && inSize <= KEPT_MAX_SIZE ? {
      starts: plan.take("input.kept.starts", 4 * KEPT_SETS * KEPT_IMAGES),
      ends: plan.take("input.kept.ends", 4 * KEPT_SETS * KEPT_IMAGES),
      compact: plan.take("input.kept.compact", 4 * KEPT_ENTRIES),
      batchStarts: plan.take("input.kept.batchStarts", 4 * maxBatch),
      batchEnds: plan.take("input.kept.batchEnds", 4 * maxBatch),
    } : undefined;
    return { x, pixels, labels, pixelTable, batchLists, kept };
  }

  /** `regions`: where InputPipeline.plan placed the buffers, in memory the kernels have allocated. */
  constructor(
    private readonly kernels: Kernels, readonly inSize: number, readonly maxBatch: number, private readonly sparseRowBytes: number | undefined,
    regions: InputRegions,
  ) {
    this.x = regions.x;
    this.pixels = regions.pixels;
    this.labels = regions.labels;
    this.pixelTable = regions.pixelTable;
    this.batchLists = regions.batchLists;
    this.kept = regions.kept;
    this.unlisted = new Int32Array(maxBatch);
  }

  /** Loads rows of f32 input directly (for tests and plots); labels are optional. */
  setInput(values: Float32Array, count: number, labels?: ArrayLike<number>): void {
    this.checkCount(count);
    this.kernels.floats(this.x, count * this.inSize).set(values.subarray(0, count * this.inSize));
    this.pendingRows = 0;
    this.pendingPixels = 0;
    this.sourceImages = undefined;
    if (labels) this.kernels.bytes().set(Array.from(labels).slice(0, count), this.labels);
    this.inputIsPixels = false;
    this.runImages = undefined;
  }

  /**
   * Gathers `count` images (uint8, inSize bytes each) at positions order[start ...] and their labels,
   * as the input normalised as (x/255 − mean)/std (see inputValues). Allocates nothing. The images
   * are read when first needed (by the forward pass or inputValues()): neither array may change before.
   */
  loadBatch(
    images: Uint8Array, labels: Uint8Array, order: ArrayLike<number>, start: number, count: number,
    normalization: Normalization,
  ): void {
    this.checkCount(count);
    const k = this.kernels;
    if (normalization.mean !== this.tableMean || normalization.std !== this.tableStd) {
      k.exports.pixelTable(this.pixelTable, normalization.mean, normalization.std);
      this.tableMean = normalization.mean;
      this.tableStd = normalization.std;
    }
    const first = order[start];
    const inOrder = count >= CONTIGUOUS_COPY_MIN && isRun(order, start, count);
    this.runImages = inOrder ? images : undefined;
    this.runFirst = first;
    const memory = k.bytes();
    for (let i = 0; i < count; i++) memory[this.labels + i] = labels[order[start + i]];
    // The pixels are copied when first needed: a batch of a split whose nonzero-pixel lists are kept
    // never needs them.
    this.sourceImages = images;
    this.sourceOrder = order;
    this.sourceStart = start;
    this.pendingPixels = count;
    this.pendingRows = count;
    this.inputIsPixels = true;
  }

  /** The current input's first `count` rows, normalised (a live view, valid until the next allocation). */
  inputValues(count: number): Float32Array {
    this.normalizePending();
    return this.kernels.floats(this.x, count * this.inSize);
  }

  /**
   * Makes the current batch ready for a forward pass of `count` rows: its nonzero-pixel lists when
   * it came from pixels, the first layer can take the sparse path and the batch is sparse enough
   * (the choice depends on the pixels only, so a batch takes the same path in every worker and
   * run); otherwise the normalised input at `x`, and undefined.
   */
  prepareForward(count: number): PixelLists | undefined {
    let sparse = false;
    if (this.sparseRowBytes !== undefined && this.inputIsPixels) sparse = this.listKept(count) ?? this.listBatch(count);
    if (sparse) return this.lists;
    this.normalizePending();
    return undefined;
  }

  /** Lists the nonzero pixels of the batch's `count` images; true when sparse enough for the sparse path. */
  private listBatch(count: number): boolean {
    this.copyPendingPixels();
    const { starts, offsets, values } = this.batchLists!;
    const entries = this.kernels.exports.sparsePixels(offsets, values, starts, this.pixels, count, this.inSize, this.pixelTable,
      this.sparseRowBytes!, 0);
    this.use(starts, offsets, values);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  /**
   * As listBatch, from kept lists: the compact lists (listPixels) of the batch's images not kept yet
   * are made into the kept area first (only their pixels are copied), then the batch's lists are
   * expanded from wherever each image's lies (touchPixels, expandPixels). The entries are the ones listBatch would make, so the products are
   * the same bits. Undefined where the batch's lists cannot be kept (no kept area, an image past
   * KEPT_IMAGES, or no room left).
   */
  private listKept(count: number): boolean | undefined {
    const kept = this.kept;
    if (!kept) return undefined;
    const k = this.kernels;
    const words = k.words();
    const set = this.keptSet(this.sourceImages!) * KEPT_IMAGES;
    const startAt = (kept.starts >>> 2) + set;
    const endAt = (kept.ends >>> 2) + set;
    const order = this.sourceOrder;
    const first = this.sourceStart;
    let unlisted = 0;
    for (let i = 0; i < count; i++) {
      const image = order[first + i];
      if (image >= KEPT_IMAGES) return this.forgetListing(startAt, unlisted);
      if ((words[startAt + image] | 0) === UNLISTED) {
        words[startAt + image] = LISTING;
        this.unlisted[unlisted++] = image;
      }
    }
    const { starts, offsets, values } = this.batchLists!;
    if (unlisted > 0) {
      if (this.keptEntries + unlisted * this.inSize > KEPT_ENTRIES) return this.forgetListing(startAt, unlisted);
      if (unlisted === count) {
        this.copyPendingPixels();
      } else {
        // The pixel buffer then holds these images, not the batch's: it stays pending for the dense path.
        this.copyImages(this.unlisted, 0, unlisted);
        this.pendingPixels = count;
      }
      // The batch's starts serve as scratch for the new lists' bounds.
      this.keptEntries = k.exports.listPixels(kept.compact, starts, this.pixels, unlisted, this.inSize, this.keptEntries);
      const made = starts >>> 2;
      for (let j = 0; j < unlisted; j++) {
        words[startAt + this.unlisted[j]] = words[made + j];
        words[endAt + this.unlisted[j]] = words[made + j + 1];
      }
    }
    // Images in order read their bounds where they are kept; shuffled ones have them gathered.
    const inOrder = this.runImages !== undefined;
    if (!inOrder) {
      const batchStarts = kept.batchStarts >>> 2;
      const batchEnds = kept.batchEnds >>> 2;
      for (let i = 0; i < count; i++) {
        const image = order[first + i];
        words[batchStarts + i] = words[startAt + image];
        words[batchEnds + i] = words[endAt + image];
      }
    }
    const from = inOrder ? kept.starts + 4 * (set + this.runFirst) : kept.batchStarts;
    const to = inOrder ? kept.ends + 4 * (set + this.runFirst) : kept.batchEnds;
    k.exports.touchPixels(kept.compact, from, to, count);
    const entries = k.exports.expandPixels(offsets, values, starts, kept.compact, from, to, count, this.pixelTable, this.sparseRowBytes!, 0);
    this.use(starts, offsets, values);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  /** Marks the first `unlisted` of this.unlisted as not listed again (their batch is listed afresh); undefined. */
  private forgetListing(startAt: number, unlisted: number): undefined {
    const words = this.kernels.words();
    for (let j = 0; j < unlisted; j++) words[startAt + this.unlisted[j]] = UNLISTED;
    return undefined;
  }

  /**
   * The kept set that holds `images`' lists: the one that already does, else an empty one; when none
   * is empty (a third image array), every set is emptied and the entries made again from the start.
   */
  private keptSet(images: Uint8Array): number {
    const sets = this.keptImages;
    let set = sets.indexOf(images);
    if (set >= 0) return set;
    set = sets.indexOf(undefined);
    if (set < 0) {
      sets.fill(undefined);
      this.keptEntries = 0;
      set = 0;
    }
    sets[set] = images;
    const kept = this.kept!;
    this.kernels.words().fill(UNLISTED, (kept.starts >>> 2) + set * KEPT_IMAGES, (kept.starts >>> 2) + (set + 1) * KEPT_IMAGES);
    return set;
  }

  private use(starts: number, offsets: number, values: number): void {
    const lists = this.lists;
    lists.starts = starts;
    lists.offsets = offsets;
    lists.values = values;
    lists.zeroValue = this.kernels.floatAt(this.pixelTable);
  }

  /** Copies the pixels of the current batch into wasm memory if loadBatch left them pending. */
  private copyPendingPixels(): void {
    const count = this.pendingPixels;
    if (count === 0) return;
    this.pendingPixels = 0;
    if (this.runImages) {
      // Consecutive images (an unshuffled test set): one copy of the whole block. This allocates a
      // view, once per batch; training batches are shuffled and never come here.
      const size = this.inSize;
      const first = this.runFirst;
      this.kernels.bytes().set(this.runImages.subarray(first * size, (first + count) * size), this.pixels);
    } else {
      this.copyImages(this.sourceOrder, this.sourceStart, count);
    }
  }

  /** Copies images indices[first], ..., indices[first + count − 1] of the source into the pixel buffer's first rows. */
  private copyImages(indices: ArrayLike<number>, first: number, count: number): void {
    const images = this.sourceImages!;
    const size = this.inSize;
    const k = this.kernels;
    // Shuffled images are copied by a plain loop, not memory.set(images.subarray(...)) or Buffer#copy:
    // those allocate on every call, and a training step allocates nothing. Whole images are 4-byte
    // aligned, so the loop copies words.
    const words = size % 4 === 0 ? this.wordsOf(images) : undefined;
    if (words) {
      const memoryWords = k.words();
      const perImage = size >>> 2;
      const base = this.pixels >>> 2;
      // First one word of every 64-byte line of every image: shuffled images lie anywhere in the
      // 47 MB of MNIST, mostly outside the cache, and these loads are independent, so the core has
      // many of them in flight at once. Copying image by image waited for each image's first lines in
      // turn: 47-53 µs a batch from a cold cache against 21-25 with this pass first (in isolation).
      let touched = 0;
      for (let i = 0; i < count; i++) {
        const from = indices[first + i] * perImage;
        for (let j = 0; j < perImage; j += 16) touched |= words[from + j];
      }
      this.touched = touched;
      for (let i = 0; i < count; i++) {
        let from = indices[first + i] * perImage;
        let to = base + i * perImage;
        // Four words read into locals, then written: a word per iteration from a SharedArrayBuffer
        // (the MNIST bytes) took 37 µs for a batch of 64 images, this 13 (a step of 5 × 64 is 300).
        const end = to + (perImage & ~3);
        for (; to < end; to += 4, from += 4) {
          const a = words[from], b = words[from + 1], c = words[from + 2], d = words[from + 3];
          memoryWords[to] = a;
          memoryWords[to + 1] = b;
          memoryWords[to + 2] = c;
          memoryWords[to + 3] = d;
        }
        for (let j = 0; j < (perImage & 3); j++) memoryWords[to + j] = words[from + j];
      }
    } else {
      const memory = k.bytes();
      for (let i = 0; i < count; i++) {
        const from = indices[first + i] * size;
        const to = this.pixels + i * size;
        for (let j = 0; j < size; j++) memory[to + j] = images[from + j];
      }
    }
  }

  private normalizePending(): void {
    if (this.pendingRows === 0) return;
    this.copyPendingPixels();
    this.kernels.exports.lookupPixels(this.x, this.pixels, this.pendingRows * this.inSize, this.pixelTable);
    this.pendingRows = 0;
  }

  /** A 32-bit view of an image array (made once per array), or undefined where it is not 4-byte aligned. */
  private wordsOf(images: Uint8Array): Uint32Array | undefined {
    if (images.byteOffset % 4 !== 0 || images.byteLength % 4 !== 0) return undefined;
    let words = this.imageWords.get(images);
    if (!words) {
      words = new Uint32Array(images.buffer, images.byteOffset, images.byteLength >>> 2);
      this.imageWords.set(images, words);
    }
    return words;
  }

  private checkCount(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > this.maxBatch) {
      throw new Error(`batch of ${count} rows does not fit this model's buffers (1 to ${this.maxBatch})`);
    }
  }
}
