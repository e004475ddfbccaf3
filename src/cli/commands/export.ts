// `actlab export <checkpoint> --onnx model.onnx`: a checkpoint as a standard ONNX model.
import type { Command } from "commander";
import { resolve } from "node:path";
import { InputError } from "../../errors.js";
import { exportOnnx, ONNX_OPSET } from "../../export/onnx.js";
import { addFlags, parseFlags } from "../flags.js";
import { EXPORT } from "../flagTable.js";

export function registerExport(program: Command): void {
  const command = addFlags(program
    .command("export")
    .argument("<checkpoint>", "a .safetensors checkpoint written by actlab")
    .description(`export a checkpoint as an ONNX model (opset ${ONNX_OPSET}): input "input" [N, in] normalised, output "logits" [N, out]`), EXPORT);
  command.action((checkpoint: string) => {
    const flags = parseFlags(command, EXPORT);
    if (flags.onnx === undefined) throw new InputError("--onnx <file> is required: the .onnx file to write");
    if (resolve(flags.onnx) === resolve(checkpoint)) {
      throw new InputError(`--onnx ${flags.onnx} is the checkpoint itself; writing it would destroy the checkpoint`);
    }
    const bytes = exportOnnx(checkpoint, flags.onnx);
    process.stdout.write(`${flags.onnx}: ONNX opset ${ONNX_OPSET}, ${bytes.toLocaleString("en-US")} bytes, from ${checkpoint}\n`);
  });
}
