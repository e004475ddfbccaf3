// `actlab serve`: the dashboard's HTTP server. Node's http module and nothing else; no database:
// every answer is read from the run folders' own files (cached by size and time). It serves the
// page, its compiled modules, Vega's browser builds, a JSON API, and the log directory's files,
// and nothing else: every path is checked segment by segment and resolved inside its root.
// Any web page can make a browser send it a GET, so bound to loopback it answers only requests whose
// Host header names loopback (hostHeader.ts), and every answer's work and size are capped
// (requestLimits.ts): heavy answers run one at a time, in slices that let other requests through.
import { createReadStream, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ACTIVATIONS, ACTIVATION_NAMES, isActivationName } from "../activations.js";
import { activationCurve, grid } from "../engine/curves.js";
import { InputError } from "../errors.js";
import type {
  ConfigResponse,
  ActivationCatalogueEntry, CurvesResponse, HistogramKind, HistogramScale, HistogramSeries, HistogramsResponse,
  JsonFileResponse, MetricsResponse, RunListing, RunsResponse,
} from "./apiTypes.js";
import { bucketIntervals, rebin, sharedEdges, type Interval } from "./histogramBins.js";
import { HistogramStore } from "./histogramStore.js";
import { isLoopbackName, loopbackHostHeader } from "./hostHeader.js";
import { distinctValues, HeavyGate, LIMITS, overCap, yieldToEventLoop } from "./requestLimits.js";
import { PAGE_CSS, pageHtml } from "./pageHtml.js";
import { decodeSegments, HttpError, resolveFileInside } from "./safePath.js";
import { RunStore } from "./runStore.js";
import { SweepStore } from "./sweepStore.js";
import type { SiteFile } from "./trainPageFiles.js";
import { check, runConfigSchema, type RunConfigJson } from "../runFormat.js";
import { settingsTable } from "../settingsTable.js";

export interface ServeOptions {
  /** The folder whose run sub-folders (any folder holding a metrics.jsonl) are shown. */
  logdir: string;
  /** 0 picks a free port. Default 6006, TensorBoard's. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect. */
  host?: string;
  /** How often the page polls for new epochs (ms). Default 3000. */
  refreshMs?: number;
}

export interface DashboardServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

import { DEFAULT_HOST, DEFAULT_PORT } from "./serverDefaults.js";

export { DEFAULT_HOST, DEFAULT_PORT };

/** The compiled page modules sit beside this file once built: dist/src/serve/page/. */
const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));

// Names from a request are looked up in Maps, never in plain objects, where "__proto__" or
// "constructor" would find Object.prototype's properties.
function vendorFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  return new Map([
    ["vega.min.js", join(dirname(require.resolve("vega")), "vega.min.js")],
    ["vega-lite.min.js", join(dirname(require.resolve("vega-lite")), "vega-lite.min.js")],
  ]);
}

/** Whether the address the server binds is loopback (then Host headers are checked); "[::1]" as well as "::1". */
function bindsLoopback(host: string): boolean {
  return isLoopbackName(host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);
}

/** Where the Train page's files live (trainPageFiles.ts); other paths never load its file map. */
const TRAIN_PREFIXES = ["/dist/", "/build/", "/data/", "/vendor/pure-rand/", "/vendor/fflate/"];

const CONTENT_TYPES = new Map([
  [".js", "text/javascript; charset=utf-8"],
  [".map", "application/json; charset=utf-8"],
]);

/** Files from the log directory are offered as text or bytes, never as something a browser would run. */
function logFileContentType(path: string): string {
  const ext = extname(path);
  return [".json", ".jsonl", ".txt", ".md", ".csv"].includes(ext) ? "text/plain; charset=utf-8" : "application/octet-stream";
}

const API_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, "content-length": Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

function sendText(res: ServerResponse, status: number, type: string, text: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text), ...extra });
  res.end(head ? undefined : text);
}

function sendFile(res: ServerResponse, path: string, type: string, head: boolean): void {
  const size = statSync(path).size;
  res.writeHead(200, { "content-type": type, "content-length": size, "cache-control": "no-cache" });
  if (head) {
    res.end();
    return;
  }
  createReadStream(path).on("error", () => res.destroy()).pipe(res);
}

function sendBytes(res: ServerResponse, type: string, body: Uint8Array, head: boolean): void {
  res.writeHead(200, { "content-type": type, "content-length": body.byteLength, "cache-control": "no-cache" });
  res.end(head ? undefined : body);
}

// ---- query parameters ----

function required(params: URLSearchParams, key: string): string {
  const value = params.get(key);
  if (value === null || value === "") throw new HttpError(400, `missing query parameter "${key}"`);
  return value;
}

function numberParam(params: URLSearchParams, key: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = params.get(key);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new HttpError(400, `query parameter "${key}" must be ${what}; got ${JSON.stringify(raw)}`);
  return n;
}


class Dashboard {
  private readonly store: RunStore;
  private readonly sweeps: SweepStore;
  private readonly histograms = new HistogramStore();
  private readonly heavy = new HeavyGate(LIMITS.heavyConcurrent, LIMITS.heavyQueue);
  private readonly vendor = vendorFiles();
  /** The Train page's files by exact path (made on first use: it reads the compiled modules). */
  private trainFiles: Map<string, SiteFile> | undefined;

  constructor(readonly root: string, private readonly refreshMs: number, private readonly checkHost: boolean) {
    this.store = new RunStore(root);
    this.sweeps = new SweepStore(root);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === "HEAD";
    try {
      if (req.method !== "GET" && !head) throw new HttpError(405, `method ${req.method} is not allowed; this server only reads`);
      // A page from elsewhere cannot reach us through a DNS name rebound to 127.0.0.1: its Host header gives it away.
      if (this.checkHost && !loopbackHostHeader(req.rawHeaders)) {
        throw new HttpError(403, `requests for host ${JSON.stringify(req.headers.host ?? "")} are refused; use http://127.0.0.1`);
      }
      const url = req.url ?? "/";
      if (!url.startsWith("/")) throw new HttpError(400, "the request target must be a path");
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
      await this.route(path, params, res, head);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError || error instanceof InputError ? error.message : `internal error: ${(error as Error).message}`;
      const details = error instanceof HttpError ? error.details : {};
      if (res.headersSent) res.destroy();
      else sendJson(res, status, { error: message, ...details }, head);
    }
  }

  private async route(path: string, params: URLSearchParams, res: ServerResponse, head: boolean): Promise<void> {
    if (path === "/" || path === "/index.html") {
      sendText(res, 200, "text/html; charset=utf-8", pageHtml(this.refreshMs), head, { "cache-control": "no-cache" });
    } else if (path === "/train") {
      const train = await this.trainPage();
      train.checkQuery(params);
      const page = train.files.get("train")!;
      sendBytes(res, page.type, page.body(), head);
    } else if (TRAIN_PREFIXES.some((prefix) => path.startsWith(prefix)) && (await this.trainPage()).files.has(path.slice(1))) {
      // Looked up whole in a Map built from the page's module closure, the kernels, the vendored
      // packages and MNIST: nothing from the request reaches the file system.
      const file = (await this.trainPage()).files.get(path.slice(1))!;
      sendBytes(res, file.type, file.body(), head);
    } else if (path === "/style.css") {
      sendText(res, 200, "text/css; charset=utf-8", PAGE_CSS, head);
    } else if (path.startsWith("/app/")) {
      const segments = decodeSegments(path.slice("/app/".length));
      if (segments.length !== 1 || !/^[\w.-]+\.js(\.map)?$/.test(segments[0])) throw new HttpError(404, "no such page module");
      const file = resolveFileInside(realpathSync(PAGE_DIR), segments);
      sendFile(res, file, CONTENT_TYPES.get(extname(file))!, head);
    } else if (path.startsWith("/vendor/")) {
      const file = this.vendor.get(path.slice("/vendor/".length));
      if (file === undefined) throw new HttpError(404, "no such vendor file");
      sendFile(res, file, CONTENT_TYPES.get(".js")!, head);
    } else if (path.startsWith("/files/")) {
      const file = resolveFileInside(this.root, decodeSegments(path.slice("/files/".length)));
      sendFile(res, file, logFileContentType(file), head);
    } else if (path.startsWith("/api/")) {
      sendJson(res, 200, await this.api(path.slice("/api/".length), params), head);
    } else {
      throw new HttpError(404, "not found");
    }
  }

  /**
   * The Train page's files and query check, loaded on first use: they read the compiled modules, and
   * the flag table they use imports this file (a static import would be a cycle).
   */
  private async trainPage(): Promise<{ files: Map<string, SiteFile>; checkQuery: (params: URLSearchParams) => void }> {
    if (!this.trainFiles) {
      const { trainPageFiles } = await import("./trainPageFiles.js");
      this.trainFiles = trainPageFiles({ page: "train" });
    }
    const { checkTrainQuery } = await import("./trainPageKnobs.js");
    return { files: this.trainFiles, checkQuery: checkTrainQuery };
  }

  async api(endpoint: string, params: URLSearchParams): Promise<unknown> {
    switch (endpoint) {
      case "runs":
        return this.runs();
      case "metrics": {
        const run = required(params, "run");
        const metrics = this.store.metrics(this.store.runDir(run), run);
        return { run, records: metrics.value, warnings: metrics.warnings } satisfies MetricsResponse;
      }
      case "config": {
        const run = required(params, "run");
        const file = this.store.jsonFile(this.store.runDir(run), run, "config.json");
        // The file as written, and its settings as the report shows them (settingsTable: shared, per model).
        const parsed = file.value === null ? undefined : check(runConfigSchema, file.value);
        const settings = parsed?.ok ? settingsTable(parsed.value) : null;
        return { run, value: file.value as RunConfigJson | null, settings, warnings: file.warnings } satisfies ConfigResponse;
      }
      case "summary": {
        const run = required(params, "run");
        const file = this.store.jsonFile(this.store.runDir(run), run, `${endpoint}.json`);
        return { run, value: file.value, warnings: file.warnings } satisfies JsonFileResponse;
      }
      case "histograms":
        return this.heavy.run(() => this.histogramAnswer(params));
      case "sweeps":
        // Each listing reads the sweep's files once per change (cached by size and mtime); capped in number.
        return { sweeps: this.sweeps.names().map((name) => this.sweeps.listing(name)) };
      case "sweep":
        return this.heavy.run(async () => this.sweeps.sweep(required(params, "sweep")));
      case "activations":
        return { activations: ACTIVATION_NAMES.map((name): ActivationCatalogueEntry => {
          const a = ACTIVATIONS[name];
          return { name, formula: a.formula, torchModule: a.torchModule, saturates: a.saturates, zeroCentered: a.zeroCentered, deadUnits: a.deadUnits };
        }) };
      case "activations/curves":
        return this.curves(params);
      default:
        throw new HttpError(404, `no API endpoint /api/${endpoint}`);
    }
  }

  private runs(): RunsResponse {
    const { names, warnings } = this.store.runNames();
    const runs: RunListing[] = [];
    for (const name of names) {
      try {
        runs.push(this.store.listing(name));
      } catch (error) {
        warnings.push(`${name}: ${(error as Error).message}; skipped`);
      }
    }
    return { logdir: this.root, runs, warnings };
  }

  /** Checks a histogram request against the caps before any file is read. */
  private histogramRequest(params: URLSearchParams) {
    const runs = distinctValues(params, "run", LIMITS.runs);
    if (runs.length === 0) throw new HttpError(400, `missing query parameter "run"`);
    const kindRaw = params.get("kind") ?? "grad_weight";
    if (kindRaw !== "weight" && kindRaw !== "grad_weight") throw new HttpError(400, `query parameter "kind" must be weight or grad_weight; got ${JSON.stringify(kindRaw)}`);
    const kind: HistogramKind = kindRaw;
    const layer = numberParam(params, "layer", 1, (n) => Number.isInteger(n) && n >= 1, "a layer number ≥ 1");
    if (layer > LIMITS.layer) throw overCap("layer", LIMITS.layer, layer);
    const bins = numberParam(params, "bins", 0, (n) => Number.isInteger(n) && n >= 0, `a whole number from 0 (raw buckets) to ${LIMITS.bins}`);
    if (bins > LIMITS.bins) throw overCap("bins", LIMITS.bins, bins);
    const epochsRaw = params.get("epochs");
    const epochs = numberParam(params, "epochs", LIMITS.epochs, (n) => Number.isInteger(n) && n >= 1, `a whole number of epochs from 1 to ${LIMITS.epochs}`);
    if (epochs > LIMITS.epochs) throw overCap("epochs", LIMITS.epochs, epochs);
    const scaleRaw = params.get("scale") ?? "linear";
    if (scaleRaw !== "linear" && scaleRaw !== "log") throw new HttpError(400, `query parameter "scale" must be linear or log; got ${JSON.stringify(scaleRaw)}`);
    const scale: HistogramScale = scaleRaw;
    const wantedModels = distinctValues(params, "model", LIMITS.models);
    const seedParam = params.get("seed");
    const seedWanted = seedParam === null || seedParam === "" ? null : numberParam(params, "seed", 0, Number.isInteger, "a whole number");
    return { runs, kind, layer, bins, epochs, epochsGiven: epochsRaw !== null && epochsRaw !== "", scale, wantedModels, seedWanted };
  }

  /**
   * Histograms of one layer for the runs and models asked for. Bounded (see LIMITS) and sliced:
   * it yields to the event loop between runs and series, so other requests are answered meanwhile.
   */
  private async histogramAnswer(params: URLSearchParams): Promise<HistogramsResponse> {
    const { runs, kind, layer, bins, epochs, epochsGiven, scale, wantedModels, seedWanted } = this.histogramRequest(params);
    const series: HistogramSeries[] = [];
    const warnings: string[] = [];
    const intervals: Interval[][][] = [];
    let cells = 0;
    const spend = (n: number) => {
      cells += n;
      if (cells > LIMITS.histogramCells) {
        throw new HttpError(400, `the answer would hold more than ${LIMITS.histogramCells} numbers; ask for fewer runs, models or epochs, or use bins`, { parameter: "run", cap: LIMITS.histogramCells });
      }
    };
    for (const run of runs) {
      await yieldToEventLoop();
      const dir = this.store.runDir(run);
      const metrics = this.store.metrics(dir, run);
      const config = this.store.config(dir, run);
      warnings.push(...metrics.warnings, ...config.warnings);
      const { models, seeds } = this.store.modelsAndSeeds(config.value, metrics.value);
      // The writer names a series by its model alone when the experiment has one seed (RunDirectory's seriesName).
      const multipleSeeds = (Array.isArray(config.value?.seeds) ? config.value.seeds.length : seeds.length) > 1;
      const seed = seedWanted !== null && seeds.includes(seedWanted) ? seedWanted : seeds[0] ?? 0;
      const chosen = wantedModels.length > 0 ? models.filter((m) => wantedModels.includes(m)) : models;
      if (chosen.length > LIMITS.models) throw overCap("model", LIMITS.models, chosen.length, `${run} has ${chosen.length} models; name some with model=`);
      const tags = chosen.map((model) => `${kind}/${multipleSeeds ? `${model}_seed${seed}` : model}/${layer}`);
      const { byTag, warnings: fileWarnings } = await this.histograms.read(dir, run, tags);
      warnings.push(...fileWarnings);
      for (const [i, model] of chosen.entries()) {
        const tag = tags[i];
        let steps = [...byTag.get(tag)!.entries()].sort((a, b) => a[0] - b[0]);
        if (steps.length > epochs) {
          if (!epochsGiven) throw overCap("epochs", LIMITS.epochs, steps.length, `${run} ${tag} has ${steps.length} epochs; pass epochs=N for the latest N`);
          steps = steps.slice(steps.length - epochs);
        }
        spend(steps.reduce((n, [, h]) => n + 3 + (bins === 0 ? 2 * h.bucket.length : bins), 0));
        series.push({
          run, model, seed, series: tag.split("/")[1], tag,
          steps: steps.map(([step, h]) => ({
            step, num: h.num, min: h.min, max: h.max, ...(bins === 0 ? { bucketLimit: h.bucketLimit, bucket: h.bucket } : {}),
          })),
        });
        if (bins > 0) intervals.push(steps.map(([, h]) => bucketIntervals(h, scale)));
      }
    }
    if (bins === 0) return { kind, layer, scale: null, edges: null, series, warnings };
    const edges = sharedEdges(intervals.flat(2), bins, scale);
    for (const [i, s] of series.entries()) {
      await yieldToEventLoop();
      s.steps.forEach((step, j) => { step.counts = rebin(intervals[i][j], edges); });
    }
    return { kind, layer, scale, edges, series, warnings };
  }

  /** Activation curves, one name per slice of work (each runs the kernels afresh: ~20 ms at full resolution). */
  private async curves(params: URLSearchParams): Promise<CurvesResponse> {
    const names = distinctValues(params, "name", LIMITS.names);
    if (names.length === 0) throw new HttpError(400, `missing query parameter "name" (one or more of ${ACTIVATION_NAMES.join(", ")})`);
    for (const name of names) {
      if (!isActivationName(name)) throw new HttpError(400, `unknown activation ${JSON.stringify(name)}; valid names: ${ACTIVATION_NAMES.join(", ")}`);
    }
    const from = numberParam(params, "from", -5, (n) => Math.abs(n) <= 1e4, "a number within ±10000");
    const to = numberParam(params, "to", 5, (n) => Math.abs(n) <= 1e4, "a number within ±10000");
    if (!(from < to)) throw new HttpError(400, `"from" (${from}) must be below "to" (${to})`);
    const points = numberParam(params, "points", 401, (n) => Number.isInteger(n) && n >= 2 && n <= LIMITS.points, `a whole number from 2 to ${LIMITS.points}`);
    const slope = numberParam(params, "slope", 0.01, () => true, "a finite number");
    const x = grid(from, to, points);
    return this.heavy.run(async () => {
      const curves: CurvesResponse["curves"] = [];
      for (const name of names) {
        await yieldToEventLoop();
        const curve = activationCurve(name as (typeof ACTIVATION_NAMES)[number], x, slope);
        curves.push({ name, formula: ACTIVATIONS[name as (typeof ACTIVATION_NAMES)[number]].formula, y: Array.from(curve.y), dydx: Array.from(curve.dydx) });
      }
      return { x: Array.from(x), slope, curves };
    });
  }
}

/**
 * Serves the dashboard for the runs under `logdir` until closed.
 * @throws InputError when the log directory is missing or the port cannot be had.
 */
export async function startServer(options: ServeOptions): Promise<DashboardServer> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port must be a whole number from 0 to 65535; got ${port}`);
  let root: string;
  try {
    root = realpathSync(options.logdir);
  } catch {
    throw new InputError(`log directory ${options.logdir} does not exist; run \`actlab experiment\` first or name the folder holding your runs`);
  }
  if (!statSync(root).isDirectory()) throw new InputError(`log directory ${options.logdir} is not a folder`);
  const dashboard = new Dashboard(root, options.refreshMs ?? 3000, bindsLoopback(host));
  const server = createServer((req, res) => void dashboard.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") reject(new InputError(`--port ${port}: the port is already in use on ${host}; stop what holds it or choose another port (--port 0 picks a free one)`));
      else if (error.code === "EACCES") reject(new InputError(`--port ${port}: not allowed to listen on this port on ${host} (ports below 1024 need privileges)`));
      else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") reject(new InputError(`--host ${host}: not an address of this machine (${error.code})`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}/`,
    host,
    port: boundPort,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}
