// `actlab report` as a library call: read a run directory, draw its charts, say what the numbers
// say, and write one self-contained HTML file with PNG copies of the charts beside it.
import { mkdirSync } from "node:fs";
import { basename, dirname, extname, join, relative } from "node:path";
import { writeFileAtomicSync } from "../checkpoint/atomicFile.js";
import { InputError } from "../errors.js";
import { renderPng, renderSvg } from "../plot/render.js";
import { accuracyChartSpec, gradientNormChartSpec, lossChartSpec } from "../plot/runPlots.js";
import { prepareWritableDir } from "../train/runDirectory.js";
import { renderReportHtml, type ReportChart } from "./html.js";
import { findings, type Findings } from "./narrative.js";
import { loadRun, type RunData } from "./runData.js";

export interface ReportOptions {
  /** The HTML file; default <rundir>/report.html. Figures go to <name>_figures/ beside it. */
  out?: string;
  /** PNG width in pixels; default twice the chart's own size. */
  pngWidth?: number;
}

export interface ReportResult {
  html: string;
  figures: string[];
  findings: Findings;
  run: RunData;
}

/** The run's charts as SVG; `id` is also the PNG figure's file name. */
export async function runCharts(run: RunData): Promise<Array<{ id: string; title: string; svg: string }>> {
  const options = { models: run.models };
  const charts = [
    { id: "accuracy", title: "Test accuracy per epoch", spec: accuracyChartSpec(run.records, options) },
    { id: "loss", title: "Training loss per epoch", spec: lossChartSpec(run.records, options) },
  ];
  if (run.records.some((r) => r.diagnostics?.layers.some((l) => l.grad_norm > 0))) {
    charts.push({ id: "grad_norm", title: "Weight-gradient norm per layer in the final epoch", spec: gradientNormChartSpec(run.records, options) });
  }
  return Promise.all(charts.map(async ({ id, title, spec }) => ({ id, title, svg: await renderSvg(spec) })));
}

/** Where a report's PNG figures go: `<name>_figures/` beside `<name>.html`. */
export function figuresDirOf(html: string): string {
  return join(dirname(html), `${basename(html, extname(html))}_figures`);
}

export async function writeReport(dir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const out = options.out ?? join(dir, "report.html");
  if (![".html", ".htm"].includes(extname(out).toLowerCase())) throw new InputError(`--out ${out}: the report is an HTML file; give a name ending in .html`);
  const run = loadRun(dir);
  const found = findings(run);
  // Named after the page, as browsers name a saved page's files: two reports written into one
  // folder keep their own figures instead of overwriting each other's.
  const figuresDir = figuresDirOf(out);
  prepareWritableDir(dirname(out), "report folder");
  mkdirSync(figuresDir, { recursive: true });
  const charts: ReportChart[] = [];
  const figures: string[] = [];
  for (const chart of await runCharts(run)) {
    const path = join(figuresDir, `${chart.id}.png`);
    writeFileAtomicSync(path, renderPng(chart.svg, options.pngWidth));
    figures.push(path);
    charts.push({ ...chart, png: relative(dirname(out), path).split("\\").join("/") });
  }
  const html = renderReportHtml({
    title: `actlab report: ${run.name}`,
    dir: run.dir,
    status: run.status,
    summarySource: run.summarySource,
    sentences: found.sentences,
    rows: run.rows,
    settings: run.settings,
    charts,
  });
  writeFileAtomicSync(out, html);
  return { html: out, figures, findings: found, run };
}
