// The parameter layout: where every tensor of the net lives. One function answers, for a config,
// each tensor's PyTorch state_dict name, shape, role and place in the one contiguous float block
// that the engine trains, the checkpoints store and the diagnostics read. Nothing else works these
// out again.
//
// The net is PyTorch's nn.Sequential named `layers`: Linear, activation, Linear, ..., Linear. The
// modules are numbered as nn.Sequential numbers them, parameterless ones included, so that a module
// added later (a norm layer between a Linear and its activation, a PReLU with a learnable slope)
// takes its number here and every name after it follows.
//
// A norm module's running statistics are buffers, not parameters: they live in the same block (so
// that reading, checkpointing and resuming carry them), but after every trainable tensor, at
// `trainableSize` and beyond, where no gradient and no optimiser step reaches. The tensors list
// keeps state_dict order (a module's parameters, then its buffers).
import { ACTIVATIONS } from "./activations.js";
import type { MlpConfig } from "./model.js";
import type { NormName } from "./norms.js";

/** What a tensor is to its module. Room for slopes: PReLU's weight. */
export type TensorRole = "weight" | "bias" | "running_mean" | "running_var" | "num_batches_tracked";

export interface TensorSlot {
  /** PyTorch state_dict name, e.g. `layers.2.weight`. */
  name: string;
  role: TensorRole;
  /** Index of the module (in nn.Sequential numbering) that holds it. */
  module: number;
  /** PyTorch's shape: [out, in] for a Linear weight, [out] for its bias. */
  shape: number[];
  /** Place in the parameter block, in floats, and number of floats. */
  offset: number;
  size: number;
  /** A buffer (running statistics): stored and resumed, never trained. */
  buffer: boolean;
  /** How a checkpoint stores it: float32, or int64 for num_batches_tracked (kept in the block as a float, exact to 2²⁴). */
  dtype: "F32" | "I64";
}

export interface LinearModule {
  kind: "linear";
  /** nn.Sequential index. */
  module: number;
  /** 0-based index among the Linear layers (diagnostics print it 1-based). */
  linear: number;
  inSize: number;
  outSize: number;
  weight: TensorSlot;
  bias: TensorSlot;
}

export interface ActivationModule {
  kind: "activation";
  module: number;
  /** The Linear layer whose output it transforms. */
  linear: number;
  width: number;
  /** A learned activation's `weight` (nn.PReLU's slope, shape [1]); absent for the others. */
  weight?: TensorSlot;
}

/** BatchNorm1d or LayerNorm between a hidden Linear and its activation. */
export interface NormModule {
  kind: "norm";
  norm: Exclude<NormName, "none">;
  module: number;
  /** The Linear layer whose output it normalises. */
  linear: number;
  width: number;
  weight: TensorSlot;
  bias: TensorSlot;
  /** Batch norm's buffers (undefined for layer norm). */
  runningMean?: TensorSlot;
  runningVar?: TensorSlot;
  numBatchesTracked?: TensorSlot;
}

export type ModuleSlot = LinearModule | NormModule | ActivationModule;

export interface ParameterLayout {
  /** Every module in nn.Sequential order. */
  modules: ModuleSlot[];
  /** The Linear modules, first to last. */
  linears: LinearModule[];
  /** The norm modules, one per hidden Linear (none without norm). */
  norms: NormModule[];
  /** Every tensor in state_dict order (the block's order, but for the buffers, which come last). */
  tensors: TensorSlot[];
  /** Floats in the whole block. */
  size: number;
  /** Floats of the trainable prefix [0, trainableSize): what gradients and optimiser steps cover. */
  trainableSize: number;
}

export function parameterLayout(config: MlpConfig): ParameterLayout {
  const widths = [config.inSize, ...config.hiddenSizes, config.outSize];
  const modules: ModuleSlot[] = [];
  const linears: LinearModule[] = [];
  const norms: NormModule[] = [];
  const tensors: TensorSlot[] = [];
  const norm = config.norm ?? "none";
  // Buffers take their offsets once every trainable tensor has one.
  const learned = ACTIVATIONS[config.activation].learned === true;
  const trainableSize = widths.slice(1).reduce((n, out, k) => n + out * widths[k] + out, 0) +
    (norm === "none" ? 0 : 2 * config.hiddenSizes.reduce((n, h) => n + h, 0)) +
    (learned ? config.hiddenSizes.length : 0);
  let offset = 0;
  let bufferOffset = trainableSize;
  const tensor = (module: number, role: TensorRole, shape: number[], dtype: "F32" | "I64" = "F32"): TensorSlot => {
    const size = shape.reduce((n, d) => n * d, 1);
    const buffer = role === "running_mean" || role === "running_var" || role === "num_batches_tracked";
    const slot = { name: `layers.${module}.${role}`, role, module, shape, offset: buffer ? bufferOffset : offset, size, buffer, dtype };
    if (buffer) bufferOffset += size;
    else offset += size;
    tensors.push(slot);
    return slot;
  };
  for (let linear = 0; linear < widths.length - 1; linear++) {
    const [inSize, outSize] = [widths[linear], widths[linear + 1]];
    const module = modules.length;
    const weight = tensor(module, "weight", [outSize, inSize]);
    const bias = tensor(module, "bias", [outSize]);
    const slot: LinearModule = { kind: "linear", module, linear, inSize, outSize, weight, bias };
    modules.push(slot);
    linears.push(slot);
    if (linear === widths.length - 2) continue;
    if (norm !== "none") {
      const at = modules.length;
      const slot: NormModule = {
        kind: "norm", norm, module: at, linear, width: outSize,
        weight: tensor(at, "weight", [outSize]), bias: tensor(at, "bias", [outSize]),
        ...(norm === "batch" ? {
          runningMean: tensor(at, "running_mean", [outSize]),
          runningVar: tensor(at, "running_var", [outSize]),
          // A 0-dimensional tensor in PyTorch.
          numBatchesTracked: tensor(at, "num_batches_tracked", [], "I64"),
        } : {}),
      };
      modules.push(slot);
      norms.push(slot);
    }
    // After the Linear's (and the norm's) tensors, as nn.Sequential's state_dict orders them:
    // layers.0.weight, layers.0.bias, layers.1.weight (PReLU's slope), layers.2.weight, ...
    const activation = modules.length;
    const slope = learned ? tensor(activation, "weight", [1]) : undefined;
    modules.push({ kind: "activation", module: activation, linear, width: outSize, ...(slope ? { weight: slope } : {}) });
  }
  if (offset !== trainableSize) throw new Error(`parameter layout: ${offset} trainable floats, expected ${trainableSize}`);
  return { modules, linears, norms, tensors, size: bufferOffset, trainableSize };
}

/** A tensor's values in a block laid out by `layout` (a view: subarray, not a copy). */
export function tensorView(block: Float32Array, slot: TensorSlot): Float32Array {
  return block.subarray(slot.offset, slot.offset + slot.size);
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Copies of a block's tensors under their state_dict names and shapes, in the layout's order. */
export function stateDictOf(layout: ParameterLayout, block: Float32Array): NamedTensor[] {
  return layout.tensors.map((t) => ({ name: t.name, shape: t.shape, data: block.slice(t.offset, t.offset + t.size) }));
}
