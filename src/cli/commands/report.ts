// `actlab report <rundir>`: one self-contained HTML page of a run, with PNG figures beside it.
import type { Command } from "commander";
import { z } from "zod";
import { parseOptions, positiveInteger } from "../options.js";

export function registerReport(program: Command, exit: (code: number) => void): void {
  program
    .command("report")
    .argument("<rundir>", "a run directory (one holding metrics.jsonl), e.g. runs/05_deeper_mlp")
    .description("write an HTML report of a run: summary table, curves, gradient norms per layer and what they say; PNG figures go to figures/ beside it")
    .option("--out <file>", "the HTML file (default: <rundir>/report.html)")
    .option("--png-width <px>", "width of the PNG figures (default: twice the chart's size)")
    .action(async (dir: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(z.object({ pngWidth: positiveInteger("--png-width", 16_384).optional() }).passthrough(), raw);
      // Loaded here, not at start-up: vega and resvg take half a second to import.
      const { writeReport } = await import("../../report/report.js");
      const result = await writeReport(dir, { out: raw.out as string | undefined, pngWidth: flags.pngWidth });
      process.stdout.write(`${result.findings.sentences.join("\n")}\n\nwrote ${result.html}\nfigures: ${result.figures.join(", ")}\n`);
      exit(0);
    });
}
