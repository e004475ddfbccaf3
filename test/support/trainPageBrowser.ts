// Shared by the Train page's browser tests: Debian's chromium launched as the dashboard test does,
// and a page whose console errors, page errors and failed requests are collected.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: the Train page's browser tests need Debian's chromium (apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-precise-memory-info"],
  });
}

export function watchErrors(page: Page, errors: string[]): void {
  page.on("console", (m) => { if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
}

/** Waits for the Train page to finish training (status "done") and returns its download names. */
export async function trainedDownloads(page: Page, timeout = 240_000): Promise<string[]> {
  await page.waitForFunction(() => document.body.dataset.status === "done", undefined, { timeout, polling: 500 });
  return page.evaluate(() => (window as unknown as { actlabTrain: { downloads: string[] } }).actlabTrain.downloads);
}

/** Clicks the download link named `name` and returns the downloaded bytes. */
export async function download(page: Page, name: string): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(`a[download="${name}"]`)]);
  const path = await file.path();
  const { readFileSync } = await import("node:fs");
  return new Uint8Array(readFileSync(path));
}
