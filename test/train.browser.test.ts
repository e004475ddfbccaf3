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
