// A real redis-server for the queue tests: its own free loopback port and folder, append-only
// persistence (so a restart keeps the queue, as a production Redis configured for a queue would),
// stopped and restarted on demand, and always killed in cleanup.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export const REDIS_SERVER = "/usr/bin/redis-server";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGTERM: it writes its append-only file and exits). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = () => new Promise<void>((resolve, reject) => {
    const process_ = spawn(REDIS_SERVER, [
      "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
      "--protected-mode", "yes",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    child = process_;
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections/.test(output)) {
        process_.stdout!.off("data", onData);
        process_.stdout!.resume();
        resolve();
      }
    };
    process_.stdout!.on("data", onData);
    process_.stderr!.resume();
    process_.once("exit", (code) => reject(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`)));
  });
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGTERM");
      setTimeout(() => running.kill("SIGKILL"), 5000).unref();
    });
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}
