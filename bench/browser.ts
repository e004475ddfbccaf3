// `npm run bench -- --browser`: training speed of the notebook's nets in Chromium (the Train page's
// worker, through playwright-core) against Node on the same machine. Both run the same trainJob on
// the same kernels, one model at a time on one thread, on the same slice of MNIST; the figure is the
// slice's images over the epoch record's training seconds (steps only, evaluation left out; in the
// page, the worker's ~50 ms slices of one live job, the moments suspended between them left out),
// of the second epoch, best of `rounds`. Only the second: both V8s start a fresh module on its
// baseline compiler (Liftoff) and move hot functions to the optimising one while it runs, and a
// page's worker compiles the module anew for every run, so a first epoch of a fraction of a second
// measures the tiering as much as the training (it moved the per-net ratios by ±20% between runs).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { ActivationName } from "../src/activations.js";
import { loadMnist } from "../src/data/mnist.js";
import { startServer } from "../src/serve/server.js";
import { trainJob } from "../src/train/trainer.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { NETS, netConfig, NOTEBOOK_ACTIVATIONS, type NetName } from "./measure.js";

export interface BrowserFigure {
  net: NetName;
  activation: ActivationName;
  nodeSamplesPerSecond: number;
  chromiumSamplesPerSecond: number;
  /** Chromium's samples/s as a fraction of Node's. */
  ratio: number;
}

/** A whole epoch of MNIST: a third of a second of training, long enough to time. */
const TRAIN_LIMIT = 60_000;
/** Epochs per run; the last one is timed. */
const EPOCHS = 2;

function nodeSpeed(data: ReturnType<typeof loadMnist>, net: NetName, activation: ActivationName): number {
  let speed = NaN;
  trainJob({ model: activation, seed: 0, config: netConfig(net, activation), settings: { ...DEFAULT_SETTINGS, epochs: EPOCHS }, trainLimit: TRAIN_LIMIT }, data,
    (event) => { if (event.type === "epoch" && event.record.epoch === EPOCHS) speed = TRAIN_LIMIT / event.record.seconds; });
  return speed;
}

export async function measureBrowser(rounds: number, executablePath = "/usr/bin/chromium"): Promise<BrowserFigure[]> {
  const data = loadMnist();
  const logdir = mkdtempSync(join(tmpdir(), "actlab-bench-browser-"));
  const server = await startServer({ logdir, port: 0 });
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const figures: BrowserFigure[] = [];
  try {
    const page = await browser.newPage();
    for (const net of Object.keys(NETS) as NetName[]) {
      for (const activation of NOTEBOOK_ACTIVATIONS) {
        let node = 0;
        let chrome = 0;
        for (let round = 0; round < rounds; round++) {
          node = Math.max(node, nodeSpeed(data, net, activation));
          const { hiddenSize, numHiddenLayers } = NETS[net];
          await page.goto(`${server.url}train?activations=${activation}&layers=${numHiddenLayers}&hidden=${hiddenSize}&epochs=${EPOCHS}&train-limit=${TRAIN_LIMIT}&seed=0&autostart=1`);
          await page.waitForFunction(() => document.body.dataset.status === "done", undefined, { timeout: 300_000, polling: 200 });
          const seconds = await page.evaluate((epochs) =>
            (window as unknown as { actlabTrain: { runs: { records: { seconds: number }[] }[] } }).actlabTrain.runs[0].records[epochs - 1].seconds, EPOCHS);
          chrome = Math.max(chrome, TRAIN_LIMIT / seconds);
        }
        figures.push({ net, activation, nodeSamplesPerSecond: node, chromiumSamplesPerSecond: chrome, ratio: chrome / node });
        process.stderr.write(".");
      }
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(logdir, { recursive: true, force: true });
  }
  process.stderr.write("\n");
  return figures;
}
