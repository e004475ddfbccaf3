// `actlab plot`: activations and their derivatives as SVG or PNG, or the comparison table.
import type { Command } from "commander";
import { dirname, extname } from "node:path";
import { z } from "zod";
import { writeFileAtomicSync } from "../../checkpoint/atomicFile.js";
import { InputError } from "../../errors.js";
import { activationTable, activationTableJson, formatActivationTable } from "../../plot/activationTable.js";
import { readPng } from "../../plot/png.js";
import { prepareWritableDir } from "../../train/runDirectory.js";
import { finiteNumber, parseOptions, positiveInteger } from "../options.js";

export const DEFAULT_PLOT_OUT = "plots/activations.png";

export function registerPlot(program: Command, exit: (code: number) => void): void {
  program
    .command("plot")
    .argument("[names...]", "activations to plot, space- or comma-separated (default: all 12)")
    .description("plot activations and their derivatives (taken from the backward kernels) to SVG or PNG, or print the comparison table with --table")
    .option("--out <file>", "where to write: a .svg or .png file", DEFAULT_PLOT_OUT)
    .option("--from <x>", "left end of the x interval", "-5")
    .option("--to <x>", "right end of the x interval", "5")
    .option("--points <n>", "points per curve", "1000")
    .option("--leaky-slope <x>", "leaky_relu's negative slope", "0.01")
    .option("--columns <n>", "panels per row (default: up to 4)")
    .option("--width <px>", "PNG width in pixels (default: twice the SVG's width)")
    .option("--table", "print the comparison table (ranges measured from the kernels) instead of plotting")
    .option("--json", "with --table: print the table as JSON")
    .action(async (rawNames: string[], raw: Record<string, unknown>) => {
      const flags = parseOptions(z.object({
        from: finiteNumber("--from"),
        to: finiteNumber("--to"),
        points: positiveInteger("--points", 100_000),
        leakySlope: finiteNumber("--leaky-slope"),
        columns: positiveInteger("--columns", 12).optional(),
        width: positiveInteger("--width", 16_384).optional(),
      }).passthrough(), raw);
      // Loaded here, not at start-up: vega and resvg take half a second to import for every command.
      const { activationNames, plotActivations } = await import("../../plot/activationPlot.js");
      const { svgSize } = await import("../../plot/render.js");
      const names = activationNames(rawNames.flatMap((n) => n.split(",")).map((n) => n.trim()).filter((n) => n !== ""));
      if (raw.table) {
        const rows = activationTable(names, flags.leakySlope);
        process.stdout.write((raw.json ? activationTableJson(rows) : formatActivationTable(rows)) + "\n");
        exit(0);
        return;
      }
      if (raw.json) throw new InputError("--json goes with --table (the plot itself is a file: --out)");
      if (flags.from >= flags.to) throw new InputError(`--from must be below --to; got --from ${flags.from} --to ${flags.to}`);
      const out = String(raw.out);
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
