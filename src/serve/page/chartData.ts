// The rows each chart draws, built from the API's answers. Every row carries `label`: the model's
// name, or "<run>/<model>" when several runs are shown, so colours and legends agree across charts.
import type { CurvesResponse, HistogramsResponse, MetricsRecord } from "../apiTypes.js";

export interface RunData {
  run: string;
  records: MetricsRecord[];
}

export function labelOf(run: string, model: string, multipleRuns: boolean): string {
  return multipleRuns ? `${run}/${model}` : model;
}

/** The labels of the selected models of the given runs, in run order then model order. */
export function labelsOf(runs: { run: string; models: string[] }[], selected: (model: string) => boolean): string[] {
  const multiple = runs.length > 1;
  return runs.flatMap(({ run, models }) => models.filter(selected).map((m) => labelOf(run, m, multiple)));
}

function selectedRecords(runs: RunData[], selected: (model: string) => boolean) {
  const multiple = runs.length > 1;
  return runs.flatMap(({ run, records }) =>
    records.filter((r) => selected(r.model)).map((r) => ({ record: r, label: labelOf(run, r.model, multiple) })));
}

export interface CurveRow {
  label: string;
  seed: number;
  epoch: number;
  test_acc: number | null;
  train_loss: number | null;
}

export function curveRows(runs: RunData[], selected: (model: string) => boolean): CurveRow[] {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return selectedRecords(runs, selected).map(({ record: r, label }) => ({
    label, seed: r.seed, epoch: r.epoch, test_acc: num(r.test_acc), train_loss: num(r.train_loss),
  }));
}

/** The latest epoch any selected record reaches (0 when none). */
export function latestEpoch(runs: RunData[], selected: (model: string) => boolean): number {
  return selectedRecords(runs, selected).reduce((m, { record }) => Math.max(m, record.epoch), 0);
}

export interface DepthRow {
  label: string;
  seed: number;
  layer: number;
  grad_norm: number;
}

/** Gradient norm per layer at `epoch`; zero or non-finite norms are left out (a log axis cannot show them). */
export function depthRows(runs: RunData[], selected: (model: string) => boolean, epoch: number): DepthRow[] {
  return selectedRecords(runs, selected)
    .filter(({ record }) => record.epoch === epoch)
    .flatMap(({ record, label }) => (record.diagnostics?.layers ?? [])
      .flatMap((l) => (l.grad_norm !== null && l.grad_norm > 0 && Number.isFinite(l.grad_norm)
        ? [{ label, seed: record.seed, layer: l.layer, grad_norm: l.grad_norm }] : [])));
}

export interface UnitRow {
  label: string;
  seed: number;
  layer: number;
  measure: "dead" | "saturated";
  fraction: number;
}

/** Dead and saturated fractions per hidden layer at `epoch`, where the activation defines them. */
export function unitRows(runs: RunData[], selected: (model: string) => boolean, epoch: number): UnitRow[] {
  const rows: UnitRow[] = [];
  for (const { record, label } of selectedRecords(runs, selected)) {
    if (record.epoch !== epoch) continue;
    for (const h of record.diagnostics?.hidden ?? []) {
      if (typeof h.dead_fraction === "number") rows.push({ label, seed: record.seed, layer: h.layer, measure: "dead", fraction: h.dead_fraction });
      if (typeof h.saturated_fraction === "number") rows.push({ label, seed: record.seed, layer: h.layer, measure: "saturated", fraction: h.saturated_fraction });
    }
  }
  return rows;
}

export interface HeatRow {
  label: string;
  epoch: number;
  lo: number;
  hi: number;
  /** Share of the step's values in this bin. */
  fraction: number;
}

function seriesLabel(response: HistogramsResponse, run: string, model: string): string {
  const runs = new Set(response.series.map((s) => s.run));
  return labelOf(run, model, runs.size > 1);
}

/** Non-empty bins of every step, per label (rebinned answers only). */
export function heatRows(response: HistogramsResponse): Map<string, HeatRow[]> {
  const out = new Map<string, HeatRow[]>();
  const edges = response.edges ?? [];
  for (const s of response.series) {
    const label = seriesLabel(response, s.run, s.model);
    const rows: HeatRow[] = [];
    for (const step of s.steps) {
      const counts = step.counts ?? [];
      const total = counts.reduce((a, b) => a + b, 0);
      if (!(total > 0)) continue;
      counts.forEach((c, k) => {
        if (c > 0) rows.push({ label, epoch: step.step + 1, lo: edges[k], hi: edges[k + 1], fraction: c / total });
      });
    }
    out.set(label, rows);
  }
  return out;
}

export interface OverlayRow {
  label: string;
  x: number;
  fraction: number;
}

/** Every bin (empty ones included, so lines fall to zero) of each series at `epoch`. */
export function overlayRows(response: HistogramsResponse, epoch: number): OverlayRow[] {
  const edges = response.edges ?? [];
  const rows: OverlayRow[] = [];
  for (const s of response.series) {
    const step = s.steps.find((st) => st.step === epoch - 1);
    const counts = step?.counts;
    if (!counts) continue;
    const total = counts.reduce((a, b) => a + b, 0);
    if (!(total > 0)) continue;
    const label = seriesLabel(response, s.run, s.model);
    counts.forEach((c, k) => rows.push({ label, x: (edges[k] + edges[k + 1]) / 2, fraction: c / total }));
  }
  return rows;
}

export interface ActivationRow {
  name: string;
  x: number;
  value: number;
  curve: "f(x)" | "f′(x)";
}

export function activationRows(response: CurvesResponse): ActivationRow[] {
  return response.curves.flatMap((c) => response.x.flatMap((x, i) => [
    { name: c.name, x, value: c.y[i], curve: "f(x)" as const },
    { name: c.name, x, value: c.dydx[i], curve: "f′(x)" as const },
  ]));
}
