// `actlab report <rundir>`: one self-contained HTML page of a run, with PNG figures beside it.
import type { Command } from "commander";
import { addFlags, parseFlags } from "../flags.js";
import { REPORT } from "../flagTable.js";

export function registerReport(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("report")
    .argument("<rundir>", "a run directory (one holding metrics.jsonl), e.g. runs/05_deeper_mlp")
    .description("write an HTML report of a run: summary table, curves, gradient norms per layer and what they say; PNG figures go to <name>_figures/ beside it"), REPORT);
  command.action(async (dir: string) => {
    const flags = parseFlags(command, REPORT);
    // Loaded here, not at start-up: vega and resvg take half a second to import.
    const { writeReport } = await import("../../report/report.js");
    const result = await writeReport(dir, { out: flags.out, pngWidth: flags.pngWidth });
    process.stdout.write(`${result.findings.sentences.join("\n")}\n\nwrote ${result.html}\nfigures: ${result.figures.join(", ")}\n`);
    exit(0);
  });
}
