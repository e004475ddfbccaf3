// The static site (`npm run build:site`) from a plain static file server, no actlab server: the
// page loads its modules, kernels and compressed MNIST from the folder, trains from its URL and
// offers the checkpoint, which is an actlab checkpoint of the net the URL asked for.
import assert from "node:assert/strict";
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { test } from "node:test";
import { decodeSafetensors } from "../src/checkpoint/safetensors.js";
import { writeTrainSite } from "../src/serve/trainSite.js";
import { download, launchChromium, trainedDownloads, watchErrors } from "./support/trainPageBrowser.js";

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".gz": "application/gzip" };

/** A plain static file server: files under root by path, nothing else. */
async function staticServer(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/site/`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

test("the built site trains in chromium from a plain static file server", async () => {
  const work = mkdtempSync(join(tmpdir(), "actlab-site-"));
  const written = writeTrainSite(join(work, "site"));
  for (const needed of ["index.html", "build/kernels.wasm", "data/train-images-idx3-ubyte.gz", "vendor/vega.min.js", "dist/src/browser/trainWorker.js"]) {
    assert.ok(written.includes(needed), `the site lacks ${needed}`);
  }
  assert.ok(statSync(join(work, "site", "data", "train-images-idx3-ubyte.gz")).size < 20_000_000, "MNIST ships compressed");
  const server = await staticServer(work);
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    watchErrors(page, errors);
    await page.goto(`${server.url}index.html?activations=relu,sigmoid&layers=3&hidden=16&epochs=1&train-limit=600&seed=3&autostart=1`);
    const names = await trainedDownloads(page, 120_000);
    assert.deepEqual(names, ["relu.safetensors", "sigmoid.safetensors", "train-browser.zip"]);
    const checkpoint = decodeSafetensors(await download(page, "sigmoid.safetensors"), "site");
    assert.equal(checkpoint.metadata.activation, "sigmoid");
    assert.equal(checkpoint.metadata.hidden_sizes, "[16,16]");
    assert.equal(checkpoint.metadata.seed, "3");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});
