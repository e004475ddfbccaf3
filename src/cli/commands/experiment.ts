// `actlab experiment <seed|shallow|deeper|preset>`: the notebook's models dicts, and the presets
// (train/experiment's PRESET_EXPERIMENTS) that vary one setting per model.
import type { Command } from "commander";
import {
  notebookExperiment, NOTEBOOK_EXPERIMENTS, presetExperiment, PRESET_EXPERIMENTS, settingsOf, type ExperimentSpec, type NotebookExperiment, type PresetName,
} from "../../train/experiment.js";
import { InputError } from "../../errors.js";
import { trainingMemoryProblems } from "../../train/trainer.js";
import { addFlags, givenFlags, parseFlags } from "../flags.js";
import { EXPERIMENT_RUN, TRAINING } from "../flagTable.js";
import { shellCommand } from "../shellQuote.js";
import { loadResumeSpecs, runFromCli } from "./run.js";
import { toTrainingFlags, trainingFlagConflicts } from "./trainingFlags.js";

const PRESETS = Object.keys(PRESET_EXPERIMENTS) as PresetName[];
const CHOICES = ["seed", "shallow", "deeper", ...PRESETS] as const;

function isPreset(which: string): which is PresetName {
  return Object.hasOwn(PRESET_EXPERIMENTS, which);
}

/** The argument's help: the notebook's experiments, then one line per preset from the table. */
function whichHelp(): string {
  const presets = PRESETS.map((name) => {
    const p = PRESET_EXPERIMENTS[name];
    return `${name} (${p.question} ${p.net} net × ${p.activations.join(", ")} × --${p.vary.setting} ${p.vary.values.join(", ")}; into <logdir>/${p.folder})`;
  });
  return [
    "seed (both), shallow (sigmoid and tanh, 5 layers of 64) or deeper (sigmoid, tanh, relu, leaky_relu, 10 layers of 48);",
    `or a preset: ${presets.join("; ")}`,
  ].join(" ");
}

/** A flag the preset sets per model cannot be typed as well: it would be silently overridden. */
function presetConflicts(which: string | undefined, typed: string[]): string[] {
  if (which === undefined || !isPreset(which)) return [];
  const { setting, values } = PRESET_EXPERIMENTS[which].vary;
  return typed.includes(setting) ? [`experiment ${which} trains each model with its own --${setting} (${values.join(", ")}); drop --${setting}`] : [];
}

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
    .argument("[which]", whichHelp())
    .description("run the notebook's experiments into <logdir>/05_shallow_mlp and <logdir>/05_deeper_mlp, or a preset, then print the comparison table"), EXPERIMENT_FLAGS);
  command.action(async (which: string | undefined) => {
    const resuming = command.opts().resume !== undefined;
    const flags = parseFlags(command, EXPERIMENT_FLAGS, undefined, [
      ...whichProblems(which, resuming), ...trainingFlagConflicts(command, EXPERIMENT_FLAGS), ...presetConflicts(which, givenFlags(command, EXPERIMENT_FLAGS)),
    ]);
    const training = toTrainingFlags(flags);
    const resumeCommand = (dirs: string[]) => shellCommand(["actlab", "experiment", "--resume", ...dirs]);
    if (flags.resume) {
      const { specs, dataDir } = loadResumeSpecs(flags.resume, training.dataDir);
      exit(await runFromCli(specs, { ...training, dataDir, resume: true, resumeCommand }));
      return;
    }
    const choice = which as (typeof CHOICES)[number];
    const options = { activations: flags.activations, leakySlope: training.leakySlope, norm: training.norm, trainLimit: training.trainLimit };
    let specs: ExperimentSpec[];
    if (isPreset(choice)) {
      specs = [presetExperiment(choice, flags.logdir, training.settings, training.seeds, options)];
    } else {
      const names: NotebookExperiment[] = choice === "seed" ? (Object.keys(NOTEBOOK_EXPERIMENTS) as NotebookExperiment[]) : [choice];
      specs = names.map((name) => notebookExperiment(name, flags.logdir, training.settings, training.seeds, options));
    }
    // The notebook's nets with the batch sizes typed: refused here, with the other flag problems' exit 2.
    const tooLarge = specs.flatMap((spec) => spec.models.flatMap((m) => trainingMemoryProblems([m], settingsOf(spec.settings, m))));
    if (tooLarge.length > 0) throw new InputError(tooLarge.join("\n"));
    exit(await runFromCli(specs, { ...training, resumeCommand }));
  });
}
