// A model checkpoint's bytes: the parameters under PyTorch's state_dict names and shapes (float32),
// the config in the metadata. No file system here: the CLI writes these bytes atomically
// (modelCheckpoint.ts), the browser offers them as a download, and both give the same bytes.
import { DEFAULT_INIT } from "../init.js";
import type { DataIdentity } from "../data/identity.js";
import { parameterLayout } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { encodeSafetensors, type Tensor } from "./safetensorsCodec.js";

export const CHECKPOINT_FORMAT = "actlab-mlp/1";

/**
 * The block's tensors under their state_dict names (and `prefix`), as the layout places them:
 * float32, but num_batches_tracked, which PyTorch keeps as int64. `trainableOnly` leaves the buffers
 * out (the optimiser keeps no state for them).
 */
export function parameterTensors(config: MlpConfig, block: Float32Array, prefix = "", trainableOnly = false): Tensor[] {
  return parameterLayout(config).tensors.filter((slot) => !(trainableOnly && slot.buffer)).map((slot) => {
    const values = block.subarray(slot.offset, slot.offset + slot.size);
    // Views of the block, not copies: both callers encode them at once (a copy was 23 MB more for
    // a 3 × 2048 net's checkpoint, 46 MB for its resumable state).
    const data = slot.dtype === "I64" ? BigInt64Array.from(values, (v) => BigInt(Math.round(v))) : values;
    return { name: prefix + slot.name, shape: slot.shape, dtype: slot.dtype, data };
  });
}

export function configMetadata(config: MlpConfig): Record<string, string> {
  return {
    format: CHECKPOINT_FORMAT,
    in_size: String(config.inSize),
    out_size: String(config.outSize),
    hidden_sizes: JSON.stringify(config.hiddenSizes),
    num_hidden_layers: String(config.hiddenSizes.length + 1),
    activation: config.activation,
    leaky_slope: String(config.leakySlope),
    norm: config.norm,
  };
}

/** A finished (or diverged) job's checkpoint: the parameters, with the config and these `extra` keys in the metadata. */
/** A model checkpoint's tensors (views of `params`) and metadata, to be encoded or written in pieces. */
export function modelCheckpointContent(config: MlpConfig, params: Float32Array, extra: Record<string, string> = {}): { tensors: Tensor[]; metadata: Record<string, string> } {
  return { tensors: parameterTensors(config, params), metadata: { ...extra, ...configMetadata(config) } };
}

export function modelCheckpointBytes(config: MlpConfig, params: Float32Array, extra: Record<string, string> = {}): Uint8Array {
  const { tensors, metadata } = modelCheckpointContent(config, params, extra);
  return encodeSafetensors(tensors, metadata);
}

/**
 * What a model checkpoint records about how its parameters were made and scored, beside the
 * config: the normalisation it was trained with, the data it was trained and tested on, and its
 * final test accuracy and loss there. `actlab eval` uses the normalisation, compares the data, and
 * says so when it scores the same data differently.
 */
export interface TrainingRecord {
  mean: number;
  std: number;
  /** The evaluation batch size (the sparse and dense paths may differ in the last bits between sizes). */
  testBatchSize: number;
  /** Absent where the caller's data carried no identity. */
  data?: DataIdentity;
  testLoss: number;
}

/** The metadata keys of a TrainingRecord (test_acc is the checkpoint's own key, written beside them). */
export function trainingMetadata(record: TrainingRecord): Record<string, string> {
  return {
    mean: String(record.mean),
    std: String(record.std),
    test_batch_size: String(record.testBatchSize),
    test_loss: String(record.testLoss),
    ...(record.data ? { data_sha256: record.data.sha256, data_files: JSON.stringify(record.data.files) } : {}),
  };
}

/** What a run folder's <series>.safetensors says of the job beside its config (the CLI's and the browser's alike). */
export function finishedCheckpointMetadata(job: {
  model: string; seed: number; status: string; init?: string; last?: { epoch: number; test_acc: number; test_loss: number };
  trainedOn: Omit<TrainingRecord, "testLoss">;
}): Record<string, string> {
  return {
    model: job.model,
    seed: String(job.seed),
    epochs: String(job.last?.epoch ?? 0),
    test_acc: String(job.last?.test_acc ?? NaN),
    status: job.status,
    init: job.init ?? DEFAULT_INIT,
    ...trainingMetadata({ ...job.trainedOn, testLoss: job.last?.test_loss ?? NaN }),
  };
}
