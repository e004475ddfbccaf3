// The model's input pipeline: where a batch comes from before the first layer sees it. It gathers
// shuffled uint8 images and their labels into wasm memory, normalises pixels through a 256-entry
// table, and, for the first layer's sparse path (sparseFirstLayer.ts), lists each image's nonzero
// pixels, keeping the lists of a split read in order (the test set, evaluated after every epoch).
// None of this depends on the weights, so none of it lives in the model. Everything is allocated
// in the constructor; loading a batch only moves bytes.
import type { Kernels, MemoryPlan } from "./kernels.js";

/** Above this fraction of nonzero pixels the dense product is as fast. */
export const SPARSE_MAX_DENSITY = 0.5;

/** Batches of at least this many consecutive images are copied as one block (see copyPendingPixels). */
const CONTIGUOUS_COPY_MIN = 16;

/**
 * Entries reserved for the lists of a split read in order: 8 bytes each, 16 MB in all (the MNIST
 * test set needs about 1.4 million). Reserved virtual memory: pages count only once written.
 */
const KEPT_ENTRIES = 2 * 1024 * 1024;
/** Images whose list starts can be kept (the MNIST test set has 10,000). */
const KEPT_IMAGES = 65536;

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

/** Where the pipeline's buffers lie (pointers), as InputPipeline.plan placed them. */
export interface InputRegions {
  x: number;
  pixels: number;
  labels: number;
  pixelTable: number;
  batchLists: ListArea | undefined;
  kept: ListArea | undefined;
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
  /** Counts the table's rebuilds, so that lists made with an older table are not reused. */
  private tableVersion = 0;
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
  /** The sparse lists: the batch's own, and those kept of a split read in order (undefined where unused). */
  private readonly batchLists: ListArea | undefined;
  private readonly kept: ListArea | undefined;
  private keptImages: Uint8Array | undefined;
  private keptTable = -1;
  private keptCount = 0;
  private keptEntries = 0;
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
    const kept = keepLists && sparseRowBytes !== undefined && inSize >= 256 ? {
      starts: plan.take("input.kept.starts", 4 * (KEPT_IMAGES + 1)),
      offsets: plan.take("input.kept.offsets", 4 * KEPT_ENTRIES),
      values: plan.takeFloats("input.kept.values", KEPT_ENTRIES),
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
      this.tableVersion++;
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
    if (this.sparseRowBytes !== undefined && this.inputIsPixels) {
      const images = this.runImages;
      if (!(images && this.isKept(images, this.runFirst, count))) this.copyPendingPixels();
      sparse = images ? this.listInOrder(images, this.runFirst, count) : this.listBatch(count);
    }
    if (sparse) return this.lists;
    this.normalizePending();
    return undefined;
  }

  /** Lists the nonzero pixels of the batch's `count` images; true when sparse enough for the sparse path. */
  private listBatch(count: number): boolean {
    const { starts, offsets, values } = this.batchLists!;
    const entries = this.kernels.exports.sparsePixels(offsets, values, starts, this.pixels, count, this.inSize, this.pixelTable,
      this.sparseRowBytes!, 0);
    this.use(starts, offsets, values);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
  }

  /** Whether the lists of images first ... first + count − 1 of `images` (with the current table) are kept. */
  private isKept(images: Uint8Array, first: number, count: number): boolean {
    return images === this.keptImages && this.tableVersion === this.keptTable && first + count <= this.keptCount;
  }

  /**
   * As listBatch, for images first ... first + count − 1 of `images` in order (their pixels are
   * not read when isKept). Lists kept from an earlier pass are used as they are; the next batch
   * of a pass in order is listed into the kept area.
   */
  private listInOrder(images: Uint8Array, first: number, count: number): boolean {
    const kept = this.kept;
    if (!kept) return this.listBatch(count);
    if (images !== this.keptImages || this.tableVersion !== this.keptTable) {
      if (first !== 0) return this.listBatch(count);
      this.keptImages = images;
      this.keptTable = this.tableVersion;
      this.keptCount = 0;
      this.keptEntries = 0;
    }
    if (first + count > this.keptCount) {
      const room = first === this.keptCount && first + count <= KEPT_IMAGES && this.keptEntries + count * this.inSize <= KEPT_ENTRIES;
      if (!room) return this.listBatch(count);
      this.keptEntries = this.kernels.exports.sparsePixels(kept.offsets, kept.values, kept.starts + 4 * first, this.pixels, count,
        this.inSize, this.pixelTable, this.sparseRowBytes!, this.keptEntries);
      this.keptCount = first + count;
    }
    const starts = kept.starts + 4 * first;
    this.use(starts, kept.offsets, kept.values);
    const entries = this.kernels.intAt(starts + 4 * count) - this.kernels.intAt(starts);
    return entries <= SPARSE_MAX_DENSITY * count * this.inSize;
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
    const images = this.sourceImages!;
    const order = this.sourceOrder;
    const start = this.sourceStart;
    const size = this.inSize;
    const k = this.kernels;
    const memory = k.bytes();
    // Shuffled images are copied by a plain loop, not memory.set(images.subarray(...)) or Buffer#copy:
    // those allocate on every call, and a training step allocates nothing. Whole images are 4-byte
    // aligned, so the loop copies words.
    const words = size % 4 === 0 ? this.wordsOf(images) : undefined;
    if (this.runImages) {
      // Consecutive images (an unshuffled test set): one copy of the whole block. This allocates a
      // view, once per batch; training batches are shuffled and never come here.
      const first = this.runFirst;
      memory.set(images.subarray(first * size, (first + count) * size), this.pixels);
    } else if (words) {
      const memoryWords = k.words();
      const perImage = size >>> 2;
      const base = this.pixels >>> 2;
      // First one word of every 64-byte line of every image: shuffled images lie anywhere in the
      // 47 MB of MNIST, mostly outside the cache, and these loads are independent, so the core has
      // many of them in flight at once. Copying image by image waited for each image's first lines in
      // turn: 47-53 µs a batch from a cold cache against 21-25 with this pass first (in isolation).
      let touched = 0;
      for (let i = 0; i < count; i++) {
        const from = order[start + i] * perImage;
        for (let j = 0; j < perImage; j += 16) touched |= words[from + j];
      }
      this.touched = touched;
      for (let i = 0; i < count; i++) {
        let from = order[start + i] * perImage;
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
      for (let i = 0; i < count; i++) {
        const from = order[start + i] * size;
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
