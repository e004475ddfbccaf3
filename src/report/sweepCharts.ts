// A sweep's four charts as Vega-Lite specs, from its analysis: final test accuracy against depth
// (one line per activation, band from the lowest to the highest seed), a heat map activation × depth,
// the epoch first past 50%, and the first/last-layer gradient-norm ratio against depth (log scale).
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG } from "../plot/render.js";
import type { SweepAnalysis } from "./sweepAnalysis.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function depthChart(analysis: SweepAnalysis, field: "acc" | "epochFirst50" | "gradRatio", title: string, y: object, band: boolean): TopLevelSpec {
  const values = analysis.points.filter((p) => p[field] !== null);
  const color = { field: "line", type: "nominal" as const, scale: { domain: analysis.lines, scheme: "tableau20" }, title: "activation", legend: { symbolType: "stroke", symbolStrokeWidth: 3 } };
  const x = { field: "depth", type: "quantitative" as const, title: "Linear layers", scale: { nice: false }, axis: { values: analysis.depths, format: "d" } };
  const line = { mark: { type: "line" as const, point: true, strokeWidth: 2 }, encoding: { x, y: { field, type: "quantitative" as const, ...y }, color } };
  const layers: object[] = [line];
  if (band && values.some((p) => p.seeds > 1)) {
    layers.unshift({ mark: { type: "area" as const, opacity: 0.15 }, encoding: { x, y: { field: "accMin", type: "quantitative" as const }, y2: { field: "accMax" }, color } });
  }
  return {
    $schema: SCHEMA, title: { text: title, subtitle: band ? "line: mean over seeds; band: lowest to highest seed" : "mean over seeds" },
    width: 460, height: 280, data: { values }, layer: layers, config: CHART_CONFIG,
  } as TopLevelSpec;
}

export function sweepChartSpecs(analysis: SweepAnalysis): Array<{ id: string; title: string; spec: TopLevelSpec }> {
  const heat: TopLevelSpec = {
    $schema: SCHEMA, title: "Final test accuracy: activation × depth (mean over seeds)", width: { step: 44 }, height: { step: 24 },
    data: { values: analysis.points },
    encoding: {
      x: { field: "depth", type: "ordinal", title: "Linear layers", sort: analysis.depths },
      y: { field: "line", type: "nominal", title: "activation", sort: analysis.lines },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "acc", type: "quantitative", title: "test acc", scale: { domain: [0, 1], scheme: "viridis" }, legend: { format: ".0%" } } } },
      { mark: { type: "text", fontSize: 9 }, encoding: { text: { field: "acc", type: "quantitative", format: ".0%" }, color: { condition: { test: "datum.acc > 0.6", value: "black" }, value: "white" } } },
    ],
    config: { ...CHART_CONFIG, axis: { ...(CHART_CONFIG as { axis?: object }).axis, grid: false } },
  } as TopLevelSpec;
  return [
    { id: "sweep_accuracy", title: "Final test accuracy against depth", spec: depthChart(analysis, "acc", "Final test accuracy against depth", { title: "final test accuracy", axis: { format: ".0%" }, scale: { domain: [0, 1] } }, true) },
    { id: "sweep_heatmap", title: "Heat map activation × depth", spec: heat },
    { id: "sweep_first50", title: "Epoch first past 50% test accuracy", spec: depthChart(analysis, "epochFirst50", "Epoch at which test accuracy first passed 50%", { title: "epoch (seeds that passed)", axis: { tickMinStep: 1 } }, false) },
    { id: "sweep_gradratio", title: "First/last-layer gradient-norm ratio against depth", spec: depthChart(analysis, "gradRatio", "‖∇W first‖ / ‖∇W last‖ in the last epoch", { title: "ratio (log scale; geometric mean over seeds)", scale: { type: "log" } }, false) },
  ];
}
