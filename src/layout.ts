// The parameter layout: where every tensor of the net lives. One function answers, for a config,
// each tensor's PyTorch state_dict name, shape, role and place in the one contiguous float block
// that the engine trains, the checkpoints store and the diagnostics read. Nothing else works these
// out again.
//
// The net is PyTorch's nn.Sequential named `layers`: Linear, activation, Linear, ..., Linear. The
// modules are numbered as nn.Sequential numbers them, parameterless ones included, so that a module
// added later (a norm layer between a Linear and its activation, a PReLU with a learnable slope)
// takes its number here and every name after it follows.
import { ACTIVATIONS } from "./activations.js";
import type { MlpConfig } from "./model.js";

/** What a tensor is to its module. Room for buffers and slopes: running_mean, running_var, PReLU's weight. */
export type TensorRole = "weight" | "bias";

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

export type ModuleSlot = LinearModule | ActivationModule;

export interface ParameterLayout {
  /** Every module in nn.Sequential order. */
  modules: ModuleSlot[];
  /** The Linear modules, first to last. */
  linears: LinearModule[];
  /** Every tensor in block (and state_dict) order. */
  tensors: TensorSlot[];
  /** Floats in the whole block. */
  size: number;
}

export function parameterLayout(config: MlpConfig): ParameterLayout {
  const widths = [config.inSize, ...config.hiddenSizes, config.outSize];
  const modules: ModuleSlot[] = [];
  const linears: LinearModule[] = [];
  const tensors: TensorSlot[] = [];
  let offset = 0;
  const tensor = (module: number, role: TensorRole, shape: number[]): TensorSlot => {
    const size = shape.reduce((n, d) => n * d, 1);
    const slot = { name: `layers.${module}.${role}`, role, module, shape, offset, size };
    offset += size;
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
    if (linear < widths.length - 2) {
      // After the Linear's tensors, as nn.Sequential's state_dict orders them: layers.0.weight,
      // layers.0.bias, layers.1.weight (PReLU's slope), layers.2.weight, ...
      const activation = modules.length;
      const weight = ACTIVATIONS[config.activation].learned ? tensor(activation, "weight", [1]) : undefined;
      modules.push({ kind: "activation", module: activation, linear, width: outSize, ...(weight ? { weight } : {}) });
    }
  }
  return { modules, linears, tensors, size: offset };
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
