// The Train page in a real browser (Debian's chromium, playwright-core) against `actlab serve`: the
// URL is the experiment, training runs in Web Workers and finishes, and the checkpoint it offers
// holds the same tensors, byte for byte, as `actlab train` with the same settings (--workers 1);
// its run-folder zip is read by the run-format readers the dashboard, report and eval use.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { unzipSync } from "fflate";
import { decodeSafetensors } from "../src/checkpoint/safetensors.js";
import { loadModelCheckpoint } from "../src/checkpoint/modelCheckpoint.js";
import { loadMnist } from "../src/data/mnist.js";
import { mlpConfig } from "../src/model.js";
import { readJobs, readMetrics, readRunConfig, readSummary } from "../src/runFormat.js";
import { startServer } from "../src/serve/server.js";
import { runExperiments } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { download, launchChromium, trainedDownloads, watchErrors } from "./support/trainPageBrowser.js";

const QUERY = "activations=tanh&layers=3&hidden=32&epochs=1&train-limit=5000&seed=0";

test("the Train page trains tanh 3×32 on 5,000 images to the CLI's weights, byte for byte, and zips a readable run folder", async () => {
  const work = mkdtempSync(join(tmpdir(), "actlab-train-page-"));
  const logdir = join(work, "runs");
  mkdirSync(logdir);
  // What `actlab train --activations tanh --layers 3 --hidden 32 --epochs 1 --train-limit 5000 --seed 0 --workers 1` runs.
  await runExperiments([{
    name: "train", dir: join(logdir, "cli"), seeds: [0], trainLimit: 5000,
    settings: { ...DEFAULT_SETTINGS, epochs: 1 },
    models: [{ model: "tanh", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 3, activation: "tanh" }) }],
  }], { data: loadMnist({ shared: true }), workers: 1 });
  const cli = decodeSafetensors(readFileSync(join(logdir, "cli", "tanh.safetensors")), "cli");

  const server = await startServer({ logdir, port: 0 });
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    watchErrors(page, errors);
    await page.goto(`${server.url}train?${QUERY}&autostart=1`);
    const names = await trainedDownloads(page);
    assert.deepEqual(names, ["tanh.safetensors", "train-browser.zip"]);
    assert.deepEqual(errors, []);

    const bytes = await download(page, "tanh.safetensors");
    const browserCheckpoint = decodeSafetensors(bytes, "browser");
    assert.deepEqual([...browserCheckpoint.tensors.keys()], [...cli.tensors.keys()]);
    for (const [name, tensor] of cli.tensors) {
      const mine = browserCheckpoint.tensors.get(name)!;
      assert.deepEqual(mine.shape, tensor.shape, name);
      assert.ok(Buffer.from(mine.data.buffer, mine.data.byteOffset, mine.data.byteLength)
        .equals(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)), `${name} differs from the CLI's`);
    }
    assert.deepEqual(browserCheckpoint.metadata, cli.metadata, "the same metadata as the CLI's checkpoint");

    // The zip is a run folder the readers accept.
    const zip = unzipSync(await download(page, "train-browser.zip"));
    const runDir = join(logdir, "from-browser");
    for (const [path, content] of Object.entries(zip)) {
      const target = join(runDir, path.replace(/^train-browser\//, ""));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    const config = readRunConfig(join(runDir, "config.json"));
    assert.deepEqual(config.models.map((m) => m.model), ["tanh"]);
    assert.equal(config.trainLimit, 5000);
    const metrics = readMetrics(join(runDir, "metrics.jsonl"));
    const cliMetrics = readMetrics(join(logdir, "cli", "metrics.jsonl"));
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].test_acc, cliMetrics[0].test_acc, "the same test accuracy as the CLI");
    assert.equal(metrics[0].train_loss, cliMetrics[0].train_loss, "the same train loss as the CLI");
    assert.deepEqual(readJobs(join(runDir, "jobs.json")), { tanh: "finished" });
    assert.equal(readSummary(join(runDir, "summary.json")).status, "finished");
    assert.equal(loadModelCheckpoint(join(runDir, "tanh.safetensors")).config.activation, "tanh");
    // The dashboard lists it.
    const runs = await (await fetch(`${server.url}api/runs`)).json() as { runs: { name: string }[] };
    assert.ok(runs.runs.some((r) => r.name === "from-browser"), "the dashboard reads the zipped run folder");
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test("/train refuses a query the CLI would refuse, with the flag's own message", async () => {
  const work = mkdtempSync(join(tmpdir(), "actlab-train-query-"));
  const server = await startServer({ logdir: work, port: 0 });
  try {
    const bad = await fetch(`${server.url}train?layers=x`);
    assert.equal(bad.status, 400);
    assert.match((await bad.json() as { error: string }).error, /--layers must be a whole number/);
    const unknown = await fetch(`${server.url}train?bogus=1`);
    assert.equal(unknown.status, 400);
    assert.equal((await fetch(`${server.url}train?${QUERY}`)).status, 200);
    // Nothing but the page's own files: no path from the request reaches the file system.
    assert.equal((await fetch(`${server.url}dist/src/serve/server.js`)).status, 404);
    assert.equal((await fetch(`${server.url}dist/../package.json`)).status, 404);
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

type PageState = { status: string; renders: number; runs: { series: string; status: string; losses: unknown[] }[] };
const pageState = (page: import("playwright-core").Page) =>
  page.evaluate(() => {
    const s = (window as unknown as { actlabTrain: PageState }).actlabTrain;
    return { status: s.status, renders: s.renders, steps: s.runs.map((r) => r.losses.length), runStatus: s.runs.map((r) => r.status) };
  });

test("keyboard alone: Start, Pause, Step, Resume; paused training resumes to the uninterrupted weights; every control is labelled", async () => {
  const work = mkdtempSync(join(tmpdir(), "actlab-train-keys-"));
  const logdir = join(work, "runs");
  mkdirSync(logdir);
  const settings = { ...DEFAULT_SETTINGS, epochs: 1 };
  await runExperiments([{
    name: "train", dir: join(logdir, "cli"), seeds: [1], trainLimit: 60_000, settings,
    models: [{ model: "relu", config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 3, activation: "relu" }) }],
  }], { data: loadMnist({ shared: true }), workers: 1 });
  const cli = readFileSync(join(logdir, "cli", "relu.safetensors"));
  const server = await startServer({ logdir, port: 0 });
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    watchErrors(page, errors);
    await page.goto(`${server.url}train?activations=relu&layers=3&hidden=32&epochs=1&train-limit=60000&seed=1`);
    await page.waitForFunction(() => document.body.dataset.status === "idle");
    // Every control has a name a screen reader reads.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll("input, select, button")]
      .filter((el) => !(el.getAttribute("aria-label") || (el as HTMLInputElement).labels?.length || el.textContent?.trim()))
      .map((el) => el.outerHTML));
    assert.deepEqual(unnamed, []);
    // Tab to Start and press Enter.
    for (let i = 0; i < 40; i++) {
      if (await page.evaluate(() => document.activeElement?.id) === "start") break;
      await page.keyboard.press("Tab");
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), "start", "Start is reachable with Tab");
    await page.keyboard.press("Enter");
    // Pause at once, while MNIST loads: the workers then start paused, before their first batch.
    await page.focus("#pause");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.body.dataset.status === "paused");
    // Once MNIST is in, the workers are launched paused.
    await page.waitForFunction(() => (window as unknown as { actlabTrain: PageState }).actlabTrain.runs.every((r) => r.status === "paused"), undefined, { timeout: 60_000 });
    await page.waitForTimeout(600);
    const paused = await pageState(page);
    await page.waitForTimeout(600);
    assert.deepEqual((await pageState(page)).steps, paused.steps, "no steps while paused");
    await page.focus("#step");
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Enter");
      await page.waitForTimeout(300);
    }
    const stepped = await pageState(page);
    assert.deepEqual(paused.steps, [0], "paused before the first batch");
    assert.equal(stepped.steps[0], 3, "each Step trains exactly one batch");
    assert.equal(stepped.status, "paused");
    await page.focus("#start");
    assert.equal(await page.textContent("#start"), "Resume");
    await page.keyboard.press("Enter");
    assert.deepEqual(await trainedDownloads(page), ["relu.safetensors", "train-browser.zip"]);
    const bytes = await download(page, "relu.safetensors");
    const mine = decodeSafetensors(bytes, "browser");
    const theirs = decodeSafetensors(new Uint8Array(cli), "cli");
    for (const [name, tensor] of theirs.tensors) {
      const t = mine.tensors.get(name)!;
      assert.ok(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)),
        `${name}: paused, stepped and resumed, the page's weights differ from an uninterrupted CLI run`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test("20 start/reset cycles leave no workers and no growing heap behind", async () => {
  const work = mkdtempSync(join(tmpdir(), "actlab-train-cycles-"));
  const server = await startServer({ logdir: work, port: 0 });
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    watchErrors(page, errors);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("HeapProfiler.enable");
    const heap = async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      const { usedSize } = await cdp.send("Runtime.getHeapUsage");
      return usedSize;
    };
    await page.goto(`${server.url}train?activations=tanh,relu&layers=3&hidden=32&epochs=200&train-limit=5000&seed=0`);
    const cycle = async () => {
      await page.click("#start");
      await page.waitForFunction(() => (window as unknown as { actlabTrain: PageState }).actlabTrain.runs.every((r) => r.losses.length > 0), undefined, { timeout: 60_000 });
      await page.click("#reset");
      await page.waitForFunction(() => document.body.dataset.status === "idle");
    };
    await cycle();
    const after1 = await heap();
    for (let i = 1; i < 20; i++) await cycle();
    const after20 = await heap();
    // Playwright sees each dedicated worker start and close.
    for (let wait = 0; wait < 20 && page.workers().length > 0; wait++) await page.waitForTimeout(100);
    assert.deepEqual(page.workers().map((w) => w.url()), [], "reset terminates the workers");
    assert.ok(after20 - after1 < 8 * 2 ** 20, `the page's heap grew by ${((after20 - after1) / 2 ** 20).toFixed(1)} MiB over 19 cycles`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});
