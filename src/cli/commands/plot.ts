// `actlab plot`: activations and their derivatives as SVG or PNG, or the comparison table.
import type { Command } from "commander";
import { dirname, extname } from "node:path";
import { writeFileAtomicSync } from "../../checkpoint/atomicFile.js";
import { InputError } from "../../errors.js";
import { prepareWritableDir } from "../../train/runDirectory.js";
import { addFlags, parseFlags } from "../flags.js";
import { PLOT } from "../flagTable.js";

export function registerPlot(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("plot")
    .argument("[names...]", "activations to plot, space- or comma-separated (default: all 12)")
    .description("plot activations and their derivatives (taken from the backward kernels) to SVG or PNG, or print the comparison table with --table"), PLOT);
  command.action(async (rawNames: string[]) => {
    const flags = parseFlags(command, PLOT);
    // Loaded here, not at start-up: vega and resvg take half a second to import for every command.
    const { activationNames, plotActivations } = await import("../../plot/activationPlot.js");
    const { svgSize } = await import("../../plot/render.js");
    const { activationTable, activationTableJson, formatActivationTable } = await import("../../plot/activationTable.js");
    const { readPng } = await import("../../plot/png.js");
    const names = activationNames(rawNames.flatMap((n) => n.split(",")).map((n) => n.trim()).filter((n) => n !== ""));
    if (flags.table) {
      const rows = activationTable(names, flags.leakySlope);
      process.stdout.write((flags.json ? activationTableJson(rows) : formatActivationTable(rows)) + "\n");
      exit(0);
      return;
    }
    if (flags.json) throw new InputError("--json goes with --table (the plot itself is a file: --out)");
    if (flags.from >= flags.to) throw new InputError(`--from must be below --to; got --from ${flags.from} --to ${flags.to}`);
    const out = flags.out;
    const format = extname(out).toLowerCase();
    if (format !== ".svg" && format !== ".png") throw new InputError(`--out ${out}: the file name must end in .svg or .png`);
    prepareWritableDir(dirname(out), "--out folder");
    const plot = await plotActivations(names, { ...flags, png: format === ".png" });
    if (plot.png) {
      writeFileAtomicSync(out, plot.png);
      const { width, height } = readPng(plot.png);
      process.stdout.write(`wrote ${out} (${names.length} activation${names.length > 1 ? "s" : ""}, ${width}×${height} px)\n`);
    } else {
      writeFileAtomicSync(out, plot.svg);
      const { width, height } = svgSize(plot.svg);
      process.stdout.write(`wrote ${out} (${names.length} activation${names.length > 1 ? "s" : ""}, ${width}×${height} SVG)\n`);
    }
    exit(0);
  });
}
