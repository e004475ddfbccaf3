// Vega-Lite specifications of the dashboard's charts. Each takes its rows inline under the data
// name "rows" (so a test, or a curious reader, can ask the rendered view for them) and colours by
// `label` with the domain given, so a model keeps its colour in every chart.
import type { ActivationRow, CurveRow, DepthRow, HeatRow, OverlayRow, UnitRow } from "./chartData.js";
import type { HistKind, HistScale } from "./viewState.js";

export type Spec = Record<string, unknown>;

const COLOR_SCHEME = "tableau10";

function colorBy(labels: string[], title = "model"): Spec {
  return { field: "label", type: "nominal", title, scale: { domain: labels, scheme: COLOR_SCHEME }, legend: { labelLimit: 260, symbolOpacity: 1, symbolStrokeWidth: 2 } };
}

const epochAxis = { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } };

/** A metric per epoch, one line per label (the mean over seeds) and, with several seeds, a ±1 sd band. */
export function metricSpec(rows: CurveRow[], field: "test_acc" | "train_loss", labels: string[], band: boolean): Spec {
  const title = field === "test_acc" ? "test accuracy" : "train loss";
  const format = field === "test_acc" ? ".1%" : ".3f";
  const y = { field, type: "quantitative", title, scale: { zero: false }, axis: { format } };
  return {
    width: 380,
    height: 220,
    data: { name: "rows", values: rows },
    transform: [{ filter: `isValid(datum.${field})` }],
    encoding: { x: epochAxis, color: colorBy(labels) },
    layer: [
      ...(band ? [{ mark: { type: "errorband", extent: "stdev", opacity: 0.2 }, encoding: { y } }] : []),
      {
        mark: { type: "line", point: true },
        encoding: {
          y: { ...y, aggregate: "mean" },
          tooltip: [{ field: "label", title: "model" }, { field: "epoch" }, { field, aggregate: "mean", title: `${title} (mean)`, format }],
        },
      },
    ],
  };
}

function histogramAxisTitle(scale: HistScale, kind: HistKind): string {
  const what = kind === "grad_weight" ? "weight gradient" : "weight";
  return scale === "log" ? `log10 |${what}|` : what;
}

/** One label's histograms over the epochs as a heat map (TensorBoard's distributions, on a grid). */
export function heatmapSpec(rows: HeatRow[], label: string, edges: number[], kind: HistKind, scale: HistScale, maxFraction: number): Spec {
  const epochs = new Set(rows.map((r) => r.epoch)).size;
  return {
    width: 260,
    height: Math.max(60, Math.min(240, 16 * epochs)),
    title: { text: label, fontSize: 12 },
    data: { name: "rows", values: rows },
    mark: { type: "rect" },
    encoding: {
      x: { field: "lo", type: "quantitative", title: histogramAxisTitle(scale, kind), scale: { domain: [edges[0], edges[edges.length - 1]], nice: false, zero: false } },
      x2: { field: "hi" },
      y: { field: "epoch", type: "ordinal", title: "epoch" },
      color: { field: "fraction", type: "quantitative", title: "share", scale: { scheme: "viridis", type: "sqrt", domain: [0, maxFraction || 1] }, legend: null },
      tooltip: [{ field: "epoch" }, { field: "lo", format: ".3g" }, { field: "hi", format: ".3g" }, { field: "fraction", format: ".2%", title: "share" }],
    },
  };
}

/** The same layer's histograms of several models at one epoch, overlaid. */
export function overlaySpec(rows: OverlayRow[], labels: string[], kind: HistKind, scale: HistScale): Spec {
  const x = { field: "x", type: "quantitative", title: histogramAxisTitle(scale, kind), scale: { zero: false, nice: false }, ...(scale === "log" ? { axis: { tickMinStep: 0.5 } } : {}) };
  const y = { field: "fraction", type: "quantitative", title: "share of values", stack: null, axis: { format: ".0%" } };
  return {
    width: 820,
    height: 240,
    data: { name: "rows", values: rows },
    encoding: { x, y, color: colorBy(labels) },
    layer: [
      { mark: { type: "area", interpolate: "step", opacity: 0.25 } },
      { mark: { type: "line", interpolate: "step" }, encoding: { tooltip: [{ field: "label", title: "model" }, { field: "x", format: ".3g" }, { field: "fraction", format: ".2%" }] } },
    ],
  };
}

/** The powers of ten spanning the values: a log axis's ticks, without the eight in between each. */
export function decades(values: number[]): number[] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [];
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.ceil(Math.log10(Math.max(...positive)));
  return Array.from({ length: hi - lo + 1 }, (_, i) => Number(`1e${lo + i}`));
}

/** ‖∇W‖ against layer depth, log scale: a gradient that vanishes towards the input falls to the left. */
export function depthSpec(rows: DepthRow[], labels: string[]): Spec {
  return {
    width: 820,
    height: 260,
    data: { name: "rows", values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "layer", type: "quantitative", title: "layer (1 = next to the input)", axis: { tickMinStep: 1, format: "d" }, scale: { zero: false } },
      y: { field: "grad_norm", type: "quantitative", title: "‖∇W‖ (log scale)", scale: { type: "log" }, axis: { values: decades(rows.map((r) => r.grad_norm)), format: ".0e" } },
      color: colorBy(labels),
      detail: { field: "seed", type: "nominal" },
      tooltip: [{ field: "label", title: "model" }, { field: "seed" }, { field: "layer" }, { field: "grad_norm", format: ".3e" }],
    },
  };
}

/** Dead (relu-like) and saturated (sigmoid-like) unit fractions per hidden layer. */
export function unitsSpec(rows: UnitRow[], labels: string[]): Spec {
  return {
    data: { name: "rows", values: rows },
    facet: { column: { field: "measure", type: "nominal", title: null, header: { labelExpr: "datum.value + ' units'", labelFontSize: 12 } } },
    spec: {
      width: 380,
      height: 200,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "layer", type: "quantitative", title: "hidden layer", axis: { tickMinStep: 1, format: "d" }, scale: { zero: false } },
        y: { field: "fraction", type: "quantitative", title: "fraction of units", scale: { domain: [0, 1] }, axis: { format: ".0%" } },
        color: colorBy(labels),
        detail: { field: "seed", type: "nominal" },
        tooltip: [{ field: "label", title: "model" }, { field: "seed" }, { field: "layer" }, { field: "measure" }, { field: "fraction", format: ".1%" }],
      },
    },
  };
}

/** Activations and their derivatives (from the training kernels), side by side. */
export function activationSpec(rows: ActivationRow[], names: string[]): Spec {
  return {
    data: { name: "rows", values: rows },
    facet: { column: { field: "curve", type: "nominal", title: null, sort: ["f(x)", "f′(x)"], header: { labelFontSize: 12 } } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 380,
      height: 220,
      mark: { type: "line" },
      encoding: {
        x: { field: "x", type: "quantitative", title: "x" },
        y: { field: "value", type: "quantitative", title: null },
        color: { field: "name", type: "nominal", title: "activation", scale: { domain: names, scheme: COLOR_SCHEME } },
        tooltip: [{ field: "name" }, { field: "x", format: ".3f" }, { field: "value", format: ".4f" }],
      },
    },
  };
}
