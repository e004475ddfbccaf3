// `actlab eval <checkpoint>`: recompute a checkpoint's test accuracy.
import type { Command } from "commander";
import { loadModelCheckpoint } from "../../checkpoint/modelCheckpoint.js";
import { loadMnist } from "../../data/mnist.js";
import { Mlp } from "../../engine/mlp.js";
import { evaluate } from "../../train/evaluate.js";
import { addFlags, parseFlags } from "../flags.js";
import { EVAL } from "../flagTable.js";

export function registerEval(program: Command): void {
  const command = addFlags(program
    .command("eval")
    .argument("<checkpoint>", "a .safetensors checkpoint written by actlab")
    .description("evaluate a checkpoint on the test set and print its accuracy"), EVAL);
  command.action((path: string) => {
    const flags = parseFlags(command, EVAL);
    const checkpoint = loadModelCheckpoint(path);
    const data = loadMnist({ dir: flags.data });
    const model = new Mlp(checkpoint.config, flags.testBatchSize);
    model.writeParameters(checkpoint.params);
    const started = performance.now();
    const result = evaluate(model, data.test, flags.testBatchSize, { mean: flags.mean, std: flags.std });
    const ms = performance.now() - started;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ checkpoint: path, test_acc: result.accuracy, test_loss: result.loss, correct: result.correct, count: result.count, ms }) + "\n");
    } else {
      process.stdout.write(`${path}: test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.count}), test loss ${result.loss.toFixed(4)}, ${ms.toFixed(0)} ms\n`);
    }
  });
}
