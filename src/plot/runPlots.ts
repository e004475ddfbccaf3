// Charts of a run directory's metrics: accuracy and loss per epoch (the mean over seeds, with a
// band from the lowest to the highest seed), and gradient norm against layer depth (the
// vanishing-gradient picture).
import type { TopLevelSpec } from "vega-lite";
import type { MetricsRecord } from "../runFormat.js";
import { CHART_CONFIG } from "./render.js";

/** One line of metrics.jsonl (defined with the run folder's formats). */
export type { MetricsRecord };

export interface RunChartOptions {
  /** Models in legend order; default: in order of first appearance. */
  models?: string[];
  width?: number;
  height?: number;
  title?: string;
}

/** Mean, lowest and highest of a quantity over seeds, at one x. */
export interface SeedBand {
  model: string;
  x: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
}

/** Groups finite values by model and x and reduces each group over seeds. */
export function bandOverSeeds(points: Array<{ model: string; x: number; value: number }>): SeedBand[] {
  const groups = new Map<string, { model: string; x: number; values: number[] }>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const key = `${p.model}\u0000${p.x}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { model: p.model, x: p.x, values: [] }));
    group.values.push(p.value);
  }
  return [...groups.values()].map(({ model, x, values }) => ({
    model, x, mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values), seeds: values.length,
  }));
}

export function modelOrder(records: MetricsRecord[], models?: string[]): string[] {
  return models ?? [...new Set(records.map((r) => r.model))];
}

function bandChart(bands: SeedBand[], models: string[], axes: { x: string; y: string; yFormat?: string; logY?: boolean }, options: RunChartOptions): TopLevelSpec {
  const manySeeds = bands.some((b) => b.seeds > 1);
  // The legend shows lines even though the band layer comes first (drawn beneath the lines).
  const color = {
    field: "model", type: "nominal" as const, scale: { domain: models }, title: "model",
    legend: { symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1 },
  };
  const x = { field: "x", type: "quantitative" as const, title: axes.x, axis: { tickMinStep: 1, format: "d" }, scale: { nice: false } };
  const yScale = axes.logY ? { type: "log" as const } : { zero: false };
  // On a log scale, one tick per decade: minor ticks between them only crowd the grid.
  const yAxis = { ...(axes.yFormat ? { format: axes.yFormat } : {}), ...(axes.logY ? { tickCount: 6 } : {}) };
  const line = {
    mark: { type: "line" as const, point: true, strokeWidth: 2 },
    encoding: { x, y: { field: "mean", type: "quantitative" as const, title: axes.y, scale: yScale, axis: yAxis }, color },
  };
  const band = {
    mark: { type: "area" as const, opacity: 0.2 },
    encoding: { x, y: { field: "min", type: "quantitative" as const, scale: yScale }, y2: { field: "max" }, color },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title ? { text: options.title, subtitle: manySeeds ? "line: mean over seeds; band: lowest to highest seed" : undefined } : undefined,
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values: bands },
    layer: manySeeds ? [band, line] : [line],
    config: CHART_CONFIG,
  };
}

export function accuracyChartSpec(records: MetricsRecord[], options: RunChartOptions = {}): TopLevelSpec {
  const bands = bandOverSeeds(records.map((r) => ({ model: r.model, x: r.epoch, value: r.test_acc })));
  return bandChart(bands, modelOrder(records, options.models), { x: "epoch", y: "test accuracy", yFormat: ".0%" }, { title: "Test accuracy per epoch", ...options });
}

export function lossChartSpec(records: MetricsRecord[], options: RunChartOptions = {}): TopLevelSpec {
  const bands = bandOverSeeds(records.map((r) => ({ model: r.model, x: r.epoch, value: r.train_loss })));
  return bandChart(bands, modelOrder(records, options.models), { x: "epoch", y: "train loss" }, { title: "Training loss per epoch", ...options });
}

/** The last epoch recorded for each model (over all its seeds). */
export function lastEpochs(records: MetricsRecord[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const r of records) last.set(r.model, Math.max(last.get(r.model) ?? 0, r.epoch));
  return last;
}

/** Gradient norm of every Linear layer at each model's final epoch, against depth, on a log scale. */
export function gradientNormChartSpec(records: MetricsRecord[], options: RunChartOptions = {}): TopLevelSpec {
  const last = lastEpochs(records);
  const points = records
    .filter((r) => r.epoch === last.get(r.model) && r.diagnostics)
    .flatMap((r) => r.diagnostics!.layers.map((l) => ({ model: r.model, x: l.layer, value: l.grad_norm })))
    // A log scale cannot show 0; a layer whose gradient is exactly 0 is left off rather than drawn at the floor.
    .filter((p) => p.value > 0);
  const epochs = [...new Set(last.values())];
  const title = `Weight-gradient norm per layer, epoch ${epochs.length === 1 ? epochs[0] : "last"}`;
  return bandChart(bandOverSeeds(points), modelOrder(records, options.models), { x: "layer (1 = next to the input)", y: "‖∇W‖ (log scale)", yFormat: ".0e", logY: true }, { title, ...options });
}
