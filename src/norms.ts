// The normalisation layers a hidden block may have, `Linear → norm → activation`, with PyTorch's
// names and constants: one entry per choice, read by the flag, the layout, the engine, the
// checkpoints and the ONNX export.
export const NORM_NAMES = ["none", "batch", "layer"] as const;
export type NormName = (typeof NORM_NAMES)[number];

export const DEFAULT_NORM: NormName = "none";

export const NORMS: Record<NormName, { description: string; torch?: string }> = {
  none: { description: "no norm layer: the notebook's net" },
  batch: { description: "BatchNorm1d: batch statistics in training, running ones in eval", torch: "nn.BatchNorm1d" },
  layer: { description: "LayerNorm over the features of each sample", torch: "nn.LayerNorm" },
};

/** PyTorch's defaults for both modules. */
export const NORM_EPS = 1e-5;
/** BatchNorm1d's running statistics: r ← (1 − momentum)·r + momentum·batch statistic. */
export const BATCH_NORM_MOMENTUM = 0.1;

export function isNormName(name: string): name is NormName {
  return (NORM_NAMES as readonly string[]).includes(name);
}
