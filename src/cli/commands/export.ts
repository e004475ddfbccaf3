// `actlab export <checkpoint> --onnx model.onnx`: a checkpoint as a standard ONNX model.
import type { Command } from "commander";
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { InputError } from "../../errors.js";
import { exportOnnx, ONNX_OPSET } from "../../export/onnx.js";
import { parseOptions, unwritableReason } from "../options.js";

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // Missing, or under a file: unwritableReason says which.
  }
}

/** A file path to write: not a folder, in a folder that exists or can be created and written. */
function outputFile(flag: string) {
  return z.string({ error: `${flag} needs a value` }).transform((raw, ctx) => {
    let reason: string | undefined;
    if (raw.trim() === "") reason = "it is empty";
    else if (isFolder(raw)) reason = `${raw} is a folder`;
    else reason = unwritableReason(dirname(resolve(raw)));
    if (reason) {
      ctx.addIssue({ code: "custom", message: `${flag} ${raw} cannot be written: ${reason}` });
      return z.NEVER;
    }
    return raw;
  });
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .argument("<checkpoint>", "a .safetensors checkpoint written by actlab")
    .description(`export a checkpoint as an ONNX model (opset ${ONNX_OPSET}): input "input" [N, in] normalised, output "logits" [N, out]`)
    .requiredOption("--onnx <file>", "the .onnx file to write")
    .action((checkpoint: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(z.object({ onnx: outputFile("--onnx") }).passthrough(), raw);
      if (resolve(flags.onnx) === resolve(checkpoint)) {
        throw new InputError(`--onnx ${flags.onnx} is the checkpoint itself; writing it would destroy the checkpoint`);
      }
      const bytes = exportOnnx(checkpoint, flags.onnx);
      process.stdout.write(`${flags.onnx}: ONNX opset ${ONNX_OPSET}, ${bytes.toLocaleString("en-US")} bytes, from ${checkpoint}\n`);
    });
}
