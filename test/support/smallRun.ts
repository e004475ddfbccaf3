// A run that trains in about a second: the notebook's experiment shape on 500 images, for tests
// that need a real run directory to read.
import { join } from "node:path";
import { mlpConfig } from "../../src/model.js";
import type { ExperimentSpec } from "../../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../../src/train/settings.js";

/** Two epochs on 500 images, 4 Linear layers of width 32, one model per activation, into logdir/name. */
export function smallRunSpec(logdir: string, name: string, seeds: number[], activations: string[]): ExperimentSpec {
  return {
    name,
    dir: join(logdir, name),
    seeds,
    trainLimit: 500,
    settings: { ...DEFAULT_SETTINGS, epochs: 2 },
    models: activations.map((activation) => ({
      model: activation,
      config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 4, activation }),
    })),
  };
}
