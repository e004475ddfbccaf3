// `actlab train`: one models dict built from flags.
import type { Command } from "commander";
import { z } from "zod";
import { mlpConfig } from "../../model.js";
import type { ExperimentSpec } from "../../train/experiment.js";
import { activationList, parseOptions, positiveInteger, widthList, writableDir } from "../options.js";
import { loadResumeSpecs, runFromCli } from "./run.js";
import { addNetShapeFlags, addTrainingFlags, refuseSettingsOnResume, toTrainingFlags, trainingFlagFields } from "./trainingFlags.js";

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Every flag of `actlab train`, checked together; cross-flag checks run once each flag is valid. */
export const trainSchema = z.object({
  ...trainingFlagFields,
  activations: activationList("--activations"),
  layers: positiveInteger("--layers", 1000),
  hidden: widthList("--hidden"),
  in: positiveInteger("--in", 1 << 20),
  out: positiveInteger("--out", 1 << 20),
  logdir: writableDir("--logdir").optional(),
  resume: z.string().optional(),
}).superRefine((flags, ctx) => {
  if (flags.layers < 2) {
    ctx.addIssue({ code: "custom", path: ["layers"], message: `--layers counts the Linear layers and must be at least 2; got ${flags.layers}` });
  } else if (flags.hidden.list && flags.hidden.widths.length !== flags.layers - 1) {
    ctx.addIssue({
      code: "custom", path: ["hidden"],
      message: `--hidden lists ${flags.hidden.widths.length} widths but --layers ${flags.layers} needs exactly ${flags.layers - 1} ` +
        "(one per hidden layer), or a single width for all of them",
    });
  }
});

const RESUME_CONFLICTS = { activations: "--activations", layers: "--layers", hidden: "--hidden", in: "--in", out: "--out", logdir: "--logdir" };

export function registerTrain(program: Command, exit: (code: number) => void): void {
  const command = program
    .command("train")
    .description("train one models dict (one model per activation) and log it into a run folder")
    .option("--activations <list>", "comma-separated activations, one model each", "relu")
    .option("--logdir <dir>", "the run folder itself (default: runs/train-<time>)")
    .option("--resume <dir>", "continue an interrupted run folder (its config.json decides the settings)");
  addTrainingFlags(addNetShapeFlags(command)).action(async (raw: Record<string, unknown>) => {
    const flags = parseOptions(trainSchema, raw);
    const training = toTrainingFlags(flags);
    const resumeCommand = (dirs: string[]) => `actlab train --resume ${dirs[0]}`;
    if (flags.resume !== undefined) {
      refuseSettingsOnResume(command, RESUME_CONFLICTS);
      const { specs, dataDir } = loadResumeSpecs([flags.resume], training.dataDir);
      exit(await runFromCli(specs, { ...training, dataDir, resume: true, resumeCommand }));
      return;
    }
    const spec: ExperimentSpec = {
      name: "train",
      dir: flags.logdir ?? `runs/train-${timestamp()}`,
      seeds: training.seeds,
      settings: training.settings,
      trainLimit: training.trainLimit,
      models: flags.activations.map((activation) => ({
        model: activation,
        config: mlpConfig({
          inSize: flags.in, outSize: flags.out, numHiddenLayers: flags.layers, activation, leakySlope: training.leakySlope,
          hiddenSize: flags.hidden.list ? flags.hidden.widths : flags.hidden.widths[0],
        }),
      })),
    };
    exit(await runFromCli([spec], { ...training, resumeCommand }));
  });
}
