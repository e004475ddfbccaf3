// `actlab serve [logdir]`: the dashboard, until Ctrl-C (or SIGTERM), which stops it cleanly with exit code 0.
import type { Command } from "commander";
import { addFlags, parseFlags } from "../flags.js";
import { SERVE } from "../flagTable.js";

function loopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export function registerServe(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("serve")
    .argument("[logdir]", "the folder holding run directories (any folder with a metrics.jsonl)", "runs")
    .description("dashboard in the browser: accuracy and loss, gradient norms per layer, weight and gradient histograms, dead and saturated units, activation explorer"), SERVE);
  command.action(async (logdir: string) => {
    const flags = parseFlags(command, SERVE);
    // Loaded here, not at start-up: the server and its chart libraries would weigh on every command.
    const { startServer } = await import("../../serve/server.js");
    const server = await startServer({ logdir, port: flags.port, host: flags.host });
    process.stdout.write(`actlab dashboard for ${logdir}: ${server.url}  (Ctrl-C to stop)\n`);
    if (!loopback(flags.host)) {
      process.stderr.write(`warning: listening on ${flags.host}: anyone who can reach this machine can read the runs in ${logdir} (there is no login)\n`);
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    process.stderr.write(`\n${signal}: dashboard stopped\n`);
    await server.close();
    exit(0);
  });
}
