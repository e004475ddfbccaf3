// The report page: one HTML file with its charts inlined as SVG and its style in a <style> block,
// so it opens anywhere, offline, and can be mailed as one attachment.
import type { Spread, SummaryRow } from "../runFormat.js";
import type { SettingsTable } from "../settingsTable.js";

export interface ReportChart {
  id: string;
  title: string;
  svg: string;
  /** The PNG copy, relative to the HTML file. */
  png?: string;
}

export interface ReportPage {
  title: string;
  dir: string;
  status: string;
  summarySource: string;
  sentences: string[];
  rows: SummaryRow[];
  /** From config.json; no section without one. */
  settings?: SettingsTable;
  charts: ReportChart[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** HTML parses inline <svg> without namespace declarations; dropping them leaves no URL in the page. */
export function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "").replace(/\sxmlns(:\w+)?="[^"]*"/g, "");
}

function spreadText(s: Spread, scale: number, digits: number): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return "—";
  const mean = (scale * s.mean).toFixed(digits);
  return s.n > 1 ? `${mean} ± ${(scale * s.std).toFixed(digits)}` : mean;
}

function summaryTable(rows: SummaryRow[]): string {
  const header = ["model", "params", "seeds", "epochs", "final acc %", "best acc %", "final train loss", "time s", "samples/s", "note"];
  const body = rows.map((r) => {
    const cells = [
      r.model,
      Number.isFinite(r.parameters) ? r.parameters.toLocaleString("en-US") : "—",
      r.seeds.join(", "),
      String(r.epochs),
      spreadText(r.final_test_acc, 100, 2),
      spreadText(r.best_test_acc, 100, 2),
      spreadText(r.final_train_loss, 1, 4),
      spreadText(r.seconds, 1, 1),
      r.samples_per_s.n ? Math.round(r.samples_per_s.mean).toLocaleString("en-US") : "—",
      r.diverged.length ? `diverged: ${r.diverged.map((d) => `seed ${d.seed} epoch ${d.epoch} step ${d.step}`).join("; ")}` : "",
    ];
    return `<tr data-model="${escapeHtml(r.model)}">${cells.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join("")}</tr>`;
  });
  return `<table class="summary">\n<thead><tr>${header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`;
}

/** The settings all models share as a list, then those that differ as a table with a row per model. */
function settingsSection(settings: SettingsTable): string {
  const shared = settings.shared.map((s) => `<div><dt>${escapeHtml(s.name)}</dt><dd>${escapeHtml(s.value)}</dd></div>`).join("\n");
  const parts = [`<h2>Settings</h2>`, `<dl class="settings">\n${shared}\n</dl>`];
  const { names, rows } = settings.perModel;
  if (names.length > 0) {
    const head = ["model", ...names].map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
    const body = rows.map((r) => `<tr data-model="${escapeHtml(r.model)}"><th scope="row">${escapeHtml(r.model)}</th>${r.values.map((v) => `<td>${escapeHtml(v)}</td>`).join("")}</tr>`);
    parts.push(`<p>Per model:</p>`, `<table class="summary model-settings">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`);
  }
  return `<section id="settings">\n${parts.join("\n")}\n</section>`;
}

export const STYLE = `
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.meta { color: #666; margin-top: 0; }
.findings { font-size: 1.05rem; line-height: 1.5; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary th, table.summary td { padding: 0.3rem 0.7rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
table.summary th[scope=row], table.summary thead th:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; }
figcaption { font-size: 0.85rem; color: #666; }
dl.settings { display: flex; flex-wrap: wrap; gap: 0.3rem 1.5rem; }
dl.settings dt { display: inline; color: #666; }
dl.settings dt::after { content: ":"; }
dl.settings dd { display: inline; margin: 0 0 0 0.3rem; }
`;

export function renderReportHtml(page: ReportPage): string {
  const charts = page.charts.map((c) => [
    `<figure id="${escapeHtml(c.id)}">`,
    inlineSvg(c.svg),
    c.png ? `<figcaption>${escapeHtml(c.title)} · PNG copy: <a href="${escapeHtml(c.png)}">${escapeHtml(c.png)}</a></figcaption>` : `<figcaption>${escapeHtml(c.title)}</figcaption>`,
    `</figure>`,
  ].join("\n"));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<p class="meta">run directory ${escapeHtml(page.dir)} · status: ${escapeHtml(page.status)} · table from ${escapeHtml(page.summarySource)}</p>
<section class="findings">
${page.sentences.map((s) => `<p>${escapeHtml(s)}</p>`).join("\n")}
</section>
<h2>Summary</h2>
${summaryTable(page.rows)}
${page.settings ? settingsSection(page.settings) : ""}
<h2>Curves</h2>
<div class="charts">
${charts.join("\n")}
</div>
</body>
</html>
`;
}
