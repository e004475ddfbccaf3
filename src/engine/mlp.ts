// A multilayer perceptron living in one kernel instance's memory. The TypeScript side owns the
// layout and the order of kernel calls; the kernels own the arithmetic. Everything is allocated in
// the constructor; a training step only passes pointers.
import { linearShapes, parameterCount, stateDictNames, type MlpConfig } from "../model.js";
import type { Random } from "../random.js";
import { Kernels } from "./kernels.js";
import { SparseFirstLayer } from "./sparseFirstLayer.js";

/** Batches of at least this many consecutive images are copied as one block (see loadBatch). */
const CONTIGUOUS_COPY_MIN = 16;

function isRun(order: ArrayLike<number>, start: number, count: number): boolean {
  const first = order[start];
  for (let i = 1; i < count; i++) if (order[start + i] !== first + i) return false;
  return true;
}

export interface DenseLayer {
  inSize: number;
  outSize: number;
  /** Float offsets of this layer's weight [out, in] and bias [out] inside the parameter block. */
  weightOffset: number;
  biasOffset: number;
  /** Pointers to the pre-activation Z and activation A [maxBatch, out] of the last forward pass. */
  Z: number;
  A: number;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Normalization {
  mean: number;
  std: number;
}

export class Mlp {
  readonly kernels: Kernels;
  readonly layers: DenseLayer[];
  readonly parameterCount: number;
  /** Pointers to the parameter, gradient and momentum blocks: same layout, parameterCount floats each. */
  readonly params: number;
  readonly grads: number;
  readonly velocity: number;
  /**
   * The network input [maxBatch, in] and the labels [maxBatch] of the current batch. After loadBatch
   * the input is normalised when first needed (a batch that takes the sparse path never needs it):
   * read it through inputValues().
   */
  readonly input: number;
  readonly labels: number;
  private readonly pixels: number;
  /** The softmax of the last loss() call [maxBatch, out]. */
  readonly probs: number;
  private readonly gradientA: number;
  private readonly gradientB: number;
  /** The activation's kind for the fused kernels, and its parameter (leaky_relu's slope). */
  private readonly activationKind: number;
  private readonly activationParam: number;
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
  /** 32-bit views of image arrays, made once per array (loadBatch copies pixels four at a time). */
  private readonly imageWords = new WeakMap<Uint8Array, Uint32Array>();
  /**
   * Wᵀ [in, out] of every layer after the first (0 for the first), derived from the weights and
   * rebuilt before a forward pass once they changed: the narrow layers multiply faster by rows of Wᵀ.
   */
  private readonly transposedWeights: number[];
  private transposedStale = true;
  /** The first layer's sparse path (undefined where its width does not allow it). */
  private readonly sparse: SparseFirstLayer | undefined;
  /** Whether the current input came from uint8 pixels (loadBatch), and whether the last forward went sparse. */
  private inputIsPixels = false;
  /** Rows of pixels loaded but not yet normalised into the input (0: the input is up to date). */
  private pendingRows = 0;
  private sparseBatch = false;

  constructor(readonly config: MlpConfig, readonly maxBatch: number) {
    const kernels = new Kernels();
    this.kernels = kernels;
    const shapes = linearShapes(config);
    this.parameterCount = parameterCount(config);
    const widest = Math.max(config.inSize, ...config.hiddenSizes, config.outSize);
    this.params = kernels.allocFloats(this.parameterCount);
    this.grads = kernels.allocFloats(this.parameterCount);
    this.velocity = kernels.allocFloats(this.parameterCount);
    this.input = kernels.allocFloats(maxBatch * config.inSize);
    this.pixels = kernels.alloc(maxBatch * config.inSize);
    this.labels = kernels.alloc(maxBatch);
    this.probs = kernels.allocFloats(maxBatch * config.outSize);
    this.gradientA = kernels.allocFloats(maxBatch * widest);
    this.gradientB = kernels.allocFloats(maxBatch * widest);
    this.pixelTable = kernels.allocFloats(512);
    let offset = 0;
    this.layers = shapes.map(([inSize, outSize], k) => {
      const weightOffset = offset;
      const biasOffset = offset + inSize * outSize;
      offset = biasOffset + outSize;
      const Z = kernels.allocFloats(maxBatch * outSize);
      // The last layer's output is the logits: no activation, so A is Z.
      const A = k === shapes.length - 1 ? Z : kernels.allocFloats(maxBatch * outSize);
      return { inSize, outSize, weightOffset, biasOffset, Z, A };
    });
    this.transposedWeights = this.layers.map((layer, k) => (k === 0 ? 0 : kernels.allocFloats(layer.inSize * layer.outSize)));
    const first = this.layers[0];
    this.sparse = SparseFirstLayer.fits(first.outSize) ? new SparseFirstLayer(kernels, first.inSize, first.outSize, maxBatch) : undefined;
    this.activationKind = kernels.activationKind(config.activation);
    this.activationParam = config.leakySlope;
  }

  /** nn.Linear's default initialisation: weight and bias uniform in ±1/√fan_in, layer by layer. */
  initialize(random: Random): void {
    const params = this.parameterBlock();
    for (const layer of this.layers) {
      const bound = 1 / Math.sqrt(layer.inSize);
      random.fillUniform(params.subarray(layer.weightOffset, layer.biasOffset), bound);
      random.fillUniform(params.subarray(layer.biasOffset, layer.biasOffset + layer.outSize), bound);
    }
    this.velocityBlock().fill(0);
    this.weightsChanged();
  }

  /** Live views of the blocks; valid until the next allocation in this model's memory (none after construction). */
  parameterBlock(): Float32Array {
    // The caller may write through the view: derived copies of the weights are rebuilt before use.
    this.weightsChanged();
    return this.kernels.floats(this.params, this.parameterCount);
  }
  gradientBlock(): Float32Array {
    return this.kernels.floats(this.grads, this.parameterCount);
  }
  velocityBlock(): Float32Array {
    return this.kernels.floats(this.velocity, this.parameterCount);
  }

  /** Copies of the parameters (or of the block given) under PyTorch's state_dict names and shapes. */
  stateDict(block: Float32Array = this.parameterBlock()): NamedTensor[] {
    const names = stateDictNames(this.config);
    return this.layers.flatMap((layer, k) => [
      { name: names[2 * k], shape: [layer.outSize, layer.inSize], data: block.slice(layer.weightOffset, layer.biasOffset) },
      { name: names[2 * k + 1], shape: [layer.outSize], data: block.slice(layer.biasOffset, layer.biasOffset + layer.outSize) },
    ]);
  }

  /** Writes tensors by state_dict name into a block (the parameters by default); every name must be there. */
  loadStateDict(tensors: ReadonlyMap<string, ArrayLike<number>>, block: Float32Array = this.parameterBlock()): void {
    this.weightsChanged();
    const names = stateDictNames(this.config);
    this.layers.forEach((layer, k) => {
      for (const [name, offset, length] of [
        [names[2 * k], layer.weightOffset, layer.inSize * layer.outSize],
        [names[2 * k + 1], layer.biasOffset, layer.outSize],
      ] as const) {
        const data = tensors.get(name);
        if (!data) throw new Error(`state dict has no tensor ${name}`);
        if (data.length !== length) throw new Error(`${name} has ${data.length} values, the model needs ${length}`);
        block.set(data, offset);
      }
    });
  }

  /** The weights may have changed: what is derived from them is rebuilt before it is used again. */
  private weightsChanged(): void {
    this.transposedStale = true;
    this.sparse?.invalidate();
  }

  private refreshTransposedWeights(): void {
    const k = this.kernels.exports;
    for (let index = 1; index < this.layers.length; index++) {
      const layer = this.layers[index];
      k.transpose(this.transposedWeights[index], this.params + layer.weightOffset * 4, layer.outSize, layer.inSize);
    }
    this.transposedStale = false;
  }

  /** Loads rows of f32 input directly (for tests and plots); labels are optional. */
  setInput(values: Float32Array, count: number, labels?: ArrayLike<number>): void {
    this.checkCount(count);
    this.kernels.floats(this.input, count * this.config.inSize).set(values.subarray(0, count * this.config.inSize));
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
   * are read when first needed (by forward() or inputValues()): neither array may change before.
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
    // (sparseFirstLayer.ts) never needs them.
    this.sourceImages = images;
    this.sourceOrder = order;
    this.sourceStart = start;
    this.pendingPixels = count;
    this.pendingRows = count;
    this.inputIsPixels = true;
  }

  /** Copies the pixels of the current batch into wasm memory if loadBatch left them pending. */
  private copyPendingPixels(): void {
    const count = this.pendingPixels;
    if (count === 0) return;
    this.pendingPixels = 0;
    const images = this.sourceImages!;
    const order = this.sourceOrder;
    const start = this.sourceStart;
    const size = this.config.inSize;
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
      for (let i = 0; i < count; i++) {
        const from = order[start + i] * perImage;
        const to = base + i * perImage;
        for (let j = 0; j < perImage; j++) memoryWords[to + j] = words[from + j];
      }
    } else {
      for (let i = 0; i < count; i++) {
        const from = order[start + i] * size;
        const to = this.pixels + i * size;
        for (let j = 0; j < size; j++) memory[to + j] = images[from + j];
      }
    }
  }

  /** The current input's first `count` rows, normalised (a live view, valid until the next allocation). */
  inputValues(count: number): Float32Array {
    this.normalizePending();
    return this.kernels.floats(this.input, count * this.config.inSize);
  }

  private normalizePending(): void {
    if (this.pendingRows === 0) return;
    this.copyPendingPixels();
    this.kernels.exports.lookupPixels(this.input, this.pixels, this.pendingRows * this.config.inSize, this.pixelTable);
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

  /**
   * Runs the network on the current input; returns a pointer to the logits [count, out]. Each hidden
   * layer's activation is applied right after its product (Z and A are both kept: the backward needs
   * one or the other, the diagnostics both). A batch of sparse images goes through the first layer's
   * sparse path (sparseFirstLayer.ts).
   */
  forward(count: number): number {
    const k = this.kernels.exports;
    const last = this.layers.length - 1;
    const sparse = this.sparse;
    if (sparse && this.inputIsPixels && !(this.runImages && sparse.isKept(this.runImages, this.runFirst, count, this.tableVersion))) {
      this.copyPendingPixels();
    }
    this.sparseBatch = sparse !== undefined && this.inputIsPixels && (this.runImages
      ? sparse.prepareInOrder(this.runImages, this.runFirst, this.pixels, count, this.pixelTable, this.tableVersion)
      : sparse.prepare(this.pixels, count, this.pixelTable));
    if (!this.sparseBatch) this.normalizePending();
    if (this.transposedStale) this.refreshTransposedWeights();
    let input = this.input;
    for (let index = 0; index <= last; index++) {
      const layer = this.layers[index];
      const kind = index < last ? this.activationKind : 0;
      const W = this.params + layer.weightOffset * 4;
      const b = this.params + layer.biasOffset * 4;
      if (index === 0 && this.sparseBatch) {
        this.sparse!.forward(layer.Z, W, b, count);
        if (kind !== 0) k.activationForward(kind, layer.A, layer.Z, count * layer.outSize, this.activationParam);
      } else {
        k.denseForward(layer.Z, layer.A, input, W, this.transposedWeights[index], b, count, layer.inSize, layer.outSize, kind, this.activationParam);
      }
      input = layer.A;
    }
    return this.layers[last].Z;
  }

  /** Mean cross-entropy of the last forward pass against the current labels (also keeps the softmax). */
  loss(count: number): number {
    const logits = this.layers[this.layers.length - 1].Z;
    return this.kernels.exports.softmaxCrossEntropyForward(this.probs, logits, this.labels, count, this.config.outSize);
  }

  /**
   * Gradients of the mean loss into the gradient block (overwritten, as after zero_grad). Needs loss()
   * first. Each layer's backward hands the layer below its dZ directly (the activation's derivative
   * is applied inside the dX product), and the first layer computes no dX at all.
   */
  backward(count: number): void {
    const k = this.kernels.exports;
    const out = this.config.outSize;
    k.softmaxCrossEntropyBackward(this.gradientA, this.probs, this.labels, count, out);
    let upstream = this.gradientA;
    let spare = this.gradientB;
    for (let index = this.layers.length - 1; index >= 0; index--) {
      const layer = this.layers[index];
      const below = index > 0 ? this.layers[index - 1] : undefined;
      if (!below && this.sparseBatch) {
        this.sparse!.backward(this.grads + layer.weightOffset * 4, this.grads + layer.biasOffset * 4, upstream, count);
        continue;
      }
      k.denseBackward(below ? spare : 0, this.grads + layer.weightOffset * 4, this.grads + layer.biasOffset * 4, upstream,
        below ? below.A : this.input, this.params + layer.weightOffset * 4, count, layer.inSize, layer.outSize,
        below ? this.activationKind : 0, below ? below.Z : 0, this.activationParam);
      if (below) {
        const next = spare;
        spare = upstream;
        upstream = next;
      }
    }
  }

  sgdStep(lr: number, momentum: number): void {
    this.weightsChanged();
    this.kernels.exports.sgdMomentumStep(this.params, this.grads, this.velocity, this.parameterCount, lr, momentum);
  }

  /** One SGD step on the current batch; returns the batch's mean loss before the step. */
  trainStep(count: number, lr: number, momentum: number): number {
    this.forward(count);
    const loss = this.loss(count);
    this.backward(count);
    this.sgdStep(lr, momentum);
    return loss;
  }

  /** How many of the current batch's rows the last forward pass classified correctly. */
  correct(count: number): number {
    const logits = this.layers[this.layers.length - 1].Z;
    return this.kernels.exports.countCorrect(logits, this.labels, count, this.config.outSize);
  }

  private checkCount(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > this.maxBatch) {
      throw new Error(`batch of ${count} rows does not fit this model's buffers (1 to ${this.maxBatch})`);
    }
  }
}
