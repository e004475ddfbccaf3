/// <reference lib="dom" />
// The dashboard page: reads the view from the URL, fetches what it needs from the JSON API, draws
// every chart with Vega-Lite (compiled in the page, rendered by Vega as SVG), and polls the run list
// so that charts follow a run while it trains. Vega and Vega-Lite are plain scripts loaded before
// this module (globals `vega` and `vegaLite`), served from node_modules by our own server.
import type {
  ActivationCatalogueEntry, ConfigResponse, CurvesResponse, HistogramsResponse, MetricsResponse, RunListing, RunsResponse,
  SettingsTable, SummaryResponse, SummaryJson,
} from "../apiTypes.js";
import {
  activationRows, curveRows, depthRows, heatRows, labelsOf, latestEpoch, overlayRows, unitRows, type RunData,
} from "./chartData.js";
import { activationSpec, depthSpec, heatmapSpec, metricSpec, overlaySpec, unitsSpec, type Spec } from "./charts.js";
import { startSweepView } from "./sweepView.js";
import { formatViewState, parseViewState, type ViewState } from "./viewState.js";
import { element, getJson } from "./dom.js";

interface VegaView {
  runAsync(): Promise<VegaView>;
  finalize(): void;
  data(name: string): unknown[];
}
declare const vega: { View: new (runtime: unknown, options: Record<string, unknown>) => VegaView; parse(spec: unknown): unknown };
declare const vegaLite: { compile(spec: Spec): { spec: unknown } };

interface Dashboard {
  /** The rendered Vega views by chart id (accuracy, loss, depth, units, overlay, heatmap:<label>, activations). */
  views: Record<string, VegaView>;
  state: ViewState;
  /** Completed renders, so a caller can wait for the next one. */
  renders: number;
  warnings: string[];
}

declare global {
  interface Window {
    actlab: Dashboard;
  }
}

const HISTOGRAM_BINS = 48;
const DEFAULT_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"];
const refreshMs = Number(document.body.dataset.refreshMs) || 3000;

const dashboard: Dashboard = { views: {}, state: parseViewState(location.search), renders: 0, warnings: [] };
window.actlab = dashboard;

let listing: RunsResponse = { logdir: "", runs: [], warnings: [] };
let catalogue: ActivationCatalogueEntry[] = [];
let loading = false;
let reloadWanted = false;

const $ = (id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el;
};


/** The state with every choice made concrete against what exists (runs, layers, epochs). */
function selectedRuns(state: ViewState): RunListing[] {
  const chosen = listing.runs.filter((r) => state.runs.includes(r.name));
  return chosen.length > 0 ? chosen : listing.runs.slice(0, 1);
}

function versionsOf(response: RunsResponse, runs: string[]): string {
  return JSON.stringify([response.runs.map((r) => r.name), response.runs.filter((r) => runs.includes(r.name)).map((r) => r.version)]);
}

function setUrl(state: ViewState, push: boolean): void {
  const url = `${location.pathname}${formatViewState(state)}`;
  if (url === `${location.pathname}${location.search}`) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

function change(patch: Partial<ViewState>): void {
  dashboard.state = { ...dashboard.state, ...patch };
  setUrl(dashboard.state, true);
  void load();
}

// ---- controls ----

function checkboxes(container: HTMLElement, name: string, options: { value: string; text: string; checked: boolean }[], onChange: (values: string[]) => void): void {
  container.replaceChildren(...options.map((o) => {
    const box = element("input", { type: "checkbox", name, value: o.value, checked: o.checked });
    box.addEventListener("change", () => {
      onChange([...container.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((b) => b.value));
    });
    return element("label", { className: "choice" }, box, ` ${o.text}`);
  }));
}

function select(id: string, options: { value: string; text: string }[], value: string, onChange: (value: string) => void): void {
  const el = $(id) as HTMLSelectElement;
  el.replaceChildren(...options.map((o) => element("option", { value: o.value, textContent: o.text })));
  el.value = value;
  el.onchange = () => onChange(el.value);
}

interface Resolved {
  runs: RunListing[];
  models: string[];
  isSelected: (model: string) => boolean;
  seed: number;
  layer: number;
  layers: number;
  latest: number;
  epoch: number;
}

function drawControls(state: ViewState, r: Resolved): void {
  checkboxes($("run-picker-list"), "run", listing.runs.map((run) => ({
    value: run.name,
    text: `${run.name} (${run.epochs} epoch${run.epochs === 1 ? "" : "s"}${run.status === "training" ? ", training" : run.status === "finished" ? "" : `, ${run.status}`})${run.warnings.length > 0 ? " ⚠" : ""}`,
    checked: r.runs.some((s) => s.name === run.name),
  })), (runs) => change({ runs, models: null, seed: null, epoch: null, act: null }));
  checkboxes($("model-picker-list"), "model", r.models.map((m) => ({ value: m, text: m, checked: r.isSelected(m) })),
    (models) => change({ models: models.length === r.models.length ? null : models }));
  const seeds = [...new Set(r.runs.flatMap((run) => run.seeds))].sort((a, b) => a - b);
  select("seed", seeds.map((s) => ({ value: String(s), text: String(s) })), String(r.seed), (v) => change({ seed: Number(v) }));
  select("layer", Array.from({ length: Math.max(1, r.layers) }, (_, i) => ({ value: String(i + 1), text: `layer ${i + 1}` })), String(r.layer),
    (v) => change({ layer: Number(v) }));
  select("epoch", [{ value: "", text: `latest (${r.latest})` }, ...Array.from({ length: r.latest }, (_, i) => ({ value: String(i + 1), text: `epoch ${i + 1}` }))],
    state.epoch === null ? "" : String(r.epoch), (v) => change({ epoch: v === "" ? null : Number(v) }));
  select("hist", [{ value: "grad_weight", text: "weight gradients" }, { value: "weight", text: "weights" }], state.hist,
    (v) => change({ hist: v === "weight" ? "weight" : "grad_weight" }));
  select("scale", [{ value: "log", text: "log10 |value|" }, { value: "linear", text: "value" }], state.scale,
    (v) => change({ scale: v === "linear" ? "linear" : "log" }));
}

function drawActivationControls(state: ViewState, names: string[], slope: number): void {
  checkboxes($("act-picker"), "act", catalogue.map((a) => ({ value: a.name, text: a.name, checked: names.includes(a.name) })),
    (act) => change({ act }));
  const from = $("act-from") as HTMLInputElement;
  const to = $("act-to") as HTMLInputElement;
  const slopeInput = $("act-slope") as HTMLInputElement;
  from.value = String(state.from);
  to.value = String(state.to);
  slopeInput.value = String(slope);
  const onRange = () => {
    const a = Number(from.value);
    const b = Number(to.value);
    if (Number.isFinite(a) && Number.isFinite(b) && a < b) change({ from: a, to: b });
  };
  from.onchange = onRange;
  to.onchange = onRange;
  slopeInput.onchange = () => {
    const s = Number(slopeInput.value);
    if (Number.isFinite(s)) change({ slope: s });
  };
}

// ---- charts ----

async function draw(container: HTMLElement, id: string, spec: Spec, caption?: string): Promise<void> {
  const holder = element("div", { className: "chart" });
  holder.dataset.chart = id;
  if (caption) holder.append(element("div", { className: "caption", textContent: caption }));
  const target = element("div");
  holder.append(target);
  container.append(holder);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "svg", container: target, hover: true });
  await view.runAsync();
  dashboard.views[id] = view;
}

function note(container: HTMLElement, text: string): void {
  container.append(element("p", { className: "note", textContent: text }));
}

type SummarySpreadJson = SummaryJson["rows"][number]["final_test_acc"];

/**
 * A run's settings (the server's settingsTable of its config.json): one line of those all models
 * share, then a row per model of those that differ (a preset's --init, say).
 */
function settingsElements(settings: SettingsTable): HTMLElement[] {
  const shared = element("p", { className: "note settings", textContent: settings.shared.map((s) => `${s.name} ${s.value}`).join(" · ") });
  const { names, rows } = settings.perModel;
  if (names.length === 0) return [shared];
  const head = element("tr", {}, ...["model", ...names].map((h) => element("th", { textContent: h })));
  const body = rows.map((row) => element("tr", {}, element("td", { textContent: row.model }), ...row.values.map((v) => element("td", { textContent: v }))));
  return [shared, element("table", { className: "model-settings" }, element("thead", {}, head), element("tbody", {}, ...body))];
}

function drawSummaries(runs: { run: string; summary: SummaryJson | null; settings: SettingsTable | null }[]): void {
  const container = $("summary");
  container.replaceChildren();
  for (const { run, summary, settings } of runs) {
    if (summary === null) {
      note(container, `${run}: no summary.json yet (it is written when the run ends)`);
      if (settings) container.append(...settingsElements(settings));
      continue;
    }
    // The server sent summary.json only after checking it against its format; non-finite numbers are null.
    const stat = (s: SummarySpreadJson, scale: number, digits: number) => {
      if (s.mean === null) return "–";
      const mean = (s.mean * scale).toFixed(digits);
      return s.n > 1 && s.std !== null ? `${mean} ± ${(s.std * scale).toFixed(digits)}` : mean;
    };
    const head = element("tr", {}, ...["model", "final acc %", "best acc %", "final loss", "diverged"].map((h) => element("th", { textContent: h })));
    const body = summary.rows.map((row) => element("tr", {},
      element("td", { textContent: row.model }),
      element("td", { textContent: stat(row.final_test_acc, 100, 2) }),
      element("td", { textContent: stat(row.best_test_acc, 100, 2) }),
      element("td", { textContent: stat(row.final_train_loss, 1, 4) }),
      element("td", { textContent: row.diverged.length > 0 ? `${row.diverged.length} seed(s)` : "" })));
    container.append(element("h3", { textContent: run }), element("table", {}, element("thead", {}, head), element("tbody", {}, ...body)));
    if (settings) container.append(...settingsElements(settings));
  }
}

function showWarnings(warnings: string[]): void {
  dashboard.warnings = warnings;
  const box = $("warnings");
  box.hidden = warnings.length === 0;
  box.replaceChildren(
    element("strong", { textContent: `${warnings.length} file problem${warnings.length === 1 ? "" : "s"} (skipped, the rest is shown):` }),
    element("ul", {}, ...warnings.map((w) => element("li", { textContent: w }))),
  );
}

// ---- loading ----

async function load(): Promise<void> {
  if (loading) {
    reloadWanted = true;
    return;
  }
  loading = true;
  document.body.dataset.status = "loading";
  try {
    do {
      reloadWanted = false;
      await loadOnce();
    } while (reloadWanted);
    $("error").hidden = true;
    document.body.dataset.status = "ready";
  } catch (error) {
    const box = $("error");
    box.hidden = false;
    box.textContent = `Could not load the dashboard: ${(error as Error).message}`;
    document.body.dataset.status = "error";
    console.error(error);
  } finally {
    loading = false;
  }
}

async function loadOnce(): Promise<void> {
  const state = dashboard.state;
  const runs = selectedRuns(state);
  if (runs.length === 0) {
    $("empty").hidden = false;
    showWarnings(listing.warnings);
    return;
  }
  $("empty").hidden = true;
  const names = runs.map((r) => r.name);
  if (state.runs.join("\n") !== names.join("\n")) {
    dashboard.state = { ...state, runs: names };
    setUrl(dashboard.state, false);
  }
  const perRun = await Promise.all(runs.map(async (run) => {
    const q: [string, string][] = [["run", run.name]];
    const [metrics, config, summary] = await Promise.all([
      getJson<MetricsResponse>("/api/metrics", q), getJson<ConfigResponse>("/api/config", q), getJson<SummaryResponse>("/api/summary", q),
    ]);
    return { run, metrics, config, summary };
  }));
  const models = [...new Set(runs.flatMap((r) => r.models))];
  const isSelected = (m: string) => state.models === null || state.models.includes(m);
  const data: RunData[] = perRun.map((p) => ({ run: p.run.name, records: p.metrics.records }));
  const seeds = [...new Set(runs.flatMap((r) => r.seeds))].sort((a, b) => a - b);
  const layers = Math.max(0, ...runs.map((r) => r.layers));
  const latest = latestEpoch(data, isSelected);
  const resolved: Resolved = {
    runs, models, isSelected,
    seed: state.seed !== null && seeds.includes(state.seed) ? state.seed : seeds[0] ?? 0,
    layers,
    layer: Math.min(state.layer, Math.max(1, layers)),
    latest,
    epoch: state.epoch !== null && state.epoch <= latest ? state.epoch : latest,
  };
  const labels = labelsOf(runs.map((r) => ({ run: r.name, models: r.models })), isSelected);
  const chosenModels = models.filter(isSelected);

  const histogramQuery = (kind: string): [string, string][] => [
    ...names.map((n): [string, string] => ["run", n]), ["kind", kind], ["layer", String(resolved.layer)],
    ...chosenModels.map((m): [string, string] => ["model", m]), ["seed", String(resolved.seed)],
    ["bins", String(HISTOGRAM_BINS)], ["scale", state.scale],
  ];
  const configs = perRun.map((p) => p.config.value);
  const runActivations = configs.flatMap((c) => (c?.models ?? []).filter((m) => isSelected(m.model)).map((m) => m.config.activation))
    .filter((a) => catalogue.some((c) => c.name === a));
  const actNames = state.act ?? (runActivations.length > 0 ? [...new Set(runActivations)] : DEFAULT_ACTIVATIONS);
  const slope = state.slope ?? configs.flatMap((c) => c?.models ?? []).map((m) => m.config.leakySlope).find((s) => typeof s === "number") ?? 0.01;

  const [histograms, gradients, curves] = await Promise.all([
    chosenModels.length > 0 ? getJson<HistogramsResponse>("/api/histograms", histogramQuery(state.hist)) : null,
    chosenModels.length > 0 && state.hist !== "grad_weight" ? getJson<HistogramsResponse>("/api/histograms", histogramQuery("grad_weight")) : null,
    actNames.length > 0
      ? getJson<CurvesResponse>("/api/activations/curves", [...actNames.map((n): [string, string] => ["name", n]), ["from", String(state.from)], ["to", String(state.to)], ["slope", String(slope)]])
      : null,
  ]);
  const gradientHistograms = gradients ?? histograms;

  for (const view of Object.values(dashboard.views)) view.finalize();
  dashboard.views = {};
  drawControls(state, resolved);
  drawActivationControls(state, actNames, slope);
  $("logdir").textContent = listing.logdir;
  const training = runs.some((r) => r.status === "training");
  $("live").textContent = `${training ? "training: following the run" : "up to date"} · ${new Date().toLocaleTimeString()}`;

  const curveData = curveRows(data, isSelected);
  const band = curveData.some((r, i) => curveData.findIndex((o) => o.label === r.label && o.epoch === r.epoch) !== i);
  for (const [id, field] of [["accuracy", "test_acc"], ["loss", "train_loss"]] as const) {
    const box = $(`chart-${id}`);
    box.replaceChildren();
    if (curveData.length === 0) note(box, "no epochs recorded yet");
    else await draw(box, id, metricSpec(curveData, field, labels, band));
  }

  const epochNote = `epoch ${resolved.epoch}${state.epoch === null ? " (latest)" : ""}`;
  const depthBox = $("chart-depth");
  depthBox.replaceChildren();
  const depth = depthRows(data, isSelected, resolved.epoch);
  if (depth.length === 0) note(depthBox, "no gradient norms recorded yet");
  else await draw(depthBox, "depth", depthSpec(depth, labels), epochNote);

  const unitsBox = $("chart-units");
  unitsBox.replaceChildren();
  const units = unitRows(data, isSelected, resolved.epoch);
  if (units.length === 0) note(unitsBox, "none of the selected activations has dead or saturated units defined, or no epoch is recorded yet");
  else await draw(unitsBox, "units", unitsSpec(units, labels), epochNote);

  const overlayBox = $("chart-overlay");
  overlayBox.replaceChildren();
  const overlay = gradientHistograms ? overlayRows(gradientHistograms, resolved.epoch) : [];
  if (overlay.length === 0) note(overlayBox, "no gradient histograms for this layer and epoch");
  else await draw(overlayBox, "overlay", overlaySpec(overlay, labels, "grad_weight", state.scale), `layer ${resolved.layer} · ${epochNote} · seed ${resolved.seed}`);

  const heatBox = $("chart-heatmaps");
  heatBox.replaceChildren();
  if (histograms?.edges) {
    const byLabel = heatRows(histograms);
    const maxFraction = Math.max(0, ...[...byLabel.values()].flatMap((rows) => rows.map((r) => r.fraction)));
    for (const [label, rows] of byLabel) {
      if (rows.length === 0) note(heatBox, `${label}: no histograms for layer ${resolved.layer}`);
      else await draw(heatBox, `heatmap:${label}`, heatmapSpec(rows, label, histograms.edges, state.hist, state.scale, maxFraction));
    }
  }
  if (heatBox.childElementCount === 0) note(heatBox, "no histograms recorded yet");
  $("heat-caption").textContent = `${state.hist === "weight" ? "weights" : "weight gradients"}, layer ${resolved.layer}, seed ${resolved.seed}`;

  const actBox = $("chart-activations");
  actBox.replaceChildren();
  if (curves && curves.curves.length > 0) await draw(actBox, "activations", activationSpec(activationRows(curves), curves.curves.map((c) => c.name)));
  else note(actBox, "pick an activation");

  drawSummaries(perRun.map((p) => ({ run: p.run.name, summary: p.summary.value, settings: p.config.settings })));
  showWarnings([
    ...listing.warnings,
    ...runs.flatMap((r) => r.warnings),
    ...perRun.flatMap((p) => [...p.metrics.warnings, ...p.config.warnings, ...p.summary.warnings]),
    ...(histograms?.warnings ?? []), ...(gradients?.warnings ?? []),
  ].filter((w, i, all) => all.indexOf(w) === i));
  lastVersions = versionsOf(listing, dashboard.state.runs);
  dashboard.renders++;
}

let lastVersions = "";

async function poll(): Promise<void> {
  if (loading) return;
  try {
    const fresh = await getJson<RunsResponse>("/api/runs");
    const versions = versionsOf(fresh, dashboard.state.runs);
    listing = fresh;
    if (versions !== lastVersions) await load();
  } catch {
    // The server may be restarting; the next poll tries again and the charts stay as they are.
    $("live").textContent = `server not answering · ${new Date().toLocaleTimeString()}`;
  }
}

window.addEventListener("popstate", () => {
  dashboard.state = parseViewState(location.search);
  void load();
});

async function start(): Promise<void> {
  startSweepView($("sweeps"), refreshMs);
  try {
    let answer: { activations: ActivationCatalogueEntry[] };
    [listing, answer] = await Promise.all([getJson<RunsResponse>("/api/runs"), getJson<{ activations: ActivationCatalogueEntry[] }>("/api/activations")]);
    catalogue = answer.activations;
  } catch (error) {
    const box = $("error");
    box.hidden = false;
    box.textContent = `Could not reach the actlab server: ${(error as Error).message}`;
    document.body.dataset.status = "error";
    console.error(error);
    return;
  }
  await load();
  setInterval(() => void poll(), refreshMs);
}

void start();
