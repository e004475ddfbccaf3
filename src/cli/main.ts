#!/usr/bin/env node
// The actlab command line: thin wrappers that parse, validate and call the library.
// Exit codes: 0 success, 2 bad usage or bad input, 1 anything else, 130 interrupted.
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { InputError } from "../errors.js";
import { registerEval } from "./commands/eval.js";
import { registerExport } from "./commands/export.js";
import { registerExperiment } from "./commands/experiment.js";
import { registerParams } from "./commands/params.js";
import { registerPlot } from "./commands/plot.js";
import { registerReport } from "./commands/report.js";
import { registerServe } from "./commands/serve.js";
import { registerSweep } from "./commands/sweep.js";
import { registerTrain } from "./commands/train.js";
import { registerWorker } from "./commands/worker.js";

const { version } = createRequire(import.meta.url)("../../../package.json") as { version: string };

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command("actlab")
    .description("a lab for activation functions in deep networks: MLPs on MNIST on WebAssembly SIMD kernels")
    .version(version)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  registerExperiment(program, exit);
  registerTrain(program, exit);
  registerParams(program);
  registerEval(program, exit);
  registerExport(program);
  registerPlot(program, exit);
  registerServe(program, exit);
  registerReport(program, exit);
  registerSweep(program, exit);
  registerWorker(program, exit);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version requests end here too, with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof InputError) {
      // One line per problem (a schema reports every bad flag at once).
      process.stderr.write(error.message.split("\n").map((line) => `actlab: ${line}\n`).join(""));
      return 2;
    }
    process.stderr.write(`actlab: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
