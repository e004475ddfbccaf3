// A model checkpoint's bytes: the parameters under PyTorch's state_dict names and shapes (float32),
// the config in the metadata. No file system here: the CLI writes these bytes atomically
// (modelCheckpoint.ts), the browser offers them as a download, and both give the same bytes.
import { DEFAULT_INIT } from "../init.js";
import { parameterLayout, stateDictOf } from "../layout.js";
import type { MlpConfig } from "../model.js";
import { encodeSafetensors, type Tensor } from "./safetensorsCodec.js";

export const CHECKPOINT_FORMAT = "actlab-mlp/1";

/** The block's tensors under their state_dict names (and `prefix`), as the layout places them. */
export function parameterTensors(config: MlpConfig, block: Float32Array, prefix = ""): Tensor[] {
  return stateDictOf(parameterLayout(config), block).map((t) => ({ ...t, name: prefix + t.name, dtype: "F32" as const }));
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
  };
}

/** A finished (or diverged) job's checkpoint: the parameters, with the config and these `extra` keys in the metadata. */
export function modelCheckpointBytes(config: MlpConfig, params: Float32Array, extra: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(parameterTensors(config, params), { ...extra, ...configMetadata(config) });
}

/** What a run folder's <series>.safetensors says of the job beside its config (the CLI's and the browser's alike). */
export function finishedCheckpointMetadata(job: {
  model: string; seed: number; status: string; init?: string; last?: { epoch: number; test_acc: number };
}): Record<string, string> {
  return {
    model: job.model,
    seed: String(job.seed),
    epochs: String(job.last?.epoch ?? 0),
    test_acc: String(job.last?.test_acc ?? NaN),
    status: job.status,
    init: job.init ?? DEFAULT_INIT,
  };
}
