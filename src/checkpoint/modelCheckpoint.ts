// Model checkpoints as safetensors files that PyTorch's notebook MLP loads with
// load_state_dict(strict=True): state_dict names and shapes, float32, the config in the metadata.
// A resumable checkpoint adds the momentum buffers and the training position.
import { isActivationName } from "../activations.js";
import { InputError } from "../errors.js";
import { linearShapes, stateDictNames, type MlpConfig } from "../model.js";
import type { EpochRecord, ResumeState } from "../train/trainer.js";
import { readSafetensors, writeSafetensorsSync, type Tensor } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "actlab-mlp/1";

function parameterTensors(config: MlpConfig, block: Float32Array, prefix = ""): Tensor[] {
  const names = stateDictNames(config);
  let offset = 0;
  return linearShapes(config).flatMap(([inSize, outSize], k) => {
    const weight = block.slice(offset, offset + inSize * outSize);
    const bias = block.slice(offset + inSize * outSize, offset + inSize * outSize + outSize);
    offset += inSize * outSize + outSize;
    return [
      { name: prefix + names[2 * k], dtype: "F32" as const, shape: [outSize, inSize], data: weight },
      { name: prefix + names[2 * k + 1], dtype: "F32" as const, shape: [outSize], data: bias },
    ];
  });
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
  const leakySlope = Number(metadata.leaky_slope ?? "0.01");
  const activation = metadata.activation ?? "";
  if (!Array.isArray(hiddenSizes) || !hiddenSizes.every((h) => Number.isInteger(h) && h > 0)) throw bad("metadata hidden_sizes is not a list of widths");
  if (!Number.isInteger(inSize) || inSize < 1 || !Number.isInteger(outSize) || outSize < 1) throw bad("metadata in_size/out_size missing or invalid");
  if (!isActivationName(activation)) throw bad(`unknown activation "${activation}" in metadata`);
  if (!Number.isFinite(leakySlope)) throw bad("metadata leaky_slope is not a number");
  return { inSize, outSize, hiddenSizes: hiddenSizes as number[], activation, leakySlope };
}

function readBlock(tensors: Map<string, Tensor>, config: MlpConfig, source: string, prefix = ""): Float32Array {
  const names = stateDictNames(config);
  const shapes = linearShapes(config);
  const total = shapes.reduce((n, [i, o]) => n + i * o + o, 0);
  // Metadata may claim any size: check it against the values the file holds before allocating.
  const present = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  if (!(total <= present)) throw new InputError(`${source}: metadata declares a net of ${total} parameters but the file holds ${present} values`);
  const block = new Float32Array(total);
  let offset = 0;
  shapes.forEach(([inSize, outSize], k) => {
    for (const [name, shape] of [[names[2 * k], [outSize, inSize]], [names[2 * k + 1], [outSize]]] as const) {
      const tensor = tensors.get(prefix + name);
      if (!tensor) throw new InputError(`${source}: tensor ${prefix + name} is missing`);
      if (tensor.dtype !== "F32" || JSON.stringify(tensor.shape) !== JSON.stringify(shape)) {
        throw new InputError(`${source}: tensor ${prefix + name} is ${tensor.dtype} ${JSON.stringify(tensor.shape)}, expected F32 ${JSON.stringify(shape)}`);
      }
      block.set(tensor.data as Float32Array, offset);
      offset += tensor.data.length;
    }
  });
  return block;
}

export function loadModelCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata } = readSafetensors(path);
  const config = configFromMetadata(metadata, path);
  return { config, params: readBlock(tensors, config, path), metadata };
}

/** The resumable state of one job: parameters, momentum and position, written atomically. */
export function saveResumeState(path: string, config: MlpConfig, state: ResumeState): void {
  const position = {
    epoch: state.epoch,
    step: state.step,
    shuffleStateAtEpochStart: state.shuffleStateAtEpochStart,
    lossSum: state.lossSum,
    secondsSoFar: state.secondsSoFar,
    history: state.history,
  };
  writeSafetensorsSync(
    path,
    [...parameterTensors(config, state.params), ...parameterTensors(config, state.velocity, "momentum_buffer.")],
    { ...configMetadata(config), resume: JSON.stringify(position) },
  );
}

export function loadResumeState(path: string): { config: MlpConfig; state: ResumeState } {
  const { tensors, metadata } = readSafetensors(path);
  const config = configFromMetadata(metadata, path);
  let position: { epoch: number; step: number; shuffleStateAtEpochStart: number[]; lossSum: number; secondsSoFar: number; history: EpochRecord[] };
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
