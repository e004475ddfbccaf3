// `actlab train`: one models dict built from flags.
import type { Command } from "commander";
import { z } from "zod";
import { InputError } from "../../errors.js";
import { mlpConfig } from "../../model.js";
import { loadExperimentSpec, type ExperimentSpec } from "../../train/experiment.js";
import { activationList, integerList, parseOptions, positiveInteger } from "../options.js";
import { runFromCli } from "./run.js";
import { addTrainingFlags, trainingFlags } from "./trainingFlags.js";

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export function registerTrain(program: Command, exit: (code: number) => void): void {
  const command = program
    .command("train")
    .description("train one models dict (one model per activation) and log it into a run folder")
    .option("--activations <list>", "comma-separated activations, one model each", "relu")
    .option("--layers <n>", "Linear layers (the notebook's num_hidden_layers)", "5")
    .option("--hidden <h[,h...]>", "hidden width, or one width per hidden layer (layers − 1 of them)", "64")
    .option("--in <n>", "input size", "784")
    .option("--out <n>", "output size (classes)", "10")
    .option("--logdir <dir>", "the run folder itself (default: runs/train-<time>)")
    .option("--resume <dir>", "continue an interrupted run folder (its config.json decides the settings)");
  addTrainingFlags(command).action(async (raw: Record<string, unknown>) => {
    const flags = trainingFlags(raw, parseOptions);
    if (raw.resume !== undefined) {
      const spec = loadExperimentSpec(String(raw.resume));
      exit(await runFromCli([spec], { ...flags, resume: true, resumeCommand: (dirs) => `actlab train --resume ${dirs[0]}` }));
      return;
    }
    const shape = parseOptions(z.object({
      activations: activationList("--activations"),
      layers: positiveInteger("--layers", 1000),
      hidden: integerList("--hidden", { min: 1 }).or(z.any()),
      in: positiveInteger("--in"),
      out: positiveInteger("--out"),
    }), raw);
    const hiddenList = parseHidden(String(raw.hidden));
    const spec: ExperimentSpec = {
      name: "train",
      dir: (raw.logdir as string | undefined) ?? `runs/train-${timestamp()}`,
      seeds: flags.seeds,
      settings: flags.settings,
      trainLimit: flags.trainLimit,
      models: shape.activations.map((activation) => ({
        model: activation,
        config: mlpConfig({
          inSize: shape.in, outSize: shape.out, numHiddenLayers: shape.layers, activation, leakySlope: flags.leakySlope,
          hiddenSize: hiddenList.length === 1 && !String(raw.hidden).includes(",") ? hiddenList[0] : hiddenList,
        }),
      })),
    };
    exit(await runFromCli([spec], { ...flags, resumeCommand: (dirs) => `actlab train --resume ${dirs[0]}` }));
  });
}

/** "--hidden 64" or "--hidden 128,64,32": whole positive numbers, repeats allowed. */
export function parseHidden(raw: string): number[] {
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InputError(`--hidden must be a positive whole number or a comma-separated list of them; got "${raw}"`);
  }
  return parts.map(Number);
}
