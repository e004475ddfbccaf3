// The Train page as a static site: the same files `actlab serve` answers with (trainPageFiles.ts),
// written to a folder, the page as index.html. Any static file server serves it; nothing in it
// needs an actlab server (the page reads the query itself and fetches MNIST from data/).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { trainPageFiles } from "./trainPageFiles.js";

/** Writes the site into `dir` (created if missing); returns the paths written, relative to it. */
export function writeTrainSite(dir: string, options: { dataDir?: string } = {}): string[] {
  const files = trainPageFiles({ page: "index.html", dataDir: options.dataDir });
  for (const [path, file] of files) {
    const target = join(dir, ...path.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.body());
  }
  return [...files.keys()];
}
