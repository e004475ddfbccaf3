// `actlab experiment <seed|shallow|deeper>`: the notebook's models dicts.
import type { Command } from "commander";
import { join } from "node:path";
import { InputError } from "../../errors.js";
import { loadExperimentSpec, notebookExperiment, NOTEBOOK_EXPERIMENTS, type NotebookExperiment } from "../../train/experiment.js";
import { activationList, parseOptions } from "../options.js";
import { requireOneOf, runFromCli } from "./run.js";
import { addTrainingFlags, trainingFlags } from "./trainingFlags.js";

const CHOICES = ["seed", "shallow", "deeper"] as const;

export function registerExperiment(program: Command, exit: (code: number) => void): void {
  const command = program
    .command("experiment")
    .argument("[which]", `seed (both), shallow (sigmoid and tanh, 5 layers of 64) or deeper (sigmoid, tanh, relu, leaky_relu, 10 layers of 48)`)
    .description("run the notebook's experiments into <logdir>/05_shallow_mlp and <logdir>/05_deeper_mlp, then print the comparison table")
    .option("--activations <list>", "override the models dict's activations (comma-separated)")
    .option("--logdir <dir>", "parent folder; each experiment writes its own sub-folder", "runs")
    .option("--resume <dirs...>", "continue interrupted run directories (their config.json decides the settings)");
  addTrainingFlags(command).action(async (which: string | undefined, raw: Record<string, unknown>) => {
    const flags = trainingFlags(raw, parseOptions);
    const resumeDirs = raw.resume as string[] | undefined;
    if (resumeDirs) {
      if (which !== undefined) throw new InputError(`--resume takes run directories; drop "${which}"`);
      const specs = resumeDirs.map((dir) => loadExperimentSpec(dir));
      exit(await runFromCli(specs, { ...flags, resume: true, resumeCommand: (dirs) => `actlab experiment --resume ${dirs.join(" ")}` }));
      return;
    }
    if (which === undefined) throw new InputError(`experiment needs one of ${CHOICES.join(", ")} (or --resume <dir>)`);
    const choice = requireOneOf("experiment", which, CHOICES);
    const names: NotebookExperiment[] = choice === "seed" ? (Object.keys(NOTEBOOK_EXPERIMENTS) as NotebookExperiment[]) : [choice];
    const activations = raw.activations === undefined ? undefined : parseOptions(activationList("--activations"), raw.activations);
    const logdir = String(raw.logdir);
    const specs = names.map((name) => notebookExperiment(name, logdir, flags.settings, flags.seeds, {
      activations, leakySlope: flags.leakySlope, trainLimit: flags.trainLimit,
    }));
    exit(await runFromCli(specs, { ...flags, resumeCommand: (dirs) => `actlab experiment --resume ${dirs.join(" ")}` }));
  });
}

export function experimentDir(logdir: string, name: NotebookExperiment): string {
  return join(logdir, NOTEBOOK_EXPERIMENTS[name].folder);
}
