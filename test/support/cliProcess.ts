// Running the real `actlab` command line in a child process, as a user would, and reading back
// what a run directory holds. Shared by the reliability tests.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves with the first stderr text matching `pattern` (output so far), or rejects when the process ends first. */
  waitForStderr(pattern: RegExp): Promise<string>;
  done: Promise<CliResult>;
}

/** Starts `actlab <args>` with stdout and stderr as pipes (not a terminal: plain progress lines). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ pattern: RegExp; resolve: (text: string) => void; reject: (error: Error) => void }> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(stderr);
      }
    }
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => {
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`actlab ${args.join(" ")} ended (code ${code}, signal ${signal}) before printing ${waiter.pattern}; stderr:\n${stderr}`));
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitForStderr: (pattern) => (pattern.test(stderr) ? Promise.resolve(stderr) : new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }))),
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** `actlab <args>` with CI set (no progress bars), as a user's script would run it. */
export async function actlab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runCli(args, { CI: "1" });
  return { code: code ?? 1, stdout, stderr };
}

/** Lines of metrics.jsonl with the fields that measure time removed (they differ from run to run). */
export function metricsWithoutTimes(dir: string): string[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter((line) => line !== "").map((line) => {
    const { seconds: _s, samples_per_s: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return JSON.stringify(rest);
  });
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function filesUnder(dir: string, relative = ""): string[] {
  return readdirSync(join(dir, relative), { withFileTypes: true }).flatMap((entry) => {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  }).sort();
}

