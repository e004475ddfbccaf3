// What the dashboard shows, as it lives in the page's query string, so that a view can be
// bookmarked, shared and restored by the back button. Only what differs from the defaults is
// written; anything unreadable in a hand-edited URL falls back to its default.

export type HistKind = "grad_weight" | "weight";
export type HistScale = "log" | "linear";

export interface ViewState {
  /** Selected runs by name; empty: the first run listed. */
  runs: string[];
  /** Selected models; null: every model of the selected runs. */
  models: string[] | null;
  /** The seed whose histograms are drawn; null: each run's lowest. */
  seed: number | null;
  /** The layer (1-based) of the histogram views. */
  layer: number;
  /** The epoch of the per-layer views; null: the latest recorded. */
  epoch: number | null;
  hist: HistKind;
  scale: HistScale;
  /** Activations in the explorer; null: those of the selected runs' models. */
  act: string[] | null;
  from: number;
  to: number;
  /** Leaky relu's slope in the explorer; null: the runs' own (or 0.01). */
  slope: number | null;
}

export function defaultViewState(): ViewState {
  return { runs: [], models: null, seed: null, layer: 1, epoch: null, hist: "grad_weight", scale: "log", act: null, from: -5, to: 5, slope: null };
}

function wholeNumber(raw: string | null, min: number): number | null {
  if (raw === null || !/^\d+$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= min ? n : null;
}

function finite(raw: string | null): number | null {
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

function list(params: URLSearchParams, key: string): string[] {
  const out: string[] = [];
  for (const v of params.getAll(key)) if (v !== "" && !out.includes(v)) out.push(v);
  return out;
}

export function parseViewState(search: string): ViewState {
  const params = new URLSearchParams(search);
  const state = defaultViewState();
  state.runs = list(params, "run");
  if (params.has("model")) state.models = list(params, "model");
  state.seed = wholeNumber(params.get("seed"), 0);
  state.layer = wholeNumber(params.get("layer"), 1) ?? state.layer;
  state.epoch = wholeNumber(params.get("epoch"), 1);
  if (params.get("hist") === "weight") state.hist = "weight";
  if (params.get("scale") === "linear") state.scale = "linear";
  if (params.has("act")) state.act = list(params, "act");
  const from = finite(params.get("from"));
  const to = finite(params.get("to"));
  if (from !== null && to !== null && from < to) {
    state.from = from;
    state.to = to;
  }
  state.slope = finite(params.get("slope"));
  return state;
}

/** The query string of `state` ("" when everything is at its default), parameters in a fixed order. */
export function formatViewState(state: ViewState): string {
  const d = defaultViewState();
  const params = new URLSearchParams();
  for (const run of state.runs) params.append("run", run);
  if (state.models !== null) {
    if (state.models.length === 0) params.append("model", "");
    for (const model of state.models) params.append("model", model);
  }
  if (state.seed !== null) params.set("seed", String(state.seed));
  if (state.layer !== d.layer) params.set("layer", String(state.layer));
  if (state.epoch !== null) params.set("epoch", String(state.epoch));
  if (state.hist !== d.hist) params.set("hist", state.hist);
  if (state.scale !== d.scale) params.set("scale", state.scale);
  if (state.act !== null) {
    if (state.act.length === 0) params.append("act", "");
    for (const name of state.act) params.append("act", name);
  }
  if (state.from !== d.from || state.to !== d.to) {
    params.set("from", String(state.from));
    params.set("to", String(state.to));
  }
  if (state.slope !== null) params.set("slope", String(state.slope));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
