// A multilayer perceptron living in one kernel instance's memory. The TypeScript side owns the
// order of kernel calls; the kernels own the arithmetic; where each tensor lives comes from the
// parameter layout (layout.ts); where each batch comes from is the input pipeline's business
// (inputPipeline.ts). Everything is allocated in the constructor, the diagnostics' scratch
// included; a training step only passes pointers.
//
// The parameters are read as copies and written through writeParameters, the one way in, which
// marks what is derived from them (Wᵀ of the narrow layers, the sparse path's Wᵀ) for rebuilding.
import { activationGain, DEFAULT_INIT, initialParameters, type InitName } from "../init.js";
import { parameterLayout, stateDictOf, type LinearModule, type NamedTensor, type NormModule, type ParameterLayout } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { BATCH_NORM_MOMENTUM, NORM_EPS } from "../norms.js";
import type { Random } from "../random.js";
import { InputPipeline, type PixelLists } from "./inputPipeline.js";
import { Kernels } from "./kernels.js";
import { SparseFirstLayer } from "./sparseFirstLayer.js";

export type { Normalization } from "./inputPipeline.js";

/** A Linear layer of the layout, with where its forward pass leaves its outputs. */
export interface DenseLayer extends LinearModule {
  /**
   * Pointers to the activation's input Z and its output A [maxBatch, out] of the last forward pass.
   * Z is the Linear's output, or with a norm layer the normalised one.
   */
  Z: number;
  A: number;
  /** The Linear's own output [maxBatch, out]: Z itself unless a norm layer sits between. */
  Y: number;
  /** The norm layer after this Linear and what its backward needs, if there is one. */
  norm?: NormState;
}

/** A norm module of the layout with the statistics its forward saves for the backward. */
export interface NormState extends NormModule {
  /** Batch norm: the batch's mean and 1/√(var + eps) per feature [out]; layer norm: per row [maxBatch]. */
  mean: number;
  rstd: number;
  /** Pointers into the parameter block: γ, β, and batch norm's buffers (0 for layer norm). */
  gamma: number;
  beta: number;
  runningMeanAt: number;
  runningVarAt: number;
  batchesTrackedAt: number;
  /** Pointers into the gradient block: ∂L/∂γ and ∂L/∂β. */
  dGamma: number;
  dBeta: number;
}

/** Training mode (batch statistics, running statistics updated) or eval mode, as module.train()/eval(). */
export type ForwardMode = "train" | "eval";

/** Scratch for the diagnostics' per-unit derivatives, [maxBatch, widest hidden layer] floats each. */
export interface DiagnosticScratch {
  /** All ones: the upstream gradient that makes an activation's backward kernel give f'(z). */
  ones: number;
  derivative: number;
}

export class Mlp {
  readonly kernels: Kernels;
  readonly layout: ParameterLayout;
  readonly layers: DenseLayer[];
  readonly parameterCount: number;
  /** Where batches come from: input X [maxBatch, in] and labels, gathered and normalised. */
  readonly input: InputPipeline;
  /** The softmax of the last loss() call [maxBatch, out]. */
  readonly probs: number;
  readonly diagnosticScratch: DiagnosticScratch;
  /** Pointers to the parameter, gradient and momentum blocks: the layout's order, parameterCount floats each. */
  private readonly params: number;
  private readonly grads: number;
  private readonly velocity: number;
  private readonly gradientA: number;
  private readonly gradientB: number;
  /** The activation's kind for the fused kernels, and its parameter (leaky_relu's slope). */
  private readonly activationKind: number;
  private readonly activationParam: number;
  /**
   * Wᵀ [in, out] of every layer after the first (0 for the first), derived from the weights and
   * rebuilt before a forward pass once they changed: the narrow layers multiply faster by rows of Wᵀ.
   */
  private readonly transposedWeights: number[];
  private transposedStale = true;
  /** The first layer's sparse path (undefined where its width does not allow it). */
  private readonly sparse: SparseFirstLayer | undefined;
  /** The nonzero-pixel lists the last forward pass used, or undefined where it went dense. */
  private sparseLists: PixelLists | undefined;

  constructor(readonly config: MlpConfig, readonly maxBatch: number) {
    const kernels = new Kernels();
    this.kernels = kernels;
    this.layout = parameterLayout(config);
    this.parameterCount = this.layout.size;
    const widest = Math.max(config.inSize, ...config.hiddenSizes, config.outSize);
    this.params = kernels.allocFloats(this.parameterCount);
    this.grads = kernels.allocFloats(this.parameterCount);
    this.velocity = kernels.allocFloats(this.parameterCount);
    const first = this.layout.linears[0];
    const sparseFits = SparseFirstLayer.fits(first.outSize);
    this.input = new InputPipeline(kernels, config.inSize, maxBatch, sparseFits ? first.outSize : undefined);
    this.probs = kernels.allocFloats(maxBatch * config.outSize);
    this.gradientA = kernels.allocFloats(maxBatch * widest);
    this.gradientB = kernels.allocFloats(maxBatch * widest);
    const last = this.layout.linears.length - 1;
    this.layers = this.layout.linears.map((linear) => {
      const Z = kernels.allocFloats(maxBatch * linear.outSize);
      // The last layer's output is the logits: no activation, so A is Z.
      const A = linear.linear === last ? Z : kernels.allocFloats(maxBatch * linear.outSize);
      const norm = this.layout.norms.find((n) => n.linear === linear.linear);
      if (!norm) return { ...linear, Z, A, Y: Z };
      const stats = Math.max(linear.outSize, maxBatch);
      const at = (block: number, slot: { offset: number } | undefined) => (slot ? block + slot.offset * 4 : 0);
      const state: NormState = {
        ...norm, mean: kernels.allocFloats(stats), rstd: kernels.allocFloats(stats),
        gamma: at(this.params, norm.weight), beta: at(this.params, norm.bias),
        runningMeanAt: at(this.params, norm.runningMean), runningVarAt: at(this.params, norm.runningVar),
        batchesTrackedAt: at(this.params, norm.numBatchesTracked),
        dGamma: at(this.grads, norm.weight), dBeta: at(this.grads, norm.bias),
      };
      return { ...linear, Z, A, Y: kernels.allocFloats(maxBatch * linear.outSize), norm: state };
    });
    this.transposedWeights = this.layers.map((layer, k) => (k === 0 ? 0 : kernels.allocFloats(layer.inSize * layer.outSize)));
    this.sparse = sparseFits ? new SparseFirstLayer(kernels, first.inSize, first.outSize) : undefined;
    this.activationKind = kernels.activationKind(config.activation);
    this.activationParam = config.leakySlope;
    // Reserved here, not when diagnostics first run: memory never grows under views handed out earlier.
    const scratchFloats = Math.max(1, ...config.hiddenSizes) * maxBatch;
    this.diagnosticScratch = { ones: kernels.allocFloats(scratchFloats), derivative: kernels.allocFloats(scratchFloats) };
    kernels.floats(this.diagnosticScratch.ones, scratchFloats).fill(1);
  }

  /**
   * Fresh parameters under an initialisation scheme of init.ts (default: nn.Linear's own, uniform in
   * ±1/√fan_in), with the gain calculate_gain gives for this net's activation; no momentum.
   */
  initialize(random: Random, init: InitName = DEFAULT_INIT): void {
    const { gain } = activationGain(this.config.activation, this.config.leakySlope);
    this.writeParameters(initialParameters(this.layout, init, gain, random));
    this.writeMomentum(new Float32Array(this.parameterCount));
  }

  /** A copy of the parameters, in the layout's order. Reading changes nothing; write through writeParameters. */
  parameters(): Float32Array {
    return this.kernels.floats(this.params, this.parameterCount).slice();
  }
  /** A copy of the gradients of the last backward pass. */
  gradients(): Float32Array {
    return this.kernels.floats(this.grads, this.parameterCount).slice();
  }
  /** A copy of SGD's momentum buffers. */
  momentum(): Float32Array {
    return this.kernels.floats(this.velocity, this.parameterCount).slice();
  }

  /**
   * The one way to change the parameters other than a training step: copies `values` in at float
   * `offset` of the block and marks what is derived from the weights for rebuilding before the
   * next forward pass.
   */
  writeParameters(values: ArrayLike<number>, offset = 0): void {
    this.checkRange(values.length, offset, "parameters");
    this.kernels.floats(this.params, this.parameterCount).set(values, offset);
    this.weightsChanged();
  }

  /** Sets SGD's momentum buffers (nothing is derived from them). */
  writeMomentum(values: ArrayLike<number>): void {
    this.checkRange(values.length, 0, "momentum");
    this.kernels.floats(this.velocity, this.parameterCount).set(values);
  }

  /** Copies of the parameters (or of the block given) under PyTorch's state_dict names and shapes. */
  stateDict(block: Float32Array = this.parameters()): NamedTensor[] {
    return stateDictOf(this.layout, block);
  }

  /** Writes tensors by state_dict name into the parameters; every name must be there. */
  loadStateDict(tensors: ReadonlyMap<string, ArrayLike<number>>): void {
    const block = new Float32Array(this.parameterCount);
    for (const slot of this.layout.tensors) {
      const data = tensors.get(slot.name);
      if (!data) throw new Error(`state dict has no tensor ${slot.name}`);
      if (data.length !== slot.size) throw new Error(`${slot.name} has ${data.length} values, the model needs ${slot.size}`);
      block.set(data, slot.offset);
    }
    this.writeParameters(block);
  }

  /** The weights changed: what is derived from them is rebuilt before it is used again. */
  private weightsChanged(): void {
    this.transposedStale = true;
    this.sparse?.invalidate();
  }

  private refreshTransposedWeights(): void {
    const k = this.kernels.exports;
    for (let index = 1; index < this.layers.length; index++) {
      const layer = this.layers[index];
      k.transpose(this.transposedWeights[index], this.params + layer.weight.offset * 4, layer.outSize, layer.inSize);
    }
    this.transposedStale = false;
  }

  /**
   * Runs the network on the input pipeline's current batch; returns a pointer to the logits
   * [count, out]. Each hidden layer's activation is applied right after its product (Z and A are
   * both kept: the backward needs one or the other, the diagnostics both). A batch of sparse images
   * goes through the first layer's sparse path (sparseFirstLayer.ts). With a norm layer, the
   * activation cannot ride on the product: the product goes to Y, the norm takes Y to Z, the
   * activation Z to A. `mode` matters only to batch norm: "eval" normalises by the running statistics.
   */
  forward(count: number, mode: ForwardMode = "train"): number {
    const k = this.kernels.exports;
    const last = this.layers.length - 1;
    this.sparseLists = this.input.prepareForward(count);
    if (this.transposedStale) this.refreshTransposedWeights();
    let input = this.input.x;
    for (let index = 0; index <= last; index++) {
      const layer = this.layers[index];
      const kind = index < last ? this.activationKind : 0;
      const fused = layer.norm ? 0 : kind;
      const W = this.params + layer.weight.offset * 4;
      const b = this.params + layer.bias.offset * 4;
      if (index === 0 && this.sparseLists) {
        this.sparse!.forward(layer.Y, W, b, this.sparseLists, count);
        if (fused !== 0) k.activationForward(kind, layer.A, layer.Z, count * layer.outSize, this.activationParam);
      } else {
        k.denseForward(layer.Y, layer.A, input, W, this.transposedWeights[index], b, count, layer.inSize, layer.outSize, fused, this.activationParam);
      }
      if (layer.norm) {
        this.normForward(layer, layer.norm, count, mode);
        k.activationForward(kind, layer.A, layer.Z, count * layer.outSize, this.activationParam);
      }
      input = layer.A;
    }
    return this.layers[last].Z;
  }

  /** Z = norm(Y) for one hidden layer; in training, batch norm also moves its running statistics. */
  private normForward(layer: DenseLayer, norm: NormState, count: number, mode: ForwardMode): void {
    const k = this.kernels.exports;
    if (norm.norm === "layer") {
      k.layerNormForward(layer.Z, layer.Y, norm.gamma, norm.beta, norm.mean, norm.rstd, count, layer.outSize, NORM_EPS);
      return;
    }
    const training = mode === "train";
    // PyTorch refuses this too: one value per feature has no variance to normalise by.
    if (training && count < 2) throw new Error("batch norm needs more than one sample per batch in training");
    k.batchNormForward(layer.Z, layer.Y, norm.gamma, norm.beta, norm.mean, norm.rstd,
      norm.runningMeanAt, norm.runningVarAt, norm.batchesTrackedAt, count, layer.outSize, training ? 1 : 0, BATCH_NORM_MOMENTUM, NORM_EPS);
  }

  /**
   * dY = the norm's backward of dZ, written over `gradient` (dZ in, dY out), with dGamma and dBeta
   * into the gradient block. Batch norm's backward is training mode's: it follows a training forward.
   */
  private normBackward(layer: DenseLayer, norm: NormState, gradient: number, count: number): void {
    const k = this.kernels.exports;
    const backward = norm.norm === "batch" ? k.batchNormBackward : k.layerNormBackward;
    backward(gradient, norm.dGamma, norm.dBeta, gradient, layer.Y, norm.gamma, norm.mean, norm.rstd, count, layer.outSize);
  }

  /** Mean cross-entropy of the last forward pass against the current labels (also keeps the softmax). */
  loss(count: number): number {
    const logits = this.layers[this.layers.length - 1].Z;
    return this.kernels.exports.softmaxCrossEntropyForward(this.probs, logits, this.input.labels, count, this.config.outSize);
  }

  /**
   * Gradients of the mean loss into the gradient block (overwritten, as after zero_grad). Needs loss()
   * first. Each layer's backward hands the layer below its dZ directly (the activation's derivative
   * is applied inside the dX product), and the first layer computes no dX at all.
   */
  backward(count: number): void {
    const k = this.kernels.exports;
    const out = this.config.outSize;
    k.softmaxCrossEntropyBackward(this.gradientA, this.probs, this.input.labels, count, out);
    let upstream = this.gradientA;
    let spare = this.gradientB;
    for (let index = this.layers.length - 1; index >= 0; index--) {
      const layer = this.layers[index];
      const below = index > 0 ? this.layers[index - 1] : undefined;
      const dW = this.grads + layer.weight.offset * 4;
      const db = this.grads + layer.bias.offset * 4;
      if (!below && this.sparseLists) {
        this.sparse!.backward(dW, db, upstream, this.sparseLists, count);
        continue;
      }
      k.denseBackward(below ? spare : 0, dW, db, upstream,
        below ? below.A : this.input.x, this.params + layer.weight.offset * 4, count, layer.inSize, layer.outSize,
        below ? this.activationKind : 0, below ? below.Z : 0, this.activationParam);
      if (below) {
        const next = spare;
        spare = upstream;
        upstream = next;
        if (below.norm) this.normBackward(below, below.norm, upstream, count);
      }
    }
  }

  sgdStep(lr: number, momentum: number): void {
    // The trainable prefix only: the norm layers' running statistics after it are not parameters.
    this.kernels.exports.sgdMomentumStep(this.params, this.grads, this.velocity, this.layout.trainableSize, lr, momentum);
    this.weightsChanged();
  }

  /** One SGD step on the current batch; returns the batch's mean loss before the step. */
  trainStep(count: number, lr: number, momentum: number): number {
    this.forward(count, "train");
    const loss = this.loss(count);
    this.backward(count);
    this.sgdStep(lr, momentum);
    return loss;
  }

  /** How many of the current batch's rows the last forward pass classified correctly. */
  correct(count: number): number {
    const logits = this.layers[this.layers.length - 1].Z;
    return this.kernels.exports.countCorrect(logits, this.input.labels, count, this.config.outSize);
  }

  private checkRange(length: number, offset: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.parameterCount) {
      throw new Error(`${length} ${what} values at offset ${offset} do not fit this model's ${this.parameterCount}`);
    }
  }
}
