// Runs bench/pytorch_reference.py (Debian's python3-torch, through /usr/bin/python3) and reads its
// JSON lines: the same nets trained the same way, in PyTorch, on the same machine and in the same session.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { watchPeakRss } from "./processes.js";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../bench/pytorch_reference.py", import.meta.url));

export interface PytorchRecord {
  net: string;
  activation: string;
  samples_per_s: number;
  ms_per_step: number;
  eval_ms: number;
  epoch?: number;
  test_acc: number;
  train_loss: number;
}

export interface PytorchSummary {
  torch: string;
  threads: number;
  total_s: number;
  peak_rss_mb: number;
  blas: string[];
}

export interface PytorchRun {
  records: PytorchRecord[];
  summary: PytorchSummary;
  /** Wall time of the whole process (interpreter start and torch import included), and its peak RSS. */
  wallSeconds: number;
  peakRssMb: number;
}

/** Why PyTorch cannot be run here, or undefined when it can. */
export function pytorchUnavailable(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.error) return `${PYTHON} not found`;
  if (probe.status !== 0) return `${PYTHON} cannot import torch (on Debian: apt-get install python3-torch)`;
  return undefined;
}

export async function runPytorch(args: string[]): Promise<PytorchRun> {
  const started = performance.now();
  const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const peak = watchPeakRss(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const peakRssMb = peak.stop();
  if (code !== 0) throw new Error(`pytorch_reference.py ${args.join(" ")} exited with ${code}:\n${stderr.slice(-2000)}`);
  const lines = stdout.split("\n").filter((line) => line.trim().startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
  const summaryLine = lines.find((line) => "summary" in line);
  if (!summaryLine) throw new Error(`pytorch_reference.py printed no summary:\n${stdout.slice(-2000)}`);
  const summary = summaryLine.summary as PytorchSummary;
  return {
    records: lines.filter((line) => !("summary" in line)) as unknown as PytorchRecord[],
    summary,
    wallSeconds,
    peakRssMb: Math.max(peakRssMb, summary.peak_rss_mb ?? 0),
  };
}
