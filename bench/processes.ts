// Child processes for the benchmark: their peak resident memory, and actlab's own CLI run as a user runs it.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Follows a process's peak resident set (VmHWM, which covers all its threads) by reading
 * /proc/<pid>/status every 100 ms; stop() returns the last value read, in MB (0 where /proc is absent).
 */
export function watchPeakRss(pid: number | undefined): { stop(): number } {
  let peakKb = 0;
  const read = () => {
    if (pid === undefined) return;
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // The process has exited; keep the last reading.
    }
  };
  read();
  const timer = setInterval(read, 100);
  return {
    stop() {
      clearInterval(timer);
      return peakKb / 1024;
    },
  };
}

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

export interface CliRun {
  wallSeconds: number;
  peakRssMb: number;
  output: string;
}

/** Runs `actlab <args>` in a child process (stdout not a terminal: plain progress lines). */
export async function runActlab(args: string[]): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const peak = watchPeakRss(child.pid);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => { output += chunk; });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => { output += chunk; });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const peakRssMb = peak.stop();
  if (code !== 0) throw new Error(`actlab ${args.join(" ")} exited with ${code}:\n${output.slice(-2000)}`);
  return { wallSeconds, peakRssMb, output };
}
