// The dashboard's sweep view in a real browser (Debian's chromium, as the dashboard's own browser
// test): a sweep folder served shows its trials' states, the report's sentences and its four charts,
// and follows the sweep as rows are added.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { chromium } from "playwright-core";
import { loadMnist } from "../src/data/mnist.js";
import { startServer } from "../src/serve/server.js";
import { buildGrid, rawFromFlag } from "../src/sweep/grid.js";
import { runSweep } from "../src/sweep/sweep.js";
import { SHAPE, SWEEP_RUN, TRAINING } from "../src/cli/flagTable.js";
import { temporaryDir } from "./support/scratch.js";

const CHROMIUM = "/usr/bin/chromium";
const scratch = temporaryDir("sweep-browser");
after(() => scratch.remove());

test("the sweep view: states, sentences and four charts, redrawn when trials.jsonl grows", async () => {
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does this)`);
  const dir = join(scratch.path, "sweep");
  const grid = buildGrid([{
    activations: rawFromFlag(SWEEP_RUN.activations, "relu,tanh"), layers: rawFromFlag(SHAPE.layers, "2,3"),
    epochs: rawFromFlag(TRAINING.epochs, "1"), "train-limit": rawFromFlag(TRAINING.trainLimit, "300"),
  }]);
  await runSweep({ name: "tiny", dir, grid }, { data: loadMnist(), workers: 0 });
  // Hold one row back, to add it while the page is open.
  const lines = readFileSync(join(dir, "trials.jsonl"), "utf8").split("\n").filter(Boolean);
  writeFileSync(join(dir, "trials.jsonl"), lines.slice(0, 3).map((l) => `${l}\n`).join(""));
  const server = await startServer({ logdir: dir, port: 0, refreshMs: 300 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector('[data-chart="sweep:sweep_gradratio"] svg');
    assert.equal(await page.locator('[data-chart^="sweep:"] svg').count(), 4);
    assert.match(await page.locator("#sweeps").innerText(), /4 trials: 4 finished; 3 of 4 jobs \(trial × seed\) ended/);
    appendFileSync(join(dir, "trials.jsonl"), `${lines[3]}\n`);
    await page.waitForFunction(() => /4 of 4 jobs/.test(document.getElementById("sweeps")!.innerText));
    assert.match(await page.locator("#sweeps").innerText(), /At 3 layers the best is (relu|tanh)/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
