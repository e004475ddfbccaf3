// Model checkpoints as safetensors files that PyTorch's notebook MLP loads with
// load_state_dict(strict=True): state_dict names and shapes, float32, the config in the metadata.
// A resumable checkpoint adds the optimiser's state (its buffers under torch's optimizer.state names,
// "<name>.<parameter>", and its step count) and the training position.
import { DEFAULT_LEAKY_SLOPE, isActivationName } from "../activations.js";
import { DATA_FILES, type DataIdentity } from "../data/identity.js";
import { InputError } from "../errors.js";
import { parameterLayout, type TensorSlot } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { DEFAULT_NORM, isNormName } from "../norms.js";
import { isOptimizerName, OPTIMIZERS, type OptimizerState } from "../optim.js";
import { writeFileAtomicSync } from "./atomicFile.js";
import { configMetadata, modelCheckpointContent, parameterTensors } from "./checkpointBytes.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, safetensorsParts, type Safetensors, type Tensor } from "./safetensors.js";

export { CHECKPOINT_FORMAT, finishedCheckpointMetadata, modelCheckpointBytes } from "./checkpointBytes.js";

export interface RecordedTraining {
  normalization?: { mean: number; std: number };
  testBatchSize?: number;
  data?: DataIdentity;
  testAcc?: number;
  testLoss?: number;
}

/**
 * What a checkpoint's metadata records of its training (each part undefined where an older
 * checkpoint lacks it); a key that is there but malformed is refused, naming the file and key.
 */
export function recordedTraining(metadata: Record<string, string>, source: string): RecordedTraining {
  const bad = (key: string, why: string) => new InputError(`${source}: metadata ${key} ${why}`);
  const number = (key: string, check: (x: number) => boolean = Number.isFinite): number | undefined => {
    const raw = metadata[key];
    if (raw === undefined) return undefined;
    const value = raw.trim() === "" ? NaN : Number(raw);
    if (!check(value)) throw bad(key, `is not a valid number ("${raw.slice(0, 40)}")`);
    return value;
  };
  const mean = number("mean");
  const std = number("std", (x) => Number.isFinite(x) && x > 0);
  if ((mean === undefined) !== (std === undefined)) throw bad(mean === undefined ? "mean" : "std", "is missing while the other is there");
  // A diverged model's accuracy and loss are recorded as NaN.
  const testAcc = number("test_acc", (x) => Number.isNaN(x) || (x >= 0 && x <= 1));
  const testLoss = number("test_loss", (x) => !Number.isFinite(x) || x >= 0);
  const testBatchSize = number("test_batch_size", (x) => Number.isInteger(x) && x >= 1);
  let data: DataIdentity | undefined;
  if (metadata.data_sha256 !== undefined || metadata.data_files !== undefined) {
    const hex = /^[0-9a-f]{64}$/;
    let files: unknown;
    try {
      files = JSON.parse(metadata.data_files ?? "null");
    } catch {
      throw bad("data_files", "is not JSON");
    }
    const valid = hex.test(metadata.data_sha256 ?? "") && files !== null && typeof files === "object" && DATA_FILES.every((name) => {
      const file = (files as Record<string, { bytes?: unknown; sha256?: unknown } | undefined>)[name];
      return file !== null && typeof file === "object" && Number.isSafeInteger(file.bytes) && (file.bytes as number) >= 0 && typeof file.sha256 === "string" && hex.test(file.sha256);
    });
    if (!valid) throw bad("data_sha256/data_files", "do not describe the four data files (sizes and SHA-256 each)");
    data = { sha256: metadata.data_sha256!, files: files as DataIdentity["files"] };
  }
  return {
    normalization: mean !== undefined && std !== undefined ? { mean, std } : undefined,
    testBatchSize, data, testAcc, testLoss,
  };
}

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
  /** Parameters, in the parameter layout's order, and the optimiser's state (buffers in the same order). */
  params: Float32Array;
  optimizer: OptimizerState;
  /** Epoch records already produced (so the summary can be rebuilt). */
  history: History[];
}

/** Writes the model's parameters (the flat block, in engine order) atomically. */
export function saveModelCheckpoint(path: string, config: MlpConfig, params: Float32Array, extra: Record<string, string> = {}): void {
  const { tensors, metadata } = modelCheckpointContent(config, params, extra);
  writeFileAtomicSync(path, safetensorsParts(tensors, metadata));
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
  // Checkpoints written before --norm existed have no norm entry: they had none.
  const norm = metadata.norm ?? DEFAULT_NORM;
  if (!isNormName(norm)) throw bad(`unknown norm "${norm}" in metadata`);
  return { inSize, outSize, hiddenSizes: hiddenSizes as number[], activation, leakySlope, norm };
}

function readBlock(tensors: Map<string, Tensor>, config: MlpConfig, source: string, prefix = "", trainableOnly = false): Float32Array {
  const layout = parameterLayout(config);
  // Metadata may claim any size: check it against the values the file holds before allocating.
  const present = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  if (!(layout.size <= present)) throw new InputError(`${source}: metadata declares a net of ${layout.size} parameters but the file holds ${present} values`);
  const block = new Float32Array(layout.size);
  for (const slot of layout.tensors) {
    if (trainableOnly && slot.buffer) continue;
    const name = prefix + slot.name;
    const tensor = tensors.get(name);
    if (!tensor) throw new InputError(`${source}: tensor ${name} is missing`);
    if (tensor.dtype !== slot.dtype || JSON.stringify(tensor.shape) !== JSON.stringify(slot.shape)) {
      throw new InputError(`${source}: tensor ${name} is ${tensor.dtype} ${JSON.stringify(tensor.shape)}, expected ${slot.dtype} ${JSON.stringify(slot.shape)}`);
    }
    block.set(slotValues(tensor, slot, source), slot.offset);
  }
  return block;
}

/** A tensor's values as the block's floats; an int64 count must be one a float holds exactly. */
function slotValues(tensor: Tensor, slot: TensorSlot, source: string): ArrayLike<number> {
  if (slot.dtype === "F32") return tensor.data as Float32Array;
  const values = Array.from(tensor.data as BigInt64Array, Number);
  if (!values.every((v) => v >= 0 && v <= 2 ** 24)) throw new InputError(`${source}: tensor ${tensor.name} holds a count outside [0, 2^24]`);
  return values;
}

export function loadModelCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata } = readSafetensors(path);
  const config = configFromMetadata(metadata, path);
  return { config, params: readBlock(tensors, config, path), metadata };
}

/** The resumable state of one job as safetensors bytes: parameters, momentum and position (a queue keeps it in Redis). */
export function encodeResumeState<History>(config: MlpConfig, state: ResumeState<History>): Uint8Array {
  const { tensors, metadata } = resumeStateContent(config, state);
  return encodeSafetensors(tensors, metadata);
}

/** A resumable state's tensors (views of its blocks) and metadata. */
function resumeStateContent<History>(config: MlpConfig, state: ResumeState<History>): { tensors: Tensor[]; metadata: Record<string, string> } {
  const position = {
    epoch: state.epoch,
    step: state.step,
    shuffleStateAtEpochStart: state.shuffleStateAtEpochStart,
    lossSum: state.lossSum,
    secondsSoFar: state.secondsSoFar,
    history: state.history,
    optimizer: { name: state.optimizer.name, step: state.optimizer.step },
  };
  const stateNames = OPTIMIZERS[state.optimizer.name].state;
  return {
    tensors: [...parameterTensors(config, state.params), ...stateNames.flatMap((name, i) => parameterTensors(config, state.optimizer.buffers[i], `${name}.`, true))],
    metadata: { ...configMetadata(config), resume: JSON.stringify(position) },
  };
}

/** The resumable state of one job, written atomically. */
export function saveResumeState<History>(path: string, config: MlpConfig, state: ResumeState<History>): void {
  const { tensors, metadata } = resumeStateContent(config, state);
  writeFileAtomicSync(path, safetensorsParts(tensors, metadata));
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
  let position: {
    epoch: number; step: number; shuffleStateAtEpochStart: number[]; lossSum: number; secondsSoFar: number; history: History[];
    optimizer?: { name: string; step: number };
  };
  try {
    position = JSON.parse(metadata.resume ?? "");
  } catch {
    throw new InputError(`${path}: not a resumable checkpoint (no valid "resume" metadata)`);
  }
  // Files from before the optimiser table hold SGD's momentum buffers only.
  const { optimizer = { name: "sgd", step: 0 }, ...rest } = position;
  if (!isOptimizerName(optimizer.name)) throw new InputError(`${path}: unknown optimiser "${optimizer.name}" in the resume metadata`);
  if (!Number.isInteger(optimizer.step) || optimizer.step < 0) throw new InputError(`${path}: optimiser step count ${optimizer.step} is not a whole number ≥ 0`);
  // The optimiser keeps no state for buffers (a norm layer's running statistics): only the trainable tensors.
  const buffers = OPTIMIZERS[optimizer.name].state.map((name) => readBlock(tensors, config, path, `${name}.`, true));
  return {
    config,
    state: { ...rest, params: readBlock(tensors, config, path), optimizer: { name: optimizer.name, step: optimizer.step, buffers } },
  };
}
