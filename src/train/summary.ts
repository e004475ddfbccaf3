// The comparison table that ends an experiment: one row per model, mean ± std over seeds.
// summary.json's rows: their shape is defined with the run folder's formats.
import type { EpochRecord, Spread, SummaryRow } from "../runFormat.js";

export type { Spread, SummaryRow };

export function spread(values: number[]): Spread {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export function summarize(models: Array<{ model: string; parameters: number }>, history: EpochRecord[]): SummaryRow[] {
  return models.map(({ model, parameters }) => {
    const records = history.filter((r) => r.model === model);
    const seeds = [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b);
    const perSeed = seeds.map((seed) => records.filter((r) => r.seed === seed).sort((a, b) => a.epoch - b.epoch));
    const last = perSeed.map((rs) => rs[rs.length - 1]);
    return {
      model,
      parameters,
      seeds,
      epochs: Math.max(0, ...last.map((r) => r.epoch)),
      final_test_acc: spread(last.map((r) => r.test_acc).filter(Number.isFinite)),
      best_test_acc: spread(perSeed.map((rs) => Math.max(...rs.map((r) => r.test_acc).filter(Number.isFinite))).filter(Number.isFinite)),
      final_train_loss: spread(last.map((r) => r.train_loss).filter(Number.isFinite)),
      seconds: spread(perSeed.map((rs) => rs.reduce((s, r) => s + r.seconds, 0))),
      samples_per_s: spread(perSeed.flatMap((rs) => rs.map((r) => r.samples_per_s)).filter(Number.isFinite)),
      diverged: last.filter((r) => r.diverged).map((r) => ({ seed: r.seed, ...r.diverged! })),
    };
  });
}

function percent(s: Spread): string {
  if (s.n === 0) return "—";
  return s.n > 1 ? `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}` : (100 * s.mean).toFixed(2);
}

function plain(s: Spread, digits: number): string {
  if (s.n === 0) return "—";
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** A plain-text table for the terminal and the README. */
export function formatSummary(title: string, rows: SummaryRow[]): string {
  const header = ["model", "params", "final acc %", "best acc %", "final loss", "time s", "samples/s", "note"];
  const body = rows.map((r) => [
    r.model,
    r.parameters.toLocaleString("en-US"),
    percent(r.final_test_acc),
    percent(r.best_test_acc),
    plain(r.final_train_loss, 4),
    plain(r.seconds, 1),
    r.samples_per_s.n ? Math.round(r.samples_per_s.mean).toLocaleString("en-US") : "—",
    r.diverged.length ? `diverged: ${r.diverged.map((d) => `seed ${d.seed} epoch ${d.epoch} step ${d.step}`).join("; ")}` : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
