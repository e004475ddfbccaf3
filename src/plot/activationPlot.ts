// The notebook's activation plots: one panel per activation with f(x) and f'(x), both computed by
// the kernels training uses (f' is the backward kernel applied to ones, never a second formula).
import type { TopLevelSpec } from "vega-lite";
import { ACTIVATION_NAMES, DEFAULT_LEAKY_SLOPE, isActivationName, type ActivationName } from "../activations.js";
import { activationCurve, grid } from "../engine/curves.js";
import { InputError } from "../errors.js";
import { unknownActivation } from "../model.js";
import { PLOT_DEFAULTS } from "./plotDefaults.js";
import { CHART_CONFIG, renderPng, renderSvg } from "./render.js";

export interface ActivationPlotOptions {
  /** The x interval, from < to. Default −5 to 5, as the notebook plots. */
  from?: number;
  to?: number;
  /** Points per curve (≥ 2), both ends included. Default 1000. */
  points?: number;
  /** leaky_relu's negative slope. Default DEFAULT_LEAKY_SLOPE. */
  leakySlope?: number;
  /** Panels per row. Default: up to 4. */
  columns?: number;
  /** Size of one panel in SVG pixels. */
  panelWidth?: number;
  panelHeight?: number;
}

export interface PlotActivationsOptions extends ActivationPlotOptions {
  /** Also rasterise to PNG. */
  png?: boolean;
  /** PNG width in pixels; default twice the SVG's width. */
  width?: number;
}

/** The two curves of every panel, in legend order. */
export const CURVE_LABELS = { value: "f(x)", derivative: "f'(x)" } as const;

/** Checks names against the catalogue: unknown or repeated names are an InputError; none means all. */
export function activationNames(names: readonly string[]): ActivationName[] {
  if (names.length === 0) return [...ACTIVATION_NAMES];
  const seen = new Set<string>();
  for (const name of names) {
    if (!isActivationName(name)) throw unknownActivation(name);
    if (seen.has(name)) throw new InputError(`activation "${name}" is named twice`);
    seen.add(name);
  }
  return names as ActivationName[];
}

function resolve(options: ActivationPlotOptions) {
  const from = options.from ?? PLOT_DEFAULTS.from;
  const to = options.to ?? PLOT_DEFAULTS.to;
  const points = options.points ?? PLOT_DEFAULTS.points;
  const leakySlope = options.leakySlope ?? DEFAULT_LEAKY_SLOPE;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new InputError(`the plotted interval must have from < to (--from ${from} --to ${to})`);
  }
  if (!Number.isInteger(points) || points < 2 || points > 100_000) {
    throw new InputError(`--points must be a whole number from 2 to 100000; got ${points}`);
  }
  if (!Number.isFinite(leakySlope)) throw new InputError(`--leaky-slope must be a finite number; got ${leakySlope}`);
  return { from, to, points, leakySlope };
}

export function activationPlotSpec(names: readonly string[], options: ActivationPlotOptions = {}): TopLevelSpec {
  const chosen = activationNames(names);
  const { from, to, points, leakySlope } = resolve(options);
  const x = grid(from, to, points);
  const values: Array<{ activation: string; curve: string; x: number; y: number }> = [];
  for (const name of chosen) {
    const curve = activationCurve(name, x, leakySlope);
    for (let i = 0; i < points; i++) values.push({ activation: name, curve: CURVE_LABELS.value, x: curve.x[i], y: curve.y[i] });
    for (let i = 0; i < points; i++) values.push({ activation: name, curve: CURVE_LABELS.derivative, x: curve.x[i], y: curve.dydx[i] });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Activations and their derivatives", subtitle: "f'(x) from the backward kernel that training runs" },
    data: { values },
    columns: options.columns ?? Math.min(4, chosen.length),
    facet: { field: "activation", type: "nominal", sort: chosen, header: { title: null } },
    spec: {
      width: options.panelWidth ?? 200,
      height: options.panelHeight ?? 150,
      mark: { type: "line", strokeWidth: 2 },
      encoding: {
        x: { field: "x", type: "quantitative", scale: { domain: [from, to], nice: false }, title: "x" },
        y: { field: "y", type: "quantitative", title: null },
        color: {
          field: "curve", type: "nominal", title: null,
          scale: { domain: [CURVE_LABELS.value, CURVE_LABELS.derivative], range: ["#1f77b4", "#ff7f0e"] },
          legend: { orient: "top" },
        },
      },
    },
    // Every activation on its own y scale: relu reaches 5 while sigmoid's derivative peaks at 0.25.
    resolve: { scale: { y: "independent" } },
    config: CHART_CONFIG,
  };
}

export async function plotActivations(names: readonly string[], options: PlotActivationsOptions = {}): Promise<{ svg: string; png?: Uint8Array }> {
  const svg = await renderSvg(activationPlotSpec(names, options));
  return options.png ? { svg, png: renderPng(svg, options.width) } : { svg };
}
