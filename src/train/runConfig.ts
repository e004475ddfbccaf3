// config.json: what a run directory was started with, read back (and checked) to resume it. A file
// edited by hand or cut short is refused with the field at fault, never half-trusted.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { mlpConfig, type MlpConfig } from "../model.js";
import { readRunConfig, type RunConfigFile } from "../runFormat.js";

export interface SavedModel {
  model: string;
  config: MlpConfig;
}

/** config.json (runFormat's RunConfigFile) with each model checked as a fresh run's flags are. */
export type SavedRun = Pick<RunConfigFile, "name" | "seeds" | "settings" | "data"> & {
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
    models: saved.models.map(({ model, config }) => {
      try {
        // The same checks a fresh run's flags go through (activation name, widths).
        const checked = mlpConfig({ ...config, hiddenSize: config.hiddenSizes, numHiddenLayers: config.hiddenSizes.length + 1 });
        return { model, config: checked };
      } catch (error) {
        throw new InputError(`${path}: model ${model}: ${(error as Error).message}`);
      }
    }),
  };
}
