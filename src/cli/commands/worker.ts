// `actlab worker --queue URL`: trains a sweep's queued trials on this machine's cores until Ctrl-C (or
// SIGTERM), which puts the jobs in training back on the queue with their state and exits with 0.
// Start one on every machine that should help; they may join and leave at any time.
import type { Command } from "commander";
import { loadMnist } from "../../data/mnist.js";
import { InputError } from "../../errors.js";
import { defaultWorkerCount } from "../../train/pool.js";
import { addFlags, parseFlags } from "../flags.js";
import { WORKER } from "../flagTable.js";

export function registerWorker(program: Command, exit: (code: number) => void): void {
  const command = addFlags(program
    .command("worker")
    .description("train the trials of sweeps queued on Redis (actlab sweep --queue), on this machine's cores"), WORKER);
  command.action(async () => {
    const flags = parseFlags(command, WORKER);
    if (flags.queue === undefined) throw new InputError("--queue is required: the Redis the sweep's coordinator uses, redis://[user:pass@]host:port[/db]");
    // Loaded here, not at start-up: BullMQ and its Redis client would weigh on every command.
    const { parseQueueUrl } = await import("../../sweep/queueConnection.js");
    const { startQueueWorker } = await import("../../sweep/queueWorker.js");
    parseQueueUrl(flags.queue); // refuses a bad address before the data are read
    const data = loadMnist({ dir: flags.data, shared: true });
    const worker = await startQueueWorker(flags.queue, {
      data,
      concurrency: flags.workers ?? defaultWorkerCount(),
      lockDuration: flags.lockMs,
      stalledInterval: flags.stalledCheckMs,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    process.stderr.write(`actlab worker: ${signal}: putting jobs in training back on the queue\n`);
    // A second signal does not wait: the jobs' locks expire and other workers take them over.
    process.once("SIGINT", () => process.exit(130));
    process.once("SIGTERM", () => process.exit(130));
    await worker.close();
    exit(0);
  });
}
