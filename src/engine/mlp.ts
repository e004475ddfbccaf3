// A multilayer perceptron living in one kernel instance's memory. The TypeScript side owns the
// order of kernel calls; the kernels own the arithmetic; where each tensor lives comes from the
// parameter layout (layout.ts); where each batch comes from is the input pipeline's business
// (inputPipeline.ts). Everything is allocated in the constructor, the diagnostics' scratch
// included; a training step only passes pointers.
//
// The parameters are read as copies and written through writeParameters, the one way in, which
// marks what is derived from them (Wᵀ of the narrow layers, the sparse path's Wᵀ) for rebuilding.
import { parameterLayout, stateDictOf, type LinearModule, type NamedTensor, type ParameterLayout } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { OPTIMIZERS, resolveHyper, type OptimizerHyper, type OptimizerName, type OptimizerState, type StepPointers } from "../optim.js";
import type { Random } from "../random.js";
import { InputPipeline, type PixelLists } from "./inputPipeline.js";
import { Kernels } from "./kernels.js";
import { SparseFirstLayer } from "./sparseFirstLayer.js";

export type { Normalization } from "./inputPipeline.js";

/** A Linear layer of the layout, with where its forward pass leaves its outputs. */
export interface DenseLayer extends LinearModule {
  /** Pointers to the pre-activation Z and activation A [maxBatch, out] of the last forward pass. */
  Z: number;
  A: number;
}

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
  /** Pointers to the parameter and gradient blocks: the layout's order, parameterCount floats each. */
  private readonly params: number;
  private readonly grads: number;
  /** The optimiser's state blocks (OPTIMIZERS[optimizer].state), parameterCount floats each, and its step count. */
  private readonly optimizerBlocks: number[];
  private optimizerSteps = 0;
  private readonly stepPointers: StepPointers;
  private lastHyper: Partial<OptimizerHyper> | undefined;
  private resolvedHyper: OptimizerHyper | undefined;
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

  /** `optimizer` decides how many state blocks are allocated beside the parameters (optimizerStateFloats). */
  constructor(readonly config: MlpConfig, readonly maxBatch: number, readonly optimizer: OptimizerName = "sgd") {
    const kernels = new Kernels();
    this.kernels = kernels;
    this.layout = parameterLayout(config);
    this.parameterCount = this.layout.size;
    const widest = Math.max(config.inSize, ...config.hiddenSizes, config.outSize);
    this.params = kernels.allocFloats(this.parameterCount);
    this.grads = kernels.allocFloats(this.parameterCount);
    this.optimizerBlocks = OPTIMIZERS[optimizer].state.map(() => kernels.allocFloats(this.parameterCount));
    this.stepPointers = { params: this.params, grads: this.grads, state: this.optimizerBlocks, n: this.parameterCount };
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
      return { ...linear, Z, A };
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

  /** nn.Linear's default initialisation: weight and bias uniform in ±1/√fan_in, layer by layer; a fresh optimiser. */
  initialize(random: Random): void {
    const block = new Float32Array(this.parameterCount);
    for (const layer of this.layers) {
      const bound = 1 / Math.sqrt(layer.inSize);
      random.fillUniform(block.subarray(layer.weight.offset, layer.weight.offset + layer.weight.size), bound);
      random.fillUniform(block.subarray(layer.bias.offset, layer.bias.offset + layer.bias.size), bound);
    }
    this.writeParameters(block);
    this.resetOptimizer();
  }

  /** A copy of the parameters, in the layout's order. Reading changes nothing; write through writeParameters. */
  parameters(): Float32Array {
    return this.kernels.floats(this.params, this.parameterCount).slice();
  }
  /** A copy of the gradients of the last backward pass. */
  gradients(): Float32Array {
    return this.kernels.floats(this.grads, this.parameterCount).slice();
  }
  /** A copy of the optimiser's first state block: SGD's momentum buffer, Adam's exp_avg, RMSprop's square_avg. */
  momentum(): Float32Array {
    return this.kernels.floats(this.optimizerBlocks[0], this.parameterCount).slice();
  }

  /**
   * The last step's update p_before − p_after, in float64 (OPTIMIZERS[…].update: exact but for the
   * weight-decay terms outside the state); zeros before the first step.
   */
  lastUpdate(): Float64Array {
    const update = new Float64Array(this.parameterCount);
    if (this.optimizerSteps === 0 || !this.resolvedHyper) return update;
    const { buffers } = this.optimizerState();
    const grads = this.gradients();
    const params = this.parameters();
    const { update: of } = OPTIMIZERS[this.optimizer];
    for (let i = 0; i < update.length; i++) update[i] = of(buffers, grads, params, this.resolvedHyper, this.optimizerSteps, i);
    return update;
  }

  /** Copies of the optimiser's state blocks and its step count: what a resumable state keeps. */
  optimizerState(): OptimizerState {
    const buffers = this.optimizerBlocks.map((pointer) => this.kernels.floats(pointer, this.parameterCount).slice());
    return { name: this.optimizer, step: this.optimizerSteps, buffers };
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

  /** Sets the optimiser's state (nothing is derived from it); it must be this model's optimiser's. */
  writeOptimizerState(state: OptimizerState): void {
    if (state.name !== this.optimizer) throw new Error(`optimiser state of ${state.name} given to a model trained with ${this.optimizer}`);
    if (state.buffers.length !== this.optimizerBlocks.length) throw new Error(`${state.name} keeps ${this.optimizerBlocks.length} state blocks, got ${state.buffers.length}`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimiser step count ${state.step} is not a whole number ≥ 0`);
    state.buffers.forEach((values, index) => {
      if (values.length !== this.parameterCount) throw new Error(`${OPTIMIZERS[state.name].state[index]} has ${values.length} values, the model ${this.parameterCount}`);
      this.kernels.floats(this.optimizerBlocks[index], this.parameterCount).set(values);
    });
    this.optimizerSteps = state.step;
  }

  /** Zero state and step count, as a new torch.optim optimiser starts. */
  resetOptimizer(): void {
    for (const pointer of this.optimizerBlocks) this.kernels.floats(pointer, this.parameterCount).fill(0);
    this.optimizerSteps = 0;
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
   * goes through the first layer's sparse path (sparseFirstLayer.ts).
   */
  forward(count: number): number {
    const k = this.kernels.exports;
    const last = this.layers.length - 1;
    this.sparseLists = this.input.prepareForward(count);
    if (this.transposedStale) this.refreshTransposedWeights();
    let input = this.input.x;
    for (let index = 0; index <= last; index++) {
      const layer = this.layers[index];
      const kind = index < last ? this.activationKind : 0;
      const W = this.params + layer.weight.offset * 4;
      const b = this.params + layer.bias.offset * 4;
      if (index === 0 && this.sparseLists) {
        this.sparse!.forward(layer.Z, W, b, this.sparseLists, count);
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
      }
    }
  }

  /** One step of the model's optimiser on the last gradients; knobs not given take the optimiser's defaults. */
  optimizerStep(hyper: Partial<OptimizerHyper>): void {
    // Resolved once per knobs object (the trainer passes the same one every step): no allocation per step.
    if (hyper !== this.lastHyper) this.resolvedHyper = resolveHyper(this.optimizer, (this.lastHyper = hyper));
    this.optimizerSteps++;
    OPTIMIZERS[this.optimizer].step(this.kernels.exports, this.stepPointers, this.resolvedHyper!, this.optimizerSteps);
    this.weightsChanged();
  }

  /** One optimiser step on the current batch; returns the batch's mean loss before the step. */
  trainStep(count: number, hyper: Partial<OptimizerHyper>): number {
    this.forward(count);
    const loss = this.loss(count);
    this.backward(count);
    this.optimizerStep(hyper);
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
