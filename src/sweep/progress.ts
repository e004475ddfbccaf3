// What a person sees while a sweep runs: jobs (trial × seed) done out of all, trials running, queued,
// failed, the samples per second of each job in training (one per worker), jobs per minute and an
// ETA. A live bar on a terminal (cli-progress), one plain line per ended job anywhere else.
import cliProgress from "cli-progress";
import type { TrainEvent } from "../train/trainer.js";
import type { Trial } from "./grid.js";
import type { SweepProgress } from "./sweep.js";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export class SweepProgressDisplay {
  private readonly bar?: cliProgress.SingleBar;
  private readonly throughput = new Map<string, number>();
  private readonly started = Date.now();
  private doneAtStart?: number;
  private last?: SweepProgress;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, live = Boolean(stream.isTTY) && !process.env.CI) {
    if (live) {
      this.bar = new cliProgress.SingleBar({
        stream, hideCursor: true, clearOnComplete: false, barsize: 24, fps: 4,
        // One line (cli-progress redraws a single line): the per-worker figures come last, cut to fit.
        format: "jobs |{bar}| {value}/{total} · trials {finished} done, {running} running, {queued} queued, {failed} failed · {rate} · ETA {etaText} · {workers}",
      }, cliProgress.Presets.shades_classic);
    }
  }

  /** Counts of trials by state, jobs per minute and the ETA, from the latest progress. */
  summary(): { finished: number; running: number; queued: number; failed: number; perMinute: number; etaSeconds: number } {
    const states = [...(this.last?.states.values() ?? [])];
    const count = (...which: string[]) => states.filter((s) => which.includes(s)).length;
    const done = (this.last?.jobsDone ?? 0) - (this.doneAtStart ?? 0);
    const minutes = (Date.now() - this.started) / 60_000;
    const perMinute = done > 0 ? done / minutes : NaN;
    const remaining = (this.last?.jobsTotal ?? 0) - (this.last?.jobsDone ?? 0);
    return {
      finished: count("finished", "diverged"), running: count("running"), queued: count("queued"), failed: count("failed"),
      perMinute, etaSeconds: done > 0 ? (remaining / perMinute) * 60 : NaN,
    };
  }

  private payload() {
    const s = this.summary();
    const workers = [...this.throughput.values()].map((v) => `${Math.round(v).toLocaleString("en-US")}`);
    return {
      ...s, rate: Number.isFinite(s.perMinute) ? `${s.perMinute.toFixed(2)} jobs/min` : "- jobs/min", etaText: formatDuration(s.etaSeconds),
      workers: workers.length > 0 ? `samples/s per running job: ${workers.slice(0, 8).join(" ")}${workers.length > 8 ? ` +${workers.length - 8}` : ""}` : "no job running",
    };
  }

  progress(progress: SweepProgress): void {
    this.doneAtStart ??= progress.jobsDone;
    const first = this.last === undefined;
    this.last = progress;
    if (this.bar) {
      if (first) this.bar.start(progress.jobsTotal, progress.jobsDone, this.payload());
      else this.bar.update(progress.jobsDone, this.payload());
    }
  }

  event(trial: Trial, event: TrainEvent): void {
    const seed = event.type === "epoch" ? event.record.seed : event.seed;
    const key = `${trial.id}/seed${seed}`;
    if (event.type === "step") this.throughput.set(key, event.samplesPerSecond);
    else if (event.type === "epoch") this.throughput.set(key, event.record.samples_per_s);
    else if (event.type === "end") {
      this.throughput.delete(key);
      if (!this.bar && event.status !== "interrupted") {
        const last = event.history[event.history.length - 1];
        const s = this.payload();
        const total = this.last ? `${this.last.jobsDone}/${this.last.jobsTotal}` : "";
        const acc = last ? `test acc ${(100 * last.test_acc).toFixed(2)}%` : "no epoch";
        this.stream.write(`${key} ${event.status} (${acc}); jobs ${total}; trials ${s.finished} done, ${s.running} running, ${s.queued} queued, ${s.failed} failed; ${s.rate}; ETA ${s.etaText}\n`);
      }
    }
    if (this.bar && this.last) this.bar.update(this.last.jobsDone, this.payload());
  }

  stop(): void {
    this.bar?.stop();
  }
}
