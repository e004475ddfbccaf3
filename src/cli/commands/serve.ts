// `actlab serve [logdir]`: the dashboard, until Ctrl-C (or SIGTERM), which stops it cleanly with exit code 0.
import type { Command } from "commander";
import { z } from "zod";
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from "../../serve/server.js";
import { parseOptions } from "../options.js";

const flagsSchema = z.object({
  port: z.string().transform((raw, ctx) => {
    const port = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || port > 65535) {
      ctx.addIssue({ code: "custom", message: `--port must be a whole number from 0 to 65535 (0 picks a free port); got "${raw}"` });
      return z.NEVER;
    }
    return port;
  }),
  host: z.string().trim().min(1, { message: "--host needs an address, such as 127.0.0.1" }),
});

function loopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export function registerServe(program: Command, exit: (code: number) => void): void {
  program
    .command("serve")
    .argument("[logdir]", "the folder holding run directories (any folder with a metrics.jsonl)", "runs")
    .description("dashboard in the browser: accuracy and loss, gradient norms per layer, weight and gradient histograms, dead and saturated units, activation explorer")
    .option("--port <n>", "port to listen on (0: any free port)", String(DEFAULT_PORT))
    .option("--host <address>", "address to bind; anything but a loopback address lets other machines read your runs", DEFAULT_HOST)
    .action(async (logdir: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(flagsSchema, raw);
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
