// `actlab train`: one models dict built from flags.
import type { Command } from "commander";
import { mlpConfig } from "../../model.js";
import type { ExperimentSpec, ModelSpec } from "../../train/experiment.js";
import { trainingMemoryProblems } from "../../train/trainer.js";
import { addFlags, parseFlags, type FlagValues } from "../flags.js";
import { SHAPE, TRAIN_RUN, TRAINING } from "../flagTable.js";
import { shellCommand } from "../shellQuote.js";
import { loadResumeSpecs, runFromCli } from "./run.js";
import { defaultRunDir, toTrainingFlags, trainingFlagConflicts } from "./trainingFlags.js";

/** Every flag of `actlab train`, in the order of its help. */
export const TRAIN_FLAGS = { ...TRAIN_RUN, ...SHAPE, ...TRAINING };

/** The checks across the net's shape flags, once each value is valid. */
export function shapeProblems(flags: FlagValues<typeof SHAPE>): string[] {
  if (flags.layers < 2) return [`--layers counts the Linear layers and must be at least 2; got ${flags.layers}`];
  if (Array.isArray(flags.hidden) && flags.hidden.length !== flags.layers - 1) {
    return [
      `--hidden lists ${flags.hidden.length} widths but --layers ${flags.layers} needs exactly ${flags.layers - 1} ` +
      "(one per hidden layer), or a single width for all of them",
    ];
  }
  return [];
}

/** The models dict the flags describe: one model per activation. */
function trainModels(flags: FlagValues<typeof TRAIN_FLAGS>): ModelSpec[] {
  return flags.activations.map((activation) => ({
    model: activation,
    config: mlpConfig({
      inSize: flags.in, outSize: flags.out, numHiddenLayers: flags.layers, activation, leakySlope: flags.leakySlope, hiddenSize: flags.hidden,
      norm: flags.norm,
    }),
  }));
}

export function registerTrain(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("train")
    .description("train one models dict (one model per activation) and log it into a run folder"), TRAIN_FLAGS);
  command.action(async () => {
    const flags = parseFlags(command, TRAIN_FLAGS, (values) => {
      const shape = shapeProblems(values);
      return shape.length > 0 ? shape : trainingMemoryProblems(trainModels(values), values);
    }, trainingFlagConflicts(command, TRAIN_FLAGS));
    const training = toTrainingFlags(flags);
    const resumeCommand = (dirs: string[]) => shellCommand(["actlab", "train", "--resume", dirs[0]]);
    if (flags.resume !== undefined) {
      const { specs, dataDir } = loadResumeSpecs([flags.resume], training.dataDir);
      exit(await runFromCli(specs, { ...training, dataDir, resume: true, resumeCommand }));
      return;
    }
    const spec: ExperimentSpec = {
      name: "train",
      dir: flags.logdir ?? defaultRunDir(),
      seeds: training.seeds,
      settings: training.settings,
      trainLimit: training.trainLimit,
      models: trainModels(flags),
    };
    exit(await runFromCli([spec], { ...training, resumeCommand }));
  });
}
