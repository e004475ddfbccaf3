// The settings of one training job and their defaults: the notebook's, with PyTorch's names.
import { DEFAULT_INIT, type InitName } from "../init.js";
import type { MlpConfig } from "../model.js";
import { resolveHyper, type OptimizerHyper, type OptimizerName } from "../optim.js";

/**
 * lr, momentum, weightDecay, betas and eps are the optimiser's knobs (optim.ts): their defaults are the
 * optimiser's own, and a config.json records every one (those the optimiser does not take at the
 * table's fallback values, unused).
 */
export interface TrainSettings extends OptimizerHyper {
  optimizer: OptimizerName;
  batchSize: number;
  testBatchSize: number;
  epochs: number;
  /** torchvision's MNIST normalisation by default. */
  mean: number;
  std: number;
  /** How the weights and biases are drawn (init.ts); nn.Linear's default unless --init says otherwise. */
  init: InitName;
}

export const DEFAULT_SETTINGS: TrainSettings = {
  optimizer: "sgd",
  ...resolveHyper("sgd"),
  batchSize: 64,
  testBatchSize: 256,
  epochs: 30,
  mean: 0.1307,
  std: 0.3081,
  init: DEFAULT_INIT,
};

/**
 * The largest seed. The generator reads a seed as 32 bits (Random.fromSeed, streamSeed), so seeds
 * above this would alias smaller ones and train the same model twice: every seed, from a flag or
 * from a config.json, lies in [0, SEED_MAX].
 */
export const SEED_MAX = 2 ** 32 - 1;

/** One model of a models dict, trained with one seed. */
export interface TrainJob {
  /** The key in the models dict, e.g. "relu". */
  model: string;
  seed: number;
  config: MlpConfig;
  settings: TrainSettings;
  /** Limit the training set to its first n images (tests and quick looks); undefined = all. */
  trainLimit?: number;
}
