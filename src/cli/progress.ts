// What a person sees while training: live bars on a terminal (cli-progress), one plain line per
// model and epoch anywhere else (CI logs, pipes).
import cliProgress from "cli-progress";
import type { ExperimentSpec } from "../train/experiment.js";
import { seriesName } from "../train/runDirectory.js";
import type { TrainEvent } from "../train/trainer.js";

export class ProgressDisplay {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly multi?: cliProgress.MultiBar;
  private readonly stepsPerEpoch = new Map<string, number>();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, live = Boolean(stream.isTTY) && !process.env.CI) {
    if (live) {
      this.multi = new cliProgress.MultiBar({
        stream,
        format: "{label} |{bar}| epoch {epoch} step {step} loss {loss} {speed}/s ETA {eta_formatted}",
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
        etaBuffer: 50,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
    }
  }

  handle(spec: ExperimentSpec, event: TrainEvent): void {
    const { model, seed } = event.type === "epoch" ? event.record : event;
    const series = seriesName(model, seed, spec.seeds.length > 1);
    const key = `${spec.name}/${series}`;
    if (event.type === "start") this.stepsPerEpoch.set(key, event.stepsPerEpoch);
    if (this.multi) this.live(key, event);
    else this.plain(key, event);
  }

  private live(key: string, event: TrainEvent): void {
    const multi = this.multi!;
    if (event.type === "start") {
      const total = event.epochs * event.stepsPerEpoch;
      this.bars.set(key, multi.create(total, event.startEpoch * event.stepsPerEpoch, {
        label: key.padEnd(28), epoch: `${event.startEpoch + 1}/${event.epochs}`, step: "-", loss: "-", speed: "-",
      }));
      return;
    }
    const bar = this.bars.get(key);
    if (!bar) return;
    if (event.type === "step") {
      bar.update((event.epoch - 1) * event.stepsPerEpoch + event.step, {
        epoch: `${event.epoch}/${Math.round(bar.getTotal() / event.stepsPerEpoch)}`,
        step: `${event.step}/${event.stepsPerEpoch}`,
        loss: event.loss.toFixed(4),
        speed: Math.round(event.samplesPerSecond).toLocaleString("en-US"),
      });
    } else if (event.type === "epoch" && event.record.diverged) {
      multi.log(`${key}: diverged at epoch ${event.record.diverged.epoch} step ${event.record.diverged.step} (loss is not finite)\n`);
    } else if (event.type === "end") {
      if (event.status === "finished") bar.update(bar.getTotal());
      bar.stop();
    }
  }

  private plain(key: string, event: TrainEvent): void {
    if (event.type !== "epoch") return;
    const r = event.record;
    const line = r.diverged
      ? `${key} epoch ${r.epoch}: diverged at step ${r.diverged.step} (loss is not finite)`
      : `${key} epoch ${r.epoch}: train loss ${r.train_loss.toFixed(4)}, test acc ${(100 * r.test_acc).toFixed(2)}%, ` +
        `${Math.round(r.samples_per_s).toLocaleString("en-US")} samples/s, ${r.seconds.toFixed(1)} s`;
    this.stream.write(line + "\n");
  }

  stop(): void {
    this.multi?.stop();
  }
}
