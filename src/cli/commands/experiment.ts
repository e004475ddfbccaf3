// `actlab experiment <seed|shallow|deeper>`: the notebook's models dicts.
import type { Command } from "commander";
import { notebookExperiment, NOTEBOOK_EXPERIMENTS, type NotebookExperiment } from "../../train/experiment.js";
import { InputError } from "../../errors.js";
import { trainingMemoryProblems } from "../../train/trainer.js";
import { addFlags, parseFlags } from "../flags.js";
import { EXPERIMENT_RUN, TRAINING } from "../flagTable.js";
import { shellCommand } from "../shellQuote.js";
import { loadResumeSpecs, runFromCli } from "./run.js";
import { toTrainingFlags, trainingFlagConflicts } from "./trainingFlags.js";

const CHOICES = ["seed", "shallow", "deeper"] as const;

/** Every flag of `actlab experiment`, in the order of its help. */
export const EXPERIMENT_FLAGS = { ...EXPERIMENT_RUN, ...TRAINING };

/** What is wrong with the argument, given --resume or not. */
function whichProblems(which: string | undefined, resuming: boolean): string[] {
  if (which !== undefined && !(CHOICES as readonly string[]).includes(which)) return [`experiment must be one of ${CHOICES.join(", ")}; got "${which}"`];
  if (resuming && which !== undefined) return [`--resume takes run directories; drop "${which}"`];
  if (!resuming && which === undefined) return [`experiment needs one of ${CHOICES.join(", ")} (or --resume <dir>)`];
  return [];
}

export function registerExperiment(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("experiment")
    .argument("[which]", `seed (both), shallow (sigmoid and tanh, 5 layers of 64) or deeper (sigmoid, tanh, relu, leaky_relu, 10 layers of 48)`)
    .description("run the notebook's experiments into <logdir>/05_shallow_mlp and <logdir>/05_deeper_mlp, then print the comparison table"), EXPERIMENT_FLAGS);
  command.action(async (which: string | undefined) => {
    const resuming = command.opts().resume !== undefined;
    const flags = parseFlags(command, EXPERIMENT_FLAGS, undefined, [...whichProblems(which, resuming), ...trainingFlagConflicts(command, EXPERIMENT_FLAGS)]);
    const training = toTrainingFlags(flags);
    const resumeCommand = (dirs: string[]) => shellCommand(["actlab", "experiment", "--resume", ...dirs]);
    if (flags.resume) {
      const { specs, dataDir } = loadResumeSpecs(flags.resume, training.dataDir);
      exit(await runFromCli(specs, { ...training, dataDir, resume: true, resumeCommand }));
      return;
    }
    const choice = which as (typeof CHOICES)[number];
    const names: NotebookExperiment[] = choice === "seed" ? (Object.keys(NOTEBOOK_EXPERIMENTS) as NotebookExperiment[]) : [choice];
    const specs = names.map((name) => notebookExperiment(name, flags.logdir, training.settings, training.seeds, {
      activations: flags.activations, leakySlope: training.leakySlope, norm: training.norm, trainLimit: training.trainLimit,
    }));
    // The notebook's nets with the batch sizes typed: refused here, with the other flag problems' exit 2.
    const tooLarge = specs.flatMap((spec) => trainingMemoryProblems(spec.models, spec.settings));
    if (tooLarge.length > 0) throw new InputError(tooLarge.join("\n"));
    exit(await runFromCli(specs, { ...training, resumeCommand }));
  });
}
