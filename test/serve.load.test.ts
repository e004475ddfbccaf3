// A bounded load test of the dashboard on 127.0.0.1 (issue 9 §2, "one request freezes it"): a few
// concurrent attackers hammer the heavy endpoints (histograms of every run, raw and rebinned, a run
// named 900 times, every activation curve at full resolution) while a polling page asks for
// /api/runs. The run list must stay responsive. Bounded: a fixed number of attack requests, and a
// time limit after which it stops in any case.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, before, test } from "node:test";
import { ACTIVATION_NAMES } from "../src/activations.js";
import { loadMnist } from "../src/data/mnist.js";
import { LIMITS } from "../src/serve/requestLimits.js";
import { startServer, type DashboardServer } from "../src/serve/server.js";
import { runExperiments } from "../src/train/experiment.js";
import { smallRunSpec } from "./support/smallRun.js";

const ATTACKERS = 4;
/** Each attacker sends every attack this many times. */
const ROUNDS = 2;
/** A safety stop: on a machine this slow the attack ends early, and the test says so. */
const SAFETY_MS = 30_000;
/**
 * The run list's p99 latency under attack may exceed its p99 on the same machine without attack by
 * at most this much (the baseline absorbs a loaded CI machine; the old server's p99 was ~4 s).
 */
const P99_LIMIT_MS = 250;

let work: string;
let server: DashboardServer;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "actlab-serve-load-"));
  const logdir = join(work, "runs");
  mkdirSync(logdir);
  await runExperiments([smallRunSpec(logdir, "alpha", [0, 1], ["tanh", "relu"])], { data: loadMnist(), workers: 0 });
  for (let i = 1; i < LIMITS.runs; i++) cpSync(join(logdir, "alpha"), join(logdir, `copy${i}`), { recursive: true });
  server = await startServer({ logdir, port: 0 });
});

after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** One GET; the body is drained, not kept. Resolves with the status and the milliseconds it took. */
function timedGet(path: string, agent: Agent): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, agent }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => { bytes += chunk.length; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("/api/runs stays responsive while the heavy endpoints are hammered", async (t) => {
  const allRuns = ["alpha", ...Array.from({ length: LIMITS.runs - 1 }, (_, i) => `copy${i + 1}`)].map((r) => `run=${r}`).join("&");
  const attacks = [
    `/api/histograms?${"run=alpha&".repeat(900)}layer=1`,
    `/api/histograms?${allRuns}&layer=1&kind=weight`,
    `/api/histograms?${allRuns}&layer=2&bins=${LIMITS.bins}&scale=log`,
    `/api/histograms?${allRuns}&layer=3&bins=${LIMITS.bins}&scale=linear`,
    `/api/activations/curves?${ACTIVATION_NAMES.map((n) => `name=${n}`).join("&")}&points=${LIMITS.points}`,
    `/api/metrics?${"run=alpha&".repeat(900)}`,
  ];
  // The page has loaded the run list once before anyone attacks: the first listing parses every run's files.
  assert.equal((await timedGet("/api/runs", new Agent())).status, 200);
  const quiet: number[] = [];
  for (let i = 0; i < 20; i++) quiet.push((await timedGet("/api/runs", new Agent())).ms);
  const baseline = Math.max(...quiet);
  const deadline = performance.now() + SAFETY_MS;
  const planned = ATTACKERS * ROUNDS * attacks.length;
  let attacking = ATTACKERS;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  let sent = 0;
  const attackStatuses = new Map<number, number>();
  let attackBytes = 0;
  let slowestAttack = 0;
  const attacker = async (k: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = k; performance.now() < deadline && i < k + ROUNDS * attacks.length; i++) {
        sent++;
        const { status, ms, bytes } = await timedGet(attacks[i % attacks.length], agent);
        attackStatuses.set(status, (attackStatuses.get(status) ?? 0) + 1);
        attackBytes += bytes;
        slowestAttack = Math.max(slowestAttack, ms);
      }
    } finally {
      agent.destroy();
      attacking--;
    }
  };
  const probe = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies: number[] = [];
    try {
      while (attacking > 0) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const { status, ms } = await timedGet("/api/runs", agent);
        assert.equal(status, 200);
        latencies.push(ms);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      agent.destroy();
    }
    return latencies;
  };
  const [latencies] = await Promise.all([probe(), ...Array.from({ length: ATTACKERS }, (_, k) => attacker(k))]);
  delay.disable();
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
  const summary = `quiet /api/runs max ${baseline.toFixed(1)} ms; under attack ${latencies.length} polls: median ${latencies[latencies.length >> 1].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms; `
    + `${sent} of ${planned} attack requests (${[...attackStatuses].map(([s, n]) => `${n}×${s}`).join(", ")}), ${(attackBytes / 1e6).toFixed(1)} MB, slowest ${slowestAttack.toFixed(0)} ms; `
    + `RSS ${(startRss / 1e6).toFixed(0)} → peak ${(peakRss / 1e6).toFixed(0)} MB; event loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`;
  t.diagnostic(summary);
  assert.ok(latencies.length >= 20, summary);
  assert.equal(sent, planned, `the attack was stopped after ${SAFETY_MS} ms: ${summary}`);
  assert.ok([...attackStatuses.keys()].every((s) => s === 200 || s === 503), summary);
  assert.ok(p99 < baseline + P99_LIMIT_MS, summary);
  // Four 900-run requests once took the server to 2.5 GB; bounded answers keep it to a few hundred MB at most.
  assert.ok(peakRss - startRss < 512e6, summary);
});
