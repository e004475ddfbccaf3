// `actlab report <sweep>`: the sweep's charts and sentences in one self-contained HTML file, PNG
// copies beside it, and a table of every trial's mean result (each trial's own run folder can be
// reported on its own as before).
import { mkdirSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { InputError } from "../errors.js";
import { renderPng, renderSvg } from "../plot/render.js";
import { readSweepFile, readTrialRows, SWEEP_FILE, TRIALS_FILE, type SweepFile, type TrialRow } from "../sweepFormat.js";
import { prepareWritableDir } from "../train/runDirectory.js";
import { escapeHtml, inlineSvg, STYLE } from "./html.js";
import { analyzeSweep, type SweepAnalysis } from "./sweepAnalysis.js";
import { sweepChartSpecs } from "./sweepCharts.js";

export interface SweepReportResult {
  html: string;
  figures: string[];
  analysis: SweepAnalysis;
  sweep: SweepFile;
  rows: TrialRow[];
}

/** trials.jsonl's rows as they lie on disk (NaN back to null), for the analysis and the dashboard. */
export function rowsAsJson(rows: readonly TrialRow[]) {
  const n = (x: number) => (Number.isFinite(x) ? x : null);
  return rows.map((r) => ({ ...r, final_test_acc: n(r.final_test_acc), best_test_acc: n(r.best_test_acc), final_train_loss: n(r.final_train_loss), grad_norm_ratio: n(r.grad_norm_ratio), seconds: n(r.seconds) }));
}

function table(analysis: SweepAnalysis): string {
  const cell = (line: string, depth: number) => {
    const p = analysis.points.find((q) => q.line === line && q.depth === depth);
    if (!p) return "<td>—</td>";
    const spread = p.seeds > 1 ? ` <small>(${(100 * p.accMin).toFixed(1)}–${(100 * p.accMax).toFixed(1)})</small>` : "";
    return `<td>${(100 * p.acc).toFixed(1)}${spread}</td>`;
  };
  const head = `<tr><th scope="col">activation \\ layers</th>${analysis.depths.map((d) => `<th scope="col">${d}</th>`).join("")}</tr>`;
  const body = analysis.lines.map((line) => `<tr><th scope="row">${escapeHtml(line)}</th>${analysis.depths.map((d) => cell(line, d)).join("")}</tr>`);
  return `<table class="summary">\n<thead>${head}</thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`;
}

export async function writeSweepReport(dir: string, options: { out?: string; pngWidth?: number } = {}): Promise<SweepReportResult> {
  const out = options.out ?? join(dir, "report.html");
  if (![".html", ".htm"].includes(extname(out).toLowerCase())) throw new InputError(`--out ${out}: the report is an HTML file; give a name ending in .html`);
  const sweep = readSweepFile(join(dir, SWEEP_FILE));
  const rows = readTrialRows(join(dir, TRIALS_FILE));
  const analysis = analyzeSweep(sweep.grid, rowsAsJson(rows));
  const figuresDir = join(dirname(out), "figures");
  prepareWritableDir(dirname(out), "report folder");
  mkdirSync(figuresDir, { recursive: true });
  const figures: string[] = [];
  const charts: string[] = [];
  if (analysis.points.length > 0) {
    for (const chart of sweepChartSpecs(analysis)) {
      const svg = await renderSvg(chart.spec);
      const path = join(figuresDir, `${chart.id}.png`);
      writeFileAtomicSync(path, renderPng(svg, options.pngWidth));
      figures.push(path);
      const png = relative(dirname(out), path).split("\\").join("/");
      charts.push(`<figure id="${chart.id}">\n${inlineSvg(svg)}\n<figcaption>${escapeHtml(chart.title)} · PNG copy: <a href="${escapeHtml(png)}">${escapeHtml(png)}</a></figcaption>\n</figure>`);
    }
  }
  const states = new Map<string, number>();
  for (const t of sweep.trials) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  const title = `actlab sweep report: ${sweep.name}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">sweep folder ${escapeHtml(dir)} · ${sweep.trials.length} trials (${escapeHtml([...states].map(([s, n]) => `${n} ${s}`).join(", "))}) · seeds ${escapeHtml(sweep.grid.seeds.join(", "))} · ${rows.length} jobs ended · data sha256 ${escapeHtml(sweep.data.sha256.slice(0, 12))}…</p>
<section class="findings">
${analysis.sentences.map((s) => `<p>${escapeHtml(s)}</p>`).join("\n")}
</section>
<h2>Final test accuracy (%), mean over seeds (lowest–highest)</h2>
${table(analysis)}
<h2>Charts</h2>
<div class="charts">
${charts.join("\n")}
</div>
</body>
</html>
`;
  writeFileAtomicSync(out, html);
  return { html: out, figures, analysis, sweep, rows };
}
