// `actlab report <rundir>`: one self-contained HTML page of a run, with PNG figures beside it.
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addFlags, parseFlags } from "../flags.js";
import { REPORT } from "../flagTable.js";

export function registerReport(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("report")
    .argument("<rundir>", "a run directory (one holding metrics.jsonl), e.g. runs/05_deeper_mlp, or a sweep folder (one holding sweep.json)")
    .description("write an HTML report of a run: summary table, curves, gradient norms per layer and what they say; PNG figures go to <name>_figures/ beside it"), REPORT);
  command.action(async (dir: string) => {
    const flags = parseFlags(command, REPORT);
    if (existsSync(join(dir, "sweep.json"))) {
      // A sweep folder: its own report, across trials (each trial's folder is a run of its own).
      const { writeSweepReport } = await import("../../report/sweepReport.js");
      const result = await writeSweepReport(dir, { out: flags.out, pngWidth: flags.pngWidth });
      process.stdout.write(`${result.analysis.sentences.join("\n")}\n\nwrote ${result.html}\nfigures: ${result.figures.join(", ")}\n`);
      exit(0);
      return;
    }
    // Loaded here, not at start-up: vega and resvg take half a second to import.
    const { writeReport } = await import("../../report/report.js");
    const result = await writeReport(dir, { out: flags.out, pngWidth: flags.pngWidth });
    process.stdout.write(`${result.findings.sentences.join("\n")}\n\nwrote ${result.html}\nfigures: ${result.figures.join(", ")}\n`);
    exit(0);
  });
}
