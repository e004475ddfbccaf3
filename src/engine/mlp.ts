// A multilayer perceptron living in one kernel instance's memory. The TypeScript side owns the
// order of kernel calls; the kernels own the arithmetic; where each tensor lives comes from the
// parameter layout (layout.ts); where each batch comes from is the input pipeline's business
// (inputPipeline.ts). Everything is allocated in the constructor, the diagnostics' scratch
// included; a training step only passes pointers.
//
// The parameters are read as copies and written through writeParameters, the one way in, which
// marks what is derived from them (Wᵀ of the narrow layers, the sparse path's Wᵀ) for rebuilding.
import { ACTIVATIONS } from "../activations.js";
import { activationGain, DEFAULT_INIT, initialParameters, type InitName } from "../init.js";
import { parameterLayout, stateDictOf, type LinearModule, type NamedTensor, type NormModule, type ParameterLayout } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { OPTIMIZERS, resolveHyper, type OptimizerHyper, type OptimizerName, type OptimizerState, type StepPointers } from "../optim.js";
import { BATCH_NORM_MOMENTUM, NORM_EPS } from "../norms.js";
import type { Random } from "../random.js";
import { InputPipeline, type PixelLists } from "./inputPipeline.js";
import { InputError } from "../errors.js";
import { Kernels, kernelMemoryLimits, MemoryPlan, probeKernels } from "./kernels.js";
import { SparseFirstLayer, type SparseRegions } from "./sparseFirstLayer.js";
import type { InputRegions } from "./inputPipeline.js";
import type { KernelExports } from "./kernels.js";
import {
  band, COLUMN_GRAIN, denseSplits, netSplits, ROW_GRAIN, runBands, sparseSplits, SPLIT_MIN_ELEMENTS, type KernelCall, type ThreadTeam, type ThreadTeamFactory,
} from "./threadTeam.js";

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
  /**
   * rrelu's slopes [trainRows, out] of the last training forward pass, one per element, which its
   * backward multiplies by; 0 for the last layer and for the other activations.
   */
  slopes: number;
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

/** Scratch for the diagnostics' per-unit derivatives: `floats` floats each, which they fill a piece of a batch at a time. */
export interface DiagnosticScratch {
  /** All ones: the upstream gradient that makes an activation's backward kernel give f'(z). */
  ones: number;
  derivative: number;
  floats: number;
}

/** Nets with more parameters than this do not keep pixel lists (see mlpMemoryPlan). */
const KEEP_LISTS_MAX_PARAMETERS = 1 << 20;

/** Floats of each diagnostic scratch buffer (256 KB): an evaluation batch's derivatives go through it in pieces. */
const DIAGNOSTIC_SCRATCH_FLOATS = 1 << 16;

/** The rows of batches a model takes: forward passes up to maxBatch, training steps up to trainRows (≤ maxBatch). */
export interface BatchRows {
  maxBatch: number;
  trainRows?: number;
}

/** Where everything a model holds lies in its instance's memory (pointers), as mlpMemoryPlan placed it. */
export interface MlpRegions {
  layout: ParameterLayout;
  params: number;
  grads: number;
  /** One block per optimiser state buffer, in OPTIMIZERS[name].state order. */
  optimizerBlocks: number[];
  input: InputRegions;
  probs: number;
  gradientA: number;
  gradientB: number;
  layers: DenseLayer[];
  transposedWeights: number[];
  sparse: SparseRegions | undefined;
  /**
   * Where the first layer's weight is kept transposed in the blocks (SparseFirstLayer.
   * transposedInBlocks): in × out floats through which its region of a block is turned to PyTorch's
   * layout and back, and the dense path writes its dW; else 0.
   */
  firstLayerScratch: number;
  diagnosticScratch: DiagnosticScratch;
  /** Packing areas of threads 1, 2, ... of a thread team (thread 0 uses the module's own). */
  threadScratch: number[];
}

/**
 * Everything a model of `config` with batches of up to `maxBatch` rows allocates, placed in order
 * from the kernels' first free byte: parameters, gradients and momentum, the input pipeline, the
 * softmax, the backward's two gradient buffers, each layer's Z and A (and rrelu's slopes), the
 * narrow layers' Wᵀ, the sparse path's buffers and the diagnostics' scratch. The model allocates
 * exactly this plan (Kernels.allocatePlan), so its size (plan.end) is known, and checked, before
 * any memory is. A kernel that needs scratch of its own takes it here too. What only a training
 * step uses (the backward's buffers, rrelu's drawn slopes, the entries by pixel) is sized for
 * `trainRows` rows: a trainer's batches of 64 beside evaluation batches of 1,000 (a 3 × 2048 net:
 * 37 MB less).
 */
export function mlpMemoryPlan(
  config: MlpConfig, rows: number | BatchRows, optimizer: OptimizerName = "sgd", { threads = 1, keepLists = true }: { threads?: number; keepLists?: boolean } = {},
): { plan: MemoryPlan; regions: MlpRegions } {
  const { maxBatch, trainRows } = batchRows(rows);
  const plan = new MemoryPlan();
  const layout = parameterLayout(config);
  const widest = Math.max(config.inSize, ...config.hiddenSizes, config.outSize);
  const params = plan.takeFloats("params", layout.size);
  const grads = plan.takeFloats("grads", layout.size);
  // The optimiser's state: one block per buffer it keeps (SGD's momentum, Adam's two moments, ...).
  const optimizerBlocks = OPTIMIZERS[optimizer].state.map((name) => plan.takeFloats(`optimizer.${name}`, layout.size));
  const first = layout.linears[0];
  const sparseFits = SparseFirstLayer.fits(first.outSize);
  // Kept lists (MNIST's: 42 MB, 48 reserved) save copying and scanning each image every time it is
  // read: 23 µs of a 242 µs step of the shallow net (9%), a few ms of each evaluation. Worth it
  // where a step or an evaluation is that short; not where a step takes milliseconds and an
  // evaluation half a second (3 × 1024 and wider), whose runs are better kept small in memory.
  const keep = keepLists && layout.size <= KEEP_LISTS_MAX_PARAMETERS;
  const input = InputPipeline.plan(plan, config.inSize, maxBatch, sparseFits ? SparseFirstLayer.rowBytes(first.outSize) : undefined, keep);
  const probs = plan.takeFloats("probs", maxBatch * config.outSize);
  const gradientA = plan.takeFloats("gradientA", trainRows * widest);
  const gradientB = plan.takeFloats("gradientB", trainRows * widest);
  const last = layout.linears.length - 1;
  const drawsSlopes = ACTIVATIONS[config.activation].randomSlope !== undefined;
  const layers: DenseLayer[] = layout.linears.map((linear) => {
    const Z = plan.takeFloats(`layer${linear.linear}.Z`, maxBatch * linear.outSize);
    // The last layer's output is the logits: no activation, so A is Z.
    const A = linear.linear === last ? Z : plan.takeFloats(`layer${linear.linear}.A`, maxBatch * linear.outSize);
    const slopes = drawsSlopes && linear.linear !== last ? plan.takeFloats(`layer${linear.linear}.slopes`, trainRows * linear.outSize) : 0;
    const norm = layout.norms.find((n) => n.linear === linear.linear);
    if (!norm) return { ...linear, Z, A, Y: Z, slopes };
    // With a norm layer the Linear writes Y, the norm Z (the activation's input), the activation A.
    const Y = plan.takeFloats(`layer${linear.linear}.Y`, maxBatch * linear.outSize);
    const stats = Math.max(linear.outSize, maxBatch);
    const at = (block: number, slot: { offset: number } | undefined) => (slot ? block + slot.offset * 4 : 0);
    const state: NormState = {
      ...norm, mean: plan.takeFloats(`norm${linear.linear}.mean`, stats), rstd: plan.takeFloats(`norm${linear.linear}.rstd`, stats),
      gamma: at(params, norm.weight), beta: at(params, norm.bias),
      runningMeanAt: at(params, norm.runningMean), runningVarAt: at(params, norm.runningVar),
      batchesTrackedAt: at(params, norm.numBatchesTracked),
      dGamma: at(grads, norm.weight), dBeta: at(grads, norm.bias),
    };
    return { ...linear, Z, A, Y, slopes, norm: state };
  });
  // Wᵀ only where the product reads it unpacked (the narrow layers); wider ones pack straight from W.
  const keepsTransposed = (layer: DenseLayer) => probeKernels().exports.denseKeepsTransposed(layer.inSize, layer.outSize) !== 0;
  const transposedWeights = layers.map((layer, k) => (k === 0 || !keepsTransposed(layer) ? 0 : plan.takeFloats(`layer${k}.Wt`, layer.inSize * layer.outSize)));
  const sparse = sparseFits ? SparseFirstLayer.plan(plan, first.inSize, first.outSize, trainRows) : undefined;
  const firstLayerScratch = SparseFirstLayer.transposedInBlocks(first.outSize) ? plan.takeFloats("layer0.scratch", first.inSize * first.outSize) : 0;
  // Kernel scratch (a GEMM's packing buffers, say) goes here: plan.take("gemm.<what>", bytes), and
  // the pointer into MlpRegions, so that it is counted in the size checked before a run.
  // Reserved with the model, not when diagnostics first run: memory never grows under views handed out earlier.
  const scratchFloats = Math.min(DIAGNOSTIC_SCRATCH_FLOATS, Math.max(1, ...config.hiddenSizes) * maxBatch);
  const diagnosticScratch = {
    ones: plan.takeFloats("diagnostics.ones", scratchFloats), derivative: plan.takeFloats("diagnostics.derivative", scratchFloats), floats: scratchFloats,
  };
  const scratchBytes = threads > 1 ? probeKernels().exports.threadScratchBytes() : 0;
  const threadScratch = Array.from({ length: threads - 1 }, (_, t) => plan.take(`thread${t + 1}.scratch`, scratchBytes));
  return {
    plan,
    regions: {
      layout, params, grads, optimizerBlocks, input, probs, gradientA, gradientB, layers, transposedWeights, sparse, firstLayerScratch, diagnosticScratch,
      threadScratch,
    },
  };
}

/** A copy of `view`, into the array `into` gives for its length if it gives one of that length. */
function copyOf(view: Float32Array, into?: (floats: number) => Float32Array | undefined): Float32Array {
  const target = into?.(view.length);
  if (!target || target.length !== view.length) return view.slice();
  target.set(view);
  return target;
}

/** maxBatch and trainRows, checked: trainRows defaults to maxBatch. */
export function batchRows(rows: number | BatchRows): Required<BatchRows> {
  const { maxBatch, trainRows = maxBatch } = typeof rows === "number" ? { maxBatch: rows } : rows;
  if (!Number.isInteger(trainRows) || trainRows < 1 || trainRows > maxBatch) throw new Error(`trainRows ${trainRows} is not a whole number from 1 to maxBatch (${maxBatch})`);
  return { maxBatch, trainRows };
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * Why a model of `config` with batches of `maxBatch` rows cannot be built (its memory plan ends
 * past what a kernel instance can hold), or undefined when it fits.
 */
export function memoryProblem(
  config: MlpConfig, rows: number | BatchRows, optimizer: OptimizerName = "sgd", plan = mlpMemoryPlan(config, rows, optimizer).plan,
): string | undefined {
  const { maxBatch } = batchRows(rows);
  const { maxBytes, heapBase } = kernelMemoryLimits();
  if (plan.end <= maxBytes) return undefined;
  const widths = config.hiddenSizes.length > 0 && config.hiddenSizes.every((h) => h === config.hiddenSizes[0])
    ? `${config.hiddenSizes.length} hidden layers of ${config.hiddenSizes[0]}` : `hidden widths ${JSON.stringify(config.hiddenSizes)}`;
  return `a ${config.inSize}-input net with ${widths} and batches of ${maxBatch} needs ${formatBytes(plan.end - plan.base)} ` +
    `(${plan.end - plan.base} bytes) of kernel memory, but the kernels' WebAssembly memory holds at most ${formatBytes(maxBytes)} ` +
    `(${maxBytes} bytes, the wasm32 limit), of which their own data take ${heapBase}: ${maxBytes - heapBase} bytes are left for a model; ` +
    "use narrower or fewer layers, or smaller batches";
}

function requireMemoryFits(plan: MemoryPlan, config: MlpConfig, rows: BatchRows): void {
  const problem = memoryProblem(config, rows, "sgd", plan);
  if (problem) throw new InputError(problem);
}

export class Mlp {
  readonly kernels: Kernels;
  readonly layout: ParameterLayout;
  readonly layers: DenseLayer[];
  readonly parameterCount: number;
  /** Where batches come from: input X [maxBatch, in] and labels, gathered and normalised. */
  readonly input: InputPipeline;
  /** The most rows a training step takes (forward in "train" mode, backward): the backward's buffers are this size. */
  readonly trainRows: number;
  /** The softmax of the last loss() call [maxBatch, out]. */
  readonly probs: number;
  readonly diagnosticScratch: DiagnosticScratch;
  /**
   * Pointers to the parameter and gradient blocks: the layout's order, parameterCount floats each.
   * The blocks hold every tensor in PyTorch's layout but one: where SparseFirstLayer.
   * transposedInBlocks, the first layer's weight (and its gradient and optimiser state) is kept as
   * Wᵀ [in, out], which its sparse kernels read and write. Everything that hands the blocks out goes
   * through inPyTorchLayout.
   */
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
   * A learned activation's (PReLU's) slope per Linear layer: its offset in the parameter block, or
   * -1 for the last layer and for activations without one. The kernels read the slope from there.
   */
  private readonly slopeOffsets: number[];
  /**
   * rrelu: slopes drawn per element in training (the catalogue's randomSlope). The draw is a hash of
   * (noiseSeed, the optimiser's step count, the layer, the element), not a generator's state: the
   * step count is in every resumable state, so a resumed run draws what an uninterrupted one would.
   */
  private readonly drawsSlopes: boolean;
  private noiseSeed = 0;
  /** Slopes to apply in the next training forward pass instead of drawing them (useSlopesOnce). */
  private suppliedSlopes: ReadonlyArray<ArrayLike<number>> | undefined;
  /** The mode of the last forward pass, which the backward follows (rrelu: its drawn slopes, or the mean slope). */
  private lastMode: ForwardMode = "train";
  /**
   * Wᵀ [in, out] of the narrow layers after the first (0 for the first and for wide layers, whose
   * product packs W itself), derived from the weights and rebuilt before a forward pass once they
   * changed: the narrow layers multiply faster by rows of Wᵀ.
   */
  private readonly transposedWeights: number[];
  private transposedStale = true;
  /** The first layer's sparse path (undefined where its width does not allow it). */
  private readonly sparse: SparseFirstLayer | undefined;
  /** Where the first layer's weight region is kept transposed: its place and the scratch to turn it through; else undefined. */
  private readonly firstTransposed: { offset: number; inSize: number; outSize: number; scratch: number } | undefined;
  /** How many inPyTorchLayout calls are running (nested ones turn nothing). */
  private lent = 0;
  /** The nonzero-pixel lists the last forward pass used, or undefined where it went dense. */
  private sparseLists: PixelLists | undefined;
  /** Threads that share the wide layers' products (threadTeam.ts), where a factory was given and the net has such layers. */
  private readonly team: ThreadTeam | undefined;

  /**
   * `optimizer` decides how many state blocks are allocated beside the parameters (optimizerStateFloats).
   * `teams`: how to get threads for this model's wide layers; a net without any (netSplits) runs on one.
   * A model with a team must be closed (close()) to end its threads. `trainRows`: the most rows a
   * training step (forward in "train" mode and backward) takes, if fewer than maxBatch (the trainer's
   * batch size, where maxBatch is its evaluation's). `keepLists: false` for a model that reads its
   * data once at most: the pixel lists are then made per batch, not kept (up to 48 MB;
   * nets of more than 2^20 parameters never keep them).
   */
  constructor(
    readonly config: MlpConfig, readonly maxBatch: number, readonly optimizer: OptimizerName = "sgd",
    { teams, keepLists = true, trainRows = maxBatch }: { teams?: ThreadTeamFactory; keepLists?: boolean; trainRows?: number } = {},
  ) {
    const threads = teams && teams.threads > 1 && netSplits(config.hiddenSizes) ? teams.threads : 1;
    // Planned, and checked against the memory's limit, before the instance exists: a model too
    // large is refused with its size and the limit instead of failing in memory.grow.
    const rows = batchRows({ maxBatch, trainRows });
    this.trainRows = rows.trainRows;
    const { plan, regions } = mlpMemoryPlan(config, rows, optimizer, { threads, keepLists });
    requireMemoryFits(plan, config, rows);
    const kernels = new Kernels({ shared: threads > 1 });
    this.kernels = kernels;
    kernels.allocatePlan(plan);
    this.layout = regions.layout;
    this.parameterCount = this.layout.size;
    this.params = regions.params;
    this.grads = regions.grads;
    this.optimizerBlocks = regions.optimizerBlocks;
    // The trainable prefix only: a norm layer's running statistics after it are buffers, not parameters.
    this.stepPointers = { params: this.params, grads: this.grads, state: this.optimizerBlocks, n: this.layout.trainableSize };
    const first = this.layout.linears[0];
    this.input = new InputPipeline(kernels, config.inSize, maxBatch, regions.sparse ? SparseFirstLayer.rowBytes(first.outSize) : undefined, regions.input);
    this.probs = regions.probs;
    this.gradientA = regions.gradientA;
    this.gradientB = regions.gradientB;
    this.layers = regions.layers;
    this.transposedWeights = regions.transposedWeights;
    this.sparse = regions.sparse ? new SparseFirstLayer(kernels, first.inSize, first.outSize, regions.sparse) : undefined;
    this.firstTransposed = regions.firstLayerScratch !== 0
      ? { offset: first.weight.offset, inSize: first.inSize, outSize: first.outSize, scratch: regions.firstLayerScratch }
      : undefined;
    this.activationKind = kernels.activationKind(config.activation);
    this.activationParam = config.leakySlope;
    this.slopeOffsets = this.layout.linears.map((linear) => {
      const module = this.layout.modules.find((m) => m.kind === "activation" && m.linear === linear.linear);
      return module?.kind === "activation" && module.weight ? module.weight.offset : -1;
    });
    this.drawsSlopes = ACTIVATIONS[config.activation].randomSlope !== undefined;
    this.diagnosticScratch = regions.diagnosticScratch;
    kernels.floats(this.diagnosticScratch.ones, this.diagnosticScratch.floats).fill(1);
    this.team = threads > 1 ? teams!.start(kernels, regions.threadScratch) : undefined;
  }

  /** Threads working on this model (1 without a team). */
  get threads(): number {
    return this.team?.size ?? 1;
  }

  /** Ends the model's helper threads, if it has any; the model is not used again. */
  close(): void {
    this.team?.close();
  }

  /** The seed of rrelu's training slopes (the trainer derives one from the job's seed); 0 until set. */
  setNoiseSeed(seed: number): void {
    this.noiseSeed = seed | 0;
  }

  /**
   * rrelu: the next training forward pass applies these slopes instead of drawing its own, one
   * array per hidden layer of count × width (row-major; entries where z > 0 are not used). The
   * tests feed PyTorch's own draws in this way.
   */
  useSlopesOnce(slopes: ReadonlyArray<ArrayLike<number>>): void {
    if (!this.drawsSlopes) throw new Error(`${this.config.activation} draws no slopes`);
    if (slopes.length !== this.layers.length - 1) throw new Error(`${slopes.length} arrays of slopes for ${this.layers.length - 1} hidden layers`);
    this.suppliedSlopes = slopes;
  }

  /** A copy of hidden layer `index`'s slopes in the last training forward pass of `count` rows (rrelu only). */
  drawnSlopes(index: number, count: number): Float32Array {
    const layer = this.layers[index];
    if (!layer || layer.slopes === 0) throw new Error(`layer ${index} of this ${this.config.activation} net draws no slopes`);
    return this.kernels.floats(layer.slopes, count * layer.outSize).slice();
  }

  /**
   * Fresh parameters under an initialisation scheme of init.ts (default: nn.Linear's own, uniform in
   * ±1/√fan_in), with the gain calculate_gain gives for this net's activation; no momentum.
   */
  initialize(random: Random, init: InitName = DEFAULT_INIT): void {
    const { gain } = activationGain(this.config.activation, this.config.leakySlope);
    this.inPyTorchLayout(() => {
      // Drawn straight into the parameter block: a copy beside it would be 23 MB more for a 3 × 2048 net.
      const block = initialParameters(this.layout, init, gain, random, this.kernels.floats(this.params, this.parameterCount));
      // nn.PReLU()'s slope: a constant, no draw (so the Linear layers get the same numbers as without it).
      const slope = ACTIVATIONS[this.config.activation].parameter?.default ?? 0;
      for (const offset of this.slopeOffsets) if (offset >= 0) block[offset] = slope;
    });
    this.weightsChanged();
    this.resetOptimizer();
  }

  /**
   * A copy of the parameters, in the layout's order. Reading changes nothing; write through
   * writeParameters. `into`: where the copy may go, given the float count (a buffer to reuse; a
   * new array where it gives none).
   */
  parameters(into?: (floats: number) => Float32Array | undefined): Float32Array {
    return this.inPyTorchLayout(() => copyOf(this.kernels.floats(this.params, this.parameterCount), into));
  }
  /**
   * Reads the parameter and gradient blocks in place, without copies (a wide net's are tens of MB):
   * the views are valid inside `read` only, and must not be written (writeParameters is the way in).
   */
  readBlocks<T>(read: (params: Float32Array, grads: Float32Array) => T): T {
    return this.inPyTorchLayout(() => read(this.kernels.floats(this.params, this.parameterCount), this.kernels.floats(this.grads, this.parameterCount)));
  }

  /** A copy of the gradients of the last backward pass. */
  gradients(): Float32Array {
    return this.inPyTorchLayout(() => this.kernels.floats(this.grads, this.parameterCount).slice());
  }
  /** A copy of the optimiser's first state block: SGD's momentum buffer, Adam's exp_avg, RMSprop's square_avg. */
  momentum(): Float32Array {
    return this.inPyTorchLayout(() => this.kernels.floats(this.optimizerBlocks[0], this.parameterCount).slice());
  }

  /**
   * Runs `use` with every block in PyTorch's layout: where the first layer's weight is kept
   * transposed, its region of each block is turned to [out, in] first and back after (moves only,
   * so the same bits). Nested calls turn nothing; no pass may run inside (checkNotLent).
   */
  private inPyTorchLayout<T>(use: () => T): T {
    if (!this.firstTransposed) return use();
    if (this.lent++ === 0) this.turnFirstLayer(true);
    try {
      return use();
    } finally {
      if (--this.lent === 0) this.turnFirstLayer(false);
    }
  }

  /** The first layer's region of every block, [in, out] → [out, in] (toPyTorch) or back, through the scratch. */
  private turnFirstLayer(toPyTorch: boolean): void {
    const { offset, inSize, outSize, scratch } = this.firstTransposed!;
    const k = this.kernels.exports;
    for (const block of [this.params, this.grads, ...this.optimizerBlocks]) {
      const region = block + offset * 4;
      if (toPyTorch) k.transpose(scratch, region, inSize, outSize);
      else k.transpose(scratch, region, outSize, inSize);
      this.kernels.bytes().copyWithin(region, scratch, scratch + inSize * outSize * 4);
    }
  }

  /** A pass or a step while the blocks are out in PyTorch's layout would read the first layer wrongly. */
  private checkNotLent(): void {
    if (this.lent > 0) throw new Error("the model's blocks are lent out in PyTorch's layout (readBlocks, ...): no pass or step may run inside");
  }

  /**
   * The last step's update p_before − p_after, in float64 (OPTIMIZERS[…].update: exact but for the
   * weight-decay terms outside the state); zeros before the first step. `into`: where to write it
   * (its first `count` floats; a new array where absent).
   */
  lastUpdate(from = 0, count = this.parameterCount - from, into?: Float64Array): Float64Array {
    // floats `from` ... from + count − 1 of it, read through views: no copies of whole blocks (a 3 × 2048
    // net's would be 70 MB at every epoch's end); the diagnostics ask a piece at a time, into one buffer.
    this.checkRange(count, from, "update");
    if (into && into.length < count) throw new Error(`lastUpdate: ${count} floats asked into ${into.length}`);
    const update = into ? into.subarray(0, count) : new Float64Array(count);
    const hyper = this.resolvedHyper;
    if (this.optimizerSteps === 0 || !hyper) return update.fill(0);
    return this.inPyTorchLayout(() => {
      const n = this.parameterCount;
      const buffers = this.optimizerBlocks.map((pointer) => this.kernels.floats(pointer, n));
      const grads = this.kernels.floats(this.grads, n);
      const params = this.kernels.floats(this.params, n);
      const { update: of } = OPTIMIZERS[this.optimizer];
      for (let i = 0; i < count; i++) update[i] = of(buffers, grads, params, hyper, this.optimizerSteps, from + i);
      return update;
    });
  }

  /** Copies of the optimiser's state blocks and its step count: what a resumable state keeps. `into` as for parameters(). */
  optimizerState(into?: (floats: number) => Float32Array | undefined): OptimizerState {
    const buffers = this.inPyTorchLayout(() => this.optimizerBlocks.map((pointer) => copyOf(this.kernels.floats(pointer, this.parameterCount), into)));
    return { name: this.optimizer, step: this.optimizerSteps, buffers };
  }

  /**
   * The one way to change the parameters other than a training step: copies `values` in at float
   * `offset` of the block and marks what is derived from the weights for rebuilding before the
   * next forward pass.
   */
  writeParameters(values: ArrayLike<number>, offset = 0): void {
    this.checkRange(values.length, offset, "parameters");
    this.inPyTorchLayout(() => this.kernels.floats(this.params, this.parameterCount).set(values, offset));
    this.weightsChanged();
  }

  /** Sets the optimiser's state (nothing is derived from it); it must be this model's optimiser's. */
  writeOptimizerState(state: OptimizerState): void {
    if (state.name !== this.optimizer) throw new Error(`optimiser state of ${state.name} given to a model trained with ${this.optimizer}`);
    if (state.buffers.length !== this.optimizerBlocks.length) throw new Error(`${state.name} keeps ${this.optimizerBlocks.length} state blocks, got ${state.buffers.length}`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimiser step count ${state.step} is not a whole number ≥ 0`);
    state.buffers.forEach((values, index) => {
      if (values.length !== this.parameterCount) throw new Error(`${OPTIMIZERS[state.name].state[index]} has ${values.length} values, the model ${this.parameterCount}`);
    });
    this.inPyTorchLayout(() => state.buffers.forEach((values, index) => this.kernels.floats(this.optimizerBlocks[index], this.parameterCount).set(values)));
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
      if (this.transposedWeights[index] === 0) continue;
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
   * activation Z to A. `mode` matters to batch norm ("eval" normalises by the running statistics)
   * and to rrelu (in training each element's slope is drawn, in eval it is the mean slope).
   */
  forward(count: number, mode: ForwardMode = "train"): number {
    const k = this.kernels.exports;
    this.checkNotLent();
    if (mode === "train") this.checkTrainRows(count);
    const last = this.layers.length - 1;
    this.sparseLists = this.input.prepareForward(count);
    if (this.transposedStale) this.refreshTransposedWeights();
    const drawn = this.drawsSlopes && mode === "train";
    let input = this.input.x;
    for (let index = 0; index <= last; index++) {
      const layer = this.layers[index];
      const slope = this.slopeOffsets[index];
      // A learned slope (PReLU's) and drawn ones (rrelu's in training) are applied by kernels of
      // their own after the product: the fused epilogue has one slope for all elements.
      const kind = index < last && slope < 0 && !drawn ? this.activationKind : 0;
      const fused = layer.norm ? 0 : kind;
      const W = this.params + layer.weight.offset * 4;
      const b = this.params + layer.bias.offset * 4;
      const out = layer.outSize;
      // Wᵀ where the product reads it: a narrow layer's copy, or the first layer's own (firstTransposed;
      // a dense batch then goes through it on the model's thread, not split: such batches are rare).
      const Wt = index === 0 && this.firstTransposed ? W : this.transposedWeights[index];
      if (index === 0 && this.sparseLists) {
        if (this.team && sparseSplits(count, out)) {
          const lists = this.sparseLists;
          this.sparse!.refresh(W, this.team);
          runBands(this.team, count, ROW_GRAIN, (r0, r1) => [
            this.sparse!.forwardCall(layer.Y + r0 * out * 4, W, b, lists, r0, r1 - r0),
            ...(fused !== 0 ? [{ fn: "activationForward", args: [kind, layer.A + r0 * out * 4, layer.Z + r0 * out * 4, (r1 - r0) * out, this.activationParam] }] : []),
          ]);
        } else {
          this.sparse!.forward(layer.Y, W, b, this.sparseLists, count);
          if (fused !== 0) k.activationForward(kind, layer.A, layer.Z, count * out, this.activationParam);
        }
      } else if (this.team && denseSplits(count, out, layer.inSize) && Wt === 0) {
        // By bands of outputs: each thread packs only its own rows of W (by rows of the batch,
        // every thread would pack all of W).
        const inSize = layer.inSize;
        runBands(this.team, out, COLUMN_GRAIN, (n0, n1) => [{
          fn: "denseForwardColumns",
          args: [layer.Y, layer.A, input, W, b, count, inSize, out, fused, this.activationParam, n0, n1],
        }]);
      } else {
        k.denseForward(layer.Y, layer.A, input, W, Wt, b, count, layer.inSize, out, fused, this.activationParam);
      }
      if (layer.norm) {
        this.normForward(layer, layer.norm, count, mode);
        k.activationForward(kind, layer.A, layer.Z, count * layer.outSize, this.activationParam);
      }
      if (slope >= 0) k.preluWithSlopeForward(layer.A, layer.Z, count * layer.outSize, this.params + slope * 4);
      if (drawn && index < last) this.drawSlopes(layer, index, count);
      input = layer.A;
    }
    if (drawn) this.suppliedSlopes = undefined;
    this.lastMode = mode;
    return this.layers[last].Z;
  }

  /** rrelu in training: this step's slopes for one hidden layer (drawn, or supplied), then A from Z. */
  private drawSlopes(layer: DenseLayer, index: number, count: number): void {
    const k = this.kernels.exports;
    const n = count * layer.outSize;
    const supplied = this.suppliedSlopes?.[index];
    if (supplied) {
      if (supplied.length !== n) throw new Error(`${supplied.length} slopes for layer ${index}'s ${n} elements`);
      this.kernels.floats(layer.slopes, n).set(supplied);
    } else {
      // The step is the number of optimiser steps taken: the same for every forward pass between two steps.
      k.rreluDrawSlopes(layer.slopes, n, this.noiseSeed, this.optimizerSteps, index);
    }
    k.rreluWithSlopesForward(layer.A, layer.Z, layer.slopes, n);
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
   * first, and follows the last forward pass's mode. Each layer's backward hands the layer below its
   * dZ directly (the activation's derivative is applied inside the dX product), and the first layer
   * computes no dX at all.
   */
  backward(count: number): void {
    const k = this.kernels.exports;
    this.checkNotLent();
    this.checkTrainRows(count);
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
        this.sparse!.backward(dW, db, upstream, this.sparseLists, count, sparseSplits(count, layer.outSize) ? this.team : undefined);
        continue;
      }
      // A learned slope (PReLU) needs dA itself for its gradient, and drawn slopes (rrelu after a
      // training forward pass) differ per element: the product unfused, then their kernel.
      const slope = below ? this.slopeOffsets[index - 1] : -1;
      const drawn = below !== undefined && below.slopes !== 0 && this.lastMode === "train";
      const fused = below && slope < 0 && !drawn;
      const X = below ? below.A : this.input.x;
      const W = this.params + layer.weight.offset * 4;
      if (!below && this.firstTransposed) {
        // The first layer's dW [out, in] into the scratch, then into the block as it keeps it, [in, out].
        // On the model's thread: batches this dense (not MNIST's) and setInput are rare on this path.
        const { scratch } = this.firstTransposed;
        k.denseBackward(0, scratch, db, upstream, X, W, count, layer.inSize, layer.outSize, 0, 0, this.activationParam);
        k.transpose(dW, scratch, layer.outSize, layer.inSize);
      } else if (this.team && denseSplits(count, layer.outSize, layer.inSize)) {
        this.denseBackwardSplit(this.team, below ? spare : 0, dW, db, upstream, X, W, count, layer.inSize, layer.outSize,
          fused ? this.activationKind : 0, fused ? below.Z : 0);
      } else {
        k.denseBackward(below ? spare : 0, dW, db, upstream, X, W, count, layer.inSize, layer.outSize,
          fused ? this.activationKind : 0, fused ? below.Z : 0, this.activationParam);
      }
      if (below && slope >= 0) {
        k.preluWithSlopeBackward(spare, this.grads + slope * 4, spare, below.Z, count * below.outSize, this.params + slope * 4);
      }
      if (below && drawn) k.rreluWithSlopesBackward(spare, spare, below.Z, below.slopes, count * below.outSize);
      if (below) {
        const next = spare;
        spare = upstream;
        upstream = next;
        if (below.norm) this.normBackward(below, below.norm, upstream, count);
      }
    }
  }

  /**
   * denseBackward over the team: thread t computes a band of dW's rows (out) and a band of dX's
   * columns (in), each element as one thread would (denseBackwardBand); db is summed here, as
   * denseBackward sums it.
   */
  private denseBackwardSplit(
    team: ThreadTeam, dX: number, dW: number, db: number, dY: number, X: number, W: number,
    count: number, inSize: number, outSize: number, kind: number, Zbelow: number,
  ): void {
    team.run(Array.from({ length: team.size }, (_, t) => {
      const [o0, o1] = band(outSize, team.size, t, ROW_GRAIN);
      const [n0, n1] = band(inSize, team.size, t, COLUMN_GRAIN);
      return [{ fn: "denseBackwardBand", args: [dX, dW, dY, X, W, count, inSize, outSize, kind, Zbelow, this.activationParam, o0, o1, n0, n1] }];
    }));
    this.kernels.exports.columnSums(db, dY, count, outSize);
  }

  /** One step of the model's optimiser on the last gradients; knobs not given take the optimiser's defaults. */
  optimizerStep(hyper: Partial<OptimizerHyper>): void {
    // Resolved once per knobs object (the trainer passes the same one every step): no allocation per step.
    this.checkNotLent();
    if (hyper !== this.lastHyper) this.resolvedHyper = resolveHyper(this.optimizer, (this.lastHyper = hyper));
    this.optimizerSteps++;
    const { step } = OPTIMIZERS[this.optimizer];
    const p = this.stepPointers;
    if (this.team && p.n >= SPLIT_MIN_ELEMENTS) {
      // The update is element-wise: each thread runs the optimiser's own kernel call on its band of
      // the blocks, recorded here from the table's step function rather than restated.
      runBands(this.team, p.n, ROW_GRAIN, (e0, e1) => {
        const calls: KernelCall[] = [];
        const recorder = new Proxy({}, { get: (_, fn) => (...args: number[]) => { calls.push({ fn: String(fn), args }); } }) as KernelExports;
        step(recorder, { params: p.params + e0 * 4, grads: p.grads + e0 * 4, state: p.state.map((s) => s + e0 * 4), n: e1 - e0 }, this.resolvedHyper!, this.optimizerSteps);
        return calls;
      });
    } else {
      step(this.kernels.exports, p, this.resolvedHyper!, this.optimizerSteps);
    }
    this.weightsChanged();
  }

  /** One optimiser step on the current batch; returns the batch's mean loss before the step. */
  trainStep(count: number, hyper: Partial<OptimizerHyper>): number {
    this.forward(count, "train");
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

  /** A training step's rows must fit the buffers sized for trainRows. */
  private checkTrainRows(count: number): void {
    if (count > this.trainRows) throw new Error(`a training step of ${count} rows, but this model's training buffers hold ${this.trainRows} (trainRows)`);
  }

  private checkRange(length: number, offset: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.parameterCount) {
      throw new Error(`${length} ${what} values at offset ${offset} do not fit this model's ${this.parameterCount}`);
    }
  }
}
