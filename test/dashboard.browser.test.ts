// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against
// startServer on two small runs: the page loads without console errors, every chart shows one
// series per model, runs can be compared and switched, the URL holds the view and restores it,
// a new epoch appears while the page is open, and a malformed metrics line is a warning, not a failure.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium, type Page } from "playwright-core";
import { loadMnist } from "../src/data/mnist.js";
import { startServer } from "../src/serve/server.js";
import { runExperiments } from "../src/train/experiment.js";
import { smallRunSpec } from "./support/smallRun.js";

const CHROMIUM = "/usr/bin/chromium";
const repoRoot = new URL("../../", import.meta.url).pathname;

interface ChartSeen {
  /** Distinct labels (activation names for the explorer) in the view's "rows" data. */
  labels: string[];
  rows: number;
  legend: string[];
  title: string[];
}

/** What each rendered Vega view holds and shows, by chart id. */
function charts(page: Page): Promise<Record<string, ChartSeen>> {
  return page.evaluate(() => {
    const out: Record<string, ChartSeen> = {};
    const views = (window as unknown as { actlab: { views: Record<string, { data(name: string): Record<string, unknown>[] }> } }).actlab.views;
    for (const [id, view] of Object.entries(views)) {
      const rows = view.data("rows");
      const key = id === "activations" ? "name" : "label";
      const holder = document.querySelector(`[data-chart="${CSS.escape(id)}"]`)!;
      const texts = (selector: string) => [...holder.querySelectorAll(selector)].map((t) => t.textContent ?? "");
      out[id] = {
        labels: [...new Set(rows.map((r) => String(r[key])))].sort(),
        rows: rows.length,
        legend: texts(".role-legend-label text").sort(),
        title: texts(".role-title-text text, .role-title-text"),
      };
    }
    return out;
  });
}

async function renders(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { actlab?: { renders: number } }).actlab?.renders ?? 0);
}

/** Waits for a render after the `before`-th to finish. */
async function rendered(page: Page, before: number): Promise<void> {
  await page.waitForFunction(
    (n) => ((window as unknown as { actlab?: { renders: number } }).actlab?.renders ?? 0) > n && document.body.dataset.status === "ready",
    before, { timeout: 20_000 },
  );
}

function assertSeries(seen: Record<string, ChartSeen>, labels: string[], activations: string[]): void {
  const sorted = [...labels].sort();
  for (const id of ["accuracy", "loss", "depth", "units", "overlay"]) {
    assert.ok(seen[id], `chart ${id} was not drawn`);
    assert.deepEqual(seen[id].labels, sorted, `chart ${id}: series in its data`);
    assert.deepEqual(seen[id].legend, sorted, `chart ${id}: legend entries`);
  }
  for (const label of labels) {
    const heat = seen[`heatmap:${label}`];
    assert.ok(heat && heat.rows > 0, `no histogram heat map for ${label}`);
    assert.deepEqual(heat.labels, [label]);
    assert.ok(heat.title.includes(label), `heat map title ${heat.title}`);
  }
  assert.deepEqual(seen.activations.labels, [...activations].sort());
  assert.deepEqual(seen.activations.legend, [...activations].sort());
}

test("the dashboard in chromium: charts, run switching, URL state, live refresh, warnings", async () => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's chromium; install it with \`apt-get install -y chromium\` (.ci/run does this)`);
  }
  const work = mkdtempSync(join(tmpdir(), "actlab-dashboard-"));
  const logdir = join(work, "runs");
  mkdirSync(logdir);
  await runExperiments([smallRunSpec(logdir, "alpha", [0, 1], ["tanh", "relu"]), smallRunSpec(logdir, "beta", [0], ["sigmoid", "leaky_relu"])], { data: loadMnist(), workers: 0 });
  // A malformed line in beta's log: the page must still draw beta, with a warning.
  const betaMetrics = join(logdir, "beta", "metrics.jsonl");
  const betaLines = readFileSync(betaMetrics, "utf8").split("\n");
  betaLines.splice(1, 0, "{\"model\": \"sigmoid\", broken");
  writeFileSync(betaMetrics, betaLines.join("\n"));

  const server = await startServer({ logdir, port: 0, refreshMs: 400 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on("console", (m) => { if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`); });
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watch(page);
    await page.goto(server.url);
    await rendered(page, 0);
    // The first run is chosen and the URL says so.
    assert.deepEqual(new URL(page.url()).searchParams.getAll("run"), ["alpha"]);
    const alpha = await charts(page);
    assertSeries(alpha, ["tanh", "relu"], ["tanh", "relu"]);
    assert.equal(alpha.accuracy.rows, 2 * 2 * 2, "one accuracy row per model, seed and epoch");
    assert.equal(await page.locator("#warnings").isHidden(), true);
    mkdirSync(join(repoRoot, "test-output"), { recursive: true });
    const shot = join(repoRoot, "test-output", "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    // Compare both runs, then switch to beta alone.
    let n = await renders(page);
    await page.check('input[name="run"][value="beta"]');
    await rendered(page, n);
    assert.deepEqual(new URL(page.url()).searchParams.getAll("run"), ["alpha", "beta"]);
    assertSeries(await charts(page), ["alpha/tanh", "alpha/relu", "beta/sigmoid", "beta/leaky_relu"], ["tanh", "relu", "sigmoid", "leaky_relu"]);
    n = await renders(page);
    await page.uncheck('input[name="run"][value="alpha"]');
    await rendered(page, n);
    assert.deepEqual(new URL(page.url()).searchParams.getAll("run"), ["beta"]);
    assertSeries(await charts(page), ["sigmoid", "leaky_relu"], ["sigmoid", "leaky_relu"]);
    assert.match(await page.locator("#warnings").innerText(), /beta\/metrics.jsonl: line 2 is not valid JSON; skipped/);

    // Per-layer choices go into the URL too.
    for (const [selector, value] of [["#layer", "2"], ["#hist", "weight"], ["#epoch", "1"]]) {
      n = await renders(page);
      await page.selectOption(selector, value);
      await rendered(page, n);
    }
    const shared = new URL(page.url());
    assert.equal(shared.searchParams.get("layer"), "2");
    assert.equal(shared.searchParams.get("hist"), "weight");
    assert.equal(shared.searchParams.get("epoch"), "1");

    // The URL alone restores the view in a fresh page.
    const restored = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watch(restored);
    await restored.goto(shared.href);
    await rendered(restored, 0);
    assert.equal(restored.url(), shared.href);
    assert.equal(await restored.inputValue("#layer"), "2");
    assert.equal(await restored.inputValue("#hist"), "weight");
    assert.equal(await restored.inputValue("#epoch"), "1");
    assert.equal(await restored.isChecked('input[name="run"][value="beta"]'), true);
    assert.equal(await restored.isChecked('input[name="run"][value="alpha"]'), false);
    assert.match(await restored.locator("#heat-caption").innerText(), /^weights, layer 2, seed 0$/);
    const again = await charts(restored);
    assertSeries(again, ["sigmoid", "leaky_relu"], ["sigmoid", "leaky_relu"]);
    assert.match(await restored.locator('[data-chart="overlay"] .caption').innerText(), /layer 2 · epoch 1 ·/);

    // The back button returns to the previous view.
    n = await renders(page);
    await page.goBack();
    await rendered(page, n);
    assert.equal(new URL(page.url()).searchParams.get("epoch"), null);
    assert.equal(await page.inputValue("#epoch"), "");

    // A new epoch written while the page is open appears without a reload.
    const last = JSON.parse(betaLines.filter((l) => l.startsWith("{\"model\":\"sigmoid\"")).pop()!);
    appendFileSync(betaMetrics, JSON.stringify({ ...last, epoch: 3, test_acc: 0.5 }) + "\n");
    await restored.waitForFunction(() => {
      const views = (window as unknown as { actlab: { views: Record<string, { data(name: string): { epoch: number }[] }> } }).actlab.views;
      return views.accuracy?.data("rows").some((r) => r.epoch === 3) ?? false;
    }, null, { timeout: 15_000 });

    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});
