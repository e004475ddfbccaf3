// `actlab experiment <seed|shallow|deeper>`: the notebook's models dicts.
import type { Command } from "commander";
import { join } from "node:path";
import { z } from "zod";
import { notebookExperiment, NOTEBOOK_EXPERIMENTS, type NotebookExperiment } from "../../train/experiment.js";
import { activationList, parseOptions, writableDir } from "../options.js";
import { loadResumeSpecs, runFromCli } from "./run.js";
import { addTrainingFlags, refuseSettingsOnResume, toTrainingFlags, trainingFlagFields } from "./trainingFlags.js";

const CHOICES = ["seed", "shallow", "deeper"] as const;

/** Every flag and the argument of `actlab experiment`, checked together. */
export const experimentSchema = z.object({
  ...trainingFlagFields,
  which: z.string().optional().refine((which) => which === undefined || (CHOICES as readonly string[]).includes(which), {
    error: (issue) => `experiment must be one of ${CHOICES.join(", ")}; got "${String(issue.input)}"`,
  }),
  activations: activationList("--activations").optional(),
  logdir: writableDir("--logdir"),
  resume: z.array(z.string()).optional(),
}).superRefine((flags, ctx) => {
  if (flags.resume) {
    if (flags.which !== undefined) ctx.addIssue({ code: "custom", path: ["which"], message: `--resume takes run directories; drop "${flags.which}"` });
  } else if (flags.which === undefined) {
    ctx.addIssue({ code: "custom", path: ["which"], message: `experiment needs one of ${CHOICES.join(", ")} (or --resume <dir>)` });
  }
});

export function registerExperiment(program: Command, exit: (code: number) => void): void {
  const command = program
    .command("experiment")
    .argument("[which]", `seed (both), shallow (sigmoid and tanh, 5 layers of 64) or deeper (sigmoid, tanh, relu, leaky_relu, 10 layers of 48)`)
    .description("run the notebook's experiments into <logdir>/05_shallow_mlp and <logdir>/05_deeper_mlp, then print the comparison table")
    .option("--activations <list>", "override the models dict's activations (comma-separated)")
    .option("--logdir <dir>", "parent folder; each experiment writes its own sub-folder", "runs")
    .option("--resume <dirs...>", "continue interrupted run directories (their config.json decides the settings)");
  addTrainingFlags(command).action(async (which: string | undefined, raw: Record<string, unknown>) => {
    const flags = parseOptions(experimentSchema, { ...raw, which });
    const training = toTrainingFlags(flags);
    const resumeCommand = (dirs: string[]) => `actlab experiment --resume ${dirs.join(" ")}`;
    if (flags.resume) {
      refuseSettingsOnResume(command, { activations: "--activations", logdir: "--logdir" });
      const { specs, dataDir } = loadResumeSpecs(flags.resume, training.dataDir);
      exit(await runFromCli(specs, { ...training, dataDir, resume: true, resumeCommand }));
      return;
    }
    const choice = flags.which as (typeof CHOICES)[number];
    const names: NotebookExperiment[] = choice === "seed" ? (Object.keys(NOTEBOOK_EXPERIMENTS) as NotebookExperiment[]) : [choice];
    const specs = names.map((name) => notebookExperiment(name, flags.logdir, training.settings, training.seeds, {
      activations: flags.activations, leakySlope: training.leakySlope, trainLimit: training.trainLimit,
    }));
    exit(await runFromCli(specs, { ...training, resumeCommand }));
  });
}

export function experimentDir(logdir: string, name: NotebookExperiment): string {
  return join(logdir, NOTEBOOK_EXPERIMENTS[name].folder);
}
