// config.json: what a run directory was started with, read back (and checked) to resume it. A file
// edited by hand or cut short is refused with the field at fault, never half-trusted.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { dataDifferences, type DataIdentity } from "../data/identity.js";
import type { MnistData } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { mlpConfig, type MlpConfig } from "../model.js";
import { readRunConfig, type RunConfigFile } from "../runFormat.js";
import type { ModelSettings } from "./experiment.js";

export interface SavedModel {
  model: string;
  config: MlpConfig;
  /** The model's own settings over the run's (a preset's --init per model), when it has any. */
  settings?: ModelSettings;
}

/** config.json (runFormat's RunConfigFile) with each model checked as a fresh run's flags are. */
export type SavedRun = Pick<RunConfigFile, "name" | "seeds" | "settings" | "data" | "dataIdentity"> & {
  models: SavedModel[];
  trainLimit?: number;
};

/** Reads and checks `<dir>/config.json`; an InputError names the file and the field at fault. */
export function loadSavedRun(dir: string): SavedRun {
  const path = join(dir, "config.json");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--resume ${dir}: no such folder`);
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no config.json there, so it is not an actlab run directory`);
  // The format's checks (runFormat), then below the same checks a fresh run's flags go through.
  const saved = readRunConfig(path);
  return {
    name: saved.name,
    seeds: saved.seeds,
    settings: saved.settings,
    trainLimit: saved.trainLimit ?? undefined,
    data: saved.data,
    dataIdentity: saved.dataIdentity,
    models: saved.models.map(({ model, config, settings }) => {
      try {
        // The same checks a fresh run's flags go through (activation name, widths).
        const checked = mlpConfig({ ...config, hiddenSize: config.hiddenSizes, numHiddenLayers: config.hiddenSizes.length + 1 });
        return settings === undefined ? { model, config: checked } : { model, config: checked, settings };
      } catch (error) {
        throw new InputError(`${path}: model ${model}: ${(error as Error).message}`);
      }
    }),
  };
}

/**
 * Refuses to continue a run on data other than those it was trained on: the loss would be averaged
 * over other images, and the samples/s and accuracy would mix two datasets. Moved or compressed copies
 * of the same files have the same identity and pass. A run written before identities were recorded
 * cannot be checked: the caller is told so through `warn`.
 */
export function requireSameData(dir: string, recorded: DataIdentity | undefined, data: MnistData, warn: (message: string) => void): void {
  if (recorded === undefined) {
    warn(`${join(dir, "config.json")} records no data identity (written by an older actlab), so the data in ${data.source} cannot be checked against the run's`);
    return;
  }
  const differences = dataDifferences(recorded, data.identity);
  if (differences.length > 0) {
    throw new InputError(
      `--resume ${dir}: the data in ${data.source} are not the data this run was trained on (${differences.join("; ")}); ` +
      `resume with the same files (moved or compressed copies are fine: pass --data <their folder>)`,
    );
  }
}
