// `actlab eval <checkpoint>`: recompute a checkpoint's test accuracy, checked against what the
// checkpoint records of its training.
//
// - Normalisation: the checkpoint's own mean and std (the ones its weights were trained with). A
//   typed --mean or --std replaces that value only, and the output says which came from where.
//   A checkpoint written before actlab recorded them uses the flags' values (the defaults), with a note.
// - Shapes: data whose images have another pixel count, or labels with no logit, are refused (exit 2)
//   before anything is scored.
// - Same data as recorded (same SHA-256 of the four files), same normalisation: the accuracy must
//   be the recorded one, to the image. A difference means the checkpoint, the kernels or the
//   evaluation no longer give the number the run reported; it is printed, said loudly, and the
//   command exits 1, because a lab must not hand back an unexplained number with exit 0.
// - A test loss that is not finite: the outputs overflow, the accuracy counts argmaxes of
//   non-numbers; said, and exit 1 for the same reason.
// - Other data: scored all the same (that is a legitimate use: another test set), with a note naming
//   the files that differ; there is nothing to compare against.
import type { Command } from "commander";
import { loadModelCheckpoint, recordedTraining } from "../../checkpoint/modelCheckpoint.js";
import { dataDifferences } from "../../data/identity.js";
import { loadMnist, requireDataFitsModel } from "../../data/mnist.js";
import { memoryProblem, Mlp } from "../../engine/mlp.js";
import { InputError } from "../../errors.js";
import { evaluate } from "../../train/evaluate.js";
import { addFlags, givenFlags, parseFlags } from "../flags.js";
import { EVAL } from "../flagTable.js";

type Source = "checkpoint" | "flag" | "default";

export function registerEval(program: Command, exit: (code: number) => void = () => {}): void {
  const command = addFlags(program
    .command("eval")
    .argument("<checkpoint>", "a .safetensors checkpoint written by actlab")
    .description("evaluate a checkpoint on the test set with the normalisation it was trained with, and compare with the accuracy it records"), EVAL);
  command.action((path: string) => {
    const flags = parseFlags(command, EVAL);
    const given = givenFlags(command, EVAL);
    const checkpoint = loadModelCheckpoint(path);
    const recorded = recordedTraining(checkpoint.metadata, path);
    const tooLarge = memoryProblem(checkpoint.config, flags.testBatchSize);
    if (tooLarge) throw new InputError(`${path}: ${tooLarge}`);
    const data = loadMnist({ dir: flags.data });
    requireDataFitsModel(data, checkpoint.config.inSize, checkpoint.config.outSize, `checkpoint ${path}`);

    const notes: string[] = [];
    const pick = (key: "mean" | "std"): { value: number; source: Source } => {
      if (given.includes(key)) return { value: flags[key], source: "flag" };
      if (recorded.normalization) return { value: recorded.normalization[key], source: "checkpoint" };
      return { value: flags[key], source: "default" };
    };
    const mean = pick("mean");
    const std = pick("std");
    const overridden = recorded.normalization !== undefined &&
      (mean.value !== recorded.normalization.mean || std.value !== recorded.normalization.std);
    if (!recorded.normalization) {
      notes.push(`${path} records no normalisation (written before actlab recorded it): using mean ${mean.value} and std ${std.value} (${mean.source === "flag" || std.source === "flag" ? "as given" : "the defaults"})`);
    } else if (overridden) {
      notes.push(`normalising with mean ${mean.value} (${mean.source}) and std ${std.value} (${std.source}); the checkpoint was trained with mean ${recorded.normalization.mean} and std ${recorded.normalization.std}`);
    }

    const model = new Mlp(checkpoint.config, flags.testBatchSize);
    model.writeParameters(checkpoint.params);
    const started = performance.now();
    const result = evaluate(model, data.test, flags.testBatchSize, { mean: mean.value, std: std.value });
    const ms = performance.now() - started;

    const differences = recorded.data ? dataDifferences(recorded.data, data.identity) : undefined;
    const recordedCorrect = recorded.testAcc !== undefined && Number.isFinite(recorded.testAcc)
      ? Math.round(recorded.testAcc * result.count) : undefined;
    let mismatch = false; // exit 1: a number printed that cannot be trusted
    if (!differences) {
      notes.push(`${path} records no data identity (written before actlab recorded it): its accuracy cannot be checked against the data`);
    } else if (differences.length > 0) {
      notes.push(`these are not the data ${path} was trained and tested on, so its recorded accuracy does not apply: ${differences.join("; ")}`);
    } else if (recorded.testAcc !== undefined && Number.isNaN(recorded.testAcc)) {
      notes.push(`${path} records no accuracy: the model diverged in training`);
    } else if (recordedCorrect !== undefined && recordedCorrect !== result.correct) {
      const batches = recorded.testBatchSize !== undefined && recorded.testBatchSize !== flags.testBatchSize
        ? ` (measured with batches of ${recorded.testBatchSize}, this one with ${flags.testBatchSize})` : "";
      const recordedText = `${(100 * recorded.testAcc!).toFixed(2)}% (${recordedCorrect}/${result.count})${batches}`;
      if (overridden) {
        notes.push(`the recorded accuracy ${recordedText} was measured with the checkpoint's own normalisation`);
      } else {
        mismatch = true;
        notes.push(
          `error: on the same data, with the same normalisation, this accuracy differs from the recorded ${recordedText}: ` +
          "the checkpoint, the kernels or the evaluation no longer give the number the run reported",
        );
      }
    }
    if (!Number.isFinite(result.loss)) {
      mismatch = true;
      notes.push("error: the test loss is not finite: the model's outputs overflow on some test images, so its accuracy counts argmaxes of non-numbers");
    }
    const matches = differences?.length === 0 && recordedCorrect !== undefined ? recordedCorrect === result.correct : null;

    if (flags.json) {
      process.stdout.write(JSON.stringify({
        checkpoint: path, test_acc: result.accuracy, test_loss: result.loss, correct: result.correct, count: result.count, ms,
        normalization: { mean: mean.value, mean_from: mean.source, std: std.value, std_from: std.source },
        recorded_test_acc: recorded.testAcc ?? null, same_data: differences ? differences.length === 0 : null,
        data_differences: differences ?? null, matches_recorded: matches, notes,
      }) + "\n");
    } else {
      const check = matches === true ? ", as recorded" : "";
      process.stdout.write(`${path}: test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.count})${check}, test loss ${result.loss.toFixed(4)}, ${ms.toFixed(0)} ms\n`);
    }
    for (const note of notes) process.stderr.write(`actlab: ${note.startsWith("error: ") ? note : `note: ${note}`}\n`);
    exit(mismatch ? 1 : 0);
  });
}
