// Takes docs/train.png: the Train page in Chromium part-way through training the notebook's shallow
// nets (sigmoid, tanh, relu), paused mid-epoch so the picture shows training in progress.
// Usage: npm run build && node scripts/screenshot-train.mjs [out.png]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "../dist/src/serve/server.js";

const out = resolve(process.argv[2] ?? "docs/train.png");
const logdir = mkdtempSync(join(tmpdir(), "actlab-screenshot-"));
const server = await startServer({ logdir, port: 0 });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  await page.goto(`${server.url}train?activations=sigmoid,tanh,relu&layers=5&hidden=64&epochs=3&train-limit=20000&seed=0&autostart=1`);
  // Wait for the first epoch of every model (so every chart has something), then pause mid-run.
  await page.waitForFunction(() => window.actlabTrain.runs.length > 0 && window.actlabTrain.runs.every((r) => r.records.length >= 1), undefined, { timeout: 300_000 });
  await page.click("#pause");
  const renders = await page.evaluate(() => window.actlabTrain.renders);
  await page.waitForFunction((n) => window.actlabTrain.renders > n, renders, { timeout: 30_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(logdir, { recursive: true, force: true });
}
