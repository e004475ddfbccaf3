// Model checkpoints as safetensors files that PyTorch's notebook MLP loads with
// load_state_dict(strict=True): state_dict names and shapes, float32, the config in the metadata.
// A resumable checkpoint adds the momentum buffers and the training position.
import { DEFAULT_LEAKY_SLOPE, isActivationName } from "../activations.js";
import { InputError } from "../errors.js";
import { parameterLayout, stateDictOf } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { writeFileAtomicSync } from "./atomicFile.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensorsSync, type Safetensors, type Tensor } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "actlab-mlp/1";

/**
 * Everything needed to continue a job exactly where it stopped. `History` is the job's epoch record
 * (the trainer's), which this file stores as JSON without looking inside.
 */
export interface ResumeState<History = unknown> {
  /** The epoch in progress (0-based) and the next step within it. */
  epoch: number;
  step: number;
  /** The shuffle generator as it was at the start of `epoch`, so its order can be drawn again. */
  shuffleStateAtEpochStart: number[];
  /** Sum of the batch losses of this epoch so far, and the seconds spent on it. */
  lossSum: number;
  secondsSoFar: number;
  /** Parameters and momentum buffers, in the parameter layout's order. */
  params: Float32Array;
  velocity: Float32Array;
  /** Epoch records already produced (so the summary can be rebuilt). */
  history: History[];
}

/** The block's tensors under their state_dict names (and `prefix`), as the layout places them. */
function parameterTensors(config: MlpConfig, block: Float32Array, prefix = ""): Tensor[] {
  return stateDictOf(parameterLayout(config), block).map((t) => ({ ...t, name: prefix + t.name, dtype: "F32" as const }));
}

function configMetadata(config: MlpConfig): Record<string, string> {
  return {
    format: CHECKPOINT_FORMAT,
    in_size: String(config.inSize),
    out_size: String(config.outSize),
    hidden_sizes: JSON.stringify(config.hiddenSizes),
    num_hidden_layers: String(config.hiddenSizes.length + 1),
    activation: config.activation,
    leaky_slope: String(config.leakySlope),
  };
}

/** Writes the model's parameters (the flat block, in engine order) atomically. */
export function saveModelCheckpoint(path: string, config: MlpConfig, params: Float32Array, extra: Record<string, string> = {}): void {
  writeSafetensorsSync(path, parameterTensors(config, params), { ...extra, ...configMetadata(config) });
}

export interface LoadedCheckpoint {
  config: MlpConfig;
  /** Parameters in engine order (the flat block). */
  params: Float32Array;
  metadata: Record<string, string>;
}

function configFromMetadata(metadata: Record<string, string>, source: string): MlpConfig {
  const bad = (what: string) => new InputError(`${source}: not an actlab checkpoint (${what})`);
  let hiddenSizes: unknown;
  try {
    hiddenSizes = JSON.parse(metadata.hidden_sizes ?? "null");
  } catch {
    throw bad("metadata hidden_sizes is not JSON");
  }
  const inSize = Number(metadata.in_size);
  const outSize = Number(metadata.out_size);
  const leakySlope = metadata.leaky_slope === undefined ? DEFAULT_LEAKY_SLOPE : Number(metadata.leaky_slope);
  const activation = metadata.activation ?? "";
  if (!Array.isArray(hiddenSizes) || !hiddenSizes.every((h) => Number.isInteger(h) && h > 0)) throw bad("metadata hidden_sizes is not a list of widths");
  if (!Number.isInteger(inSize) || inSize < 1 || !Number.isInteger(outSize) || outSize < 1) throw bad("metadata in_size/out_size missing or invalid");
  if (!isActivationName(activation)) throw bad(`unknown activation "${activation}" in metadata`);
  if (!Number.isFinite(leakySlope)) throw bad("metadata leaky_slope is not a number");
  return { inSize, outSize, hiddenSizes: hiddenSizes as number[], activation, leakySlope };
}

function readBlock(tensors: Map<string, Tensor>, config: MlpConfig, source: string, prefix = ""): Float32Array {
  const layout = parameterLayout(config);
  // Metadata may claim any size: check it against the values the file holds before allocating.
  const present = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  if (!(layout.size <= present)) throw new InputError(`${source}: metadata declares a net of ${layout.size} parameters but the file holds ${present} values`);
  const block = new Float32Array(layout.size);
  for (const slot of layout.tensors) {
    const name = prefix + slot.name;
    const tensor = tensors.get(name);
    if (!tensor) throw new InputError(`${source}: tensor ${name} is missing`);
    if (tensor.dtype !== "F32" || JSON.stringify(tensor.shape) !== JSON.stringify(slot.shape)) {
      throw new InputError(`${source}: tensor ${name} is ${tensor.dtype} ${JSON.stringify(tensor.shape)}, expected F32 ${JSON.stringify(slot.shape)}`);
    }
    block.set(tensor.data as Float32Array, slot.offset);
  }
  return block;
}

export function loadModelCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata } = readSafetensors(path);
  const config = configFromMetadata(metadata, path);
  return { config, params: readBlock(tensors, config, path), metadata };
}

/** The resumable state of one job as safetensors bytes: parameters, momentum and position (a queue keeps it in Redis). */
export function encodeResumeState<History>(config: MlpConfig, state: ResumeState<History>): Uint8Array {
  const position = {
    epoch: state.epoch,
    step: state.step,
    shuffleStateAtEpochStart: state.shuffleStateAtEpochStart,
    lossSum: state.lossSum,
    secondsSoFar: state.secondsSoFar,
    history: state.history,
  };
  return encodeSafetensors(
    [...parameterTensors(config, state.params), ...parameterTensors(config, state.velocity, "momentum_buffer.")],
    { ...configMetadata(config), resume: JSON.stringify(position) },
  );
}

/** The resumable state of one job, written atomically. */
export function saveResumeState<History>(path: string, config: MlpConfig, state: ResumeState<History>): void {
  writeFileAtomicSync(path, encodeResumeState(config, state));
}

/** `History`: the record type the caller saved its history as (this file does not look inside the records). */
export function loadResumeState<History = unknown>(path: string): { config: MlpConfig; state: ResumeState<History> } {
  return resumeStateOf<History>(readSafetensors(path), path);
}

/** decodeResumeState(encodeResumeState(config, state), source) gives back config and state; `source` names the bytes in errors. */
export function decodeResumeState<History = unknown>(bytes: Uint8Array, source: string): { config: MlpConfig; state: ResumeState<History> } {
  return resumeStateOf<History>(decodeSafetensors(bytes, source), source);
}

function resumeStateOf<History>({ tensors, metadata }: Safetensors, path: string): { config: MlpConfig; state: ResumeState<History> } {
  const config = configFromMetadata(metadata, path);
  let position: { epoch: number; step: number; shuffleStateAtEpochStart: number[]; lossSum: number; secondsSoFar: number; history: History[] };
  try {
    position = JSON.parse(metadata.resume ?? "");
  } catch {
    throw new InputError(`${path}: not a resumable checkpoint (no valid "resume" metadata)`);
  }
  return {
    config,
    state: {
      ...position,
      params: readBlock(tensors, config, path),
      velocity: readBlock(tensors, config, path, "momentum_buffer."),
    },
  };
}
