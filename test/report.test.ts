// `actlab report` on a real (tiny) run: the page holds the table, the charts and sentences that
// match the numbers, and nothing that would fetch from elsewhere; the PNG figures decode.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadMnist } from "../src/data/mnist.js";
import { InputError } from "../src/errors.js";
import { mlpConfig } from "../src/model.js";
import { readPng } from "../src/plot/png.js";
import { svgSize } from "../src/plot/render.js";
import type { MetricsRecord } from "../src/plot/runPlots.js";
import { findings, layerRanges } from "../src/report/narrative.js";
import { renderReportHtml } from "../src/report/html.js";
import { writeReport, type ReportResult } from "../src/report/report.js";
import { loadRun } from "../src/report/runData.js";
import { runExperiments } from "../src/train/experiment.js";
import { DEFAULT_SETTINGS } from "../src/train/settings.js";
import { runCli } from "./support/cliProcess.js";
import type { SummaryRow } from "../src/train/summary.js";

const temp = mkdtempSync(join(tmpdir(), "actlab-report-"));
const runDir = join(temp, "tiny");
let rows: SummaryRow[];
let report: ReportResult;
let html: string;

before(async () => {
  const models = ["tanh", "sigmoid"].map((activation) => ({
    model: activation,
    config: mlpConfig({ inSize: 784, outSize: 10, hiddenSize: 32, numHiddenLayers: 4, activation }),
  }));
  const [result] = await runExperiments(
    [{ name: "tiny", dir: runDir, models, seeds: [0, 1], settings: { ...DEFAULT_SETTINGS, epochs: 2 }, trainLimit: 500 }],
    { data: loadMnist(), workers: 0 },
  );
  rows = result.rows;
  report = await writeReport(runDir);
  html = readFileSync(report.html, "utf8");
});
after(() => rmSync(temp, { recursive: true, force: true }));

/** The inline <svg> elements of the page. */
const svgs = (page: string) => page.match(/<svg\b[\s\S]*?<\/svg>/g) ?? [];

describe("actlab report on a two-model, two-seed run", () => {
  it("writes report.html in the run directory with a table row per model holding its summary numbers", () => {
    assert.equal(report.html, join(runDir, "report.html"));
    for (const row of rows) {
      const tr = new RegExp(`<tr data-model="${row.model}">(.*?)</tr>`).exec(html);
      assert.ok(tr, `row for ${row.model}`);
      const acc = row.final_test_acc;
      assert.ok(tr[1].includes(`${(100 * acc.mean).toFixed(2)} ± ${(100 * acc.std).toFixed(2)}`), `${row.model} final accuracy in ${tr[1]}`);
      assert.ok(tr[1].includes("<td>0, 1</td>"), "both seeds listed");
    }
  });

  it("inlines one SVG per chart, with one line per model and a point per epoch", () => {
    const charts = svgs(html);
    assert.equal(charts.length, 3, "accuracy, loss and gradient norm");
    const lines = (svg: string) => (svg.match(/aria-roledescription="line mark" d="([^"]*)"/g) ?? []).map((d) => (d.match(/[ML]/g) ?? []).length);
    assert.deepEqual(lines(charts[0]), [2, 2], "accuracy: 2 models × 2 epochs");
    assert.deepEqual(lines(charts[1]), [2, 2], "loss: 2 models × 2 epochs");
    assert.deepEqual(lines(charts[2]), [4, 4], "gradient norm: 2 models × 4 layers");
  });

  it("is self-contained: no scripts to load, no URLs at all", () => {
    assert.doesNotMatch(html, /<script\b[^>]*\bsrc=/i);
    assert.doesNotMatch(html, /http/i);
    assert.doesNotMatch(html, /<link\b/i);
    assert.doesNotMatch(html, /@import|url\(/i);
  });

  it("names the model with the higher final mean accuracy as the winner, with the gap", () => {
    const [best, other] = [...rows].sort((a, b) => b.final_test_acc.mean - a.final_test_acc.mean);
    assert.notEqual(best.final_test_acc.mean, other.final_test_acc.mean, "the two models differ");
    const sentence = report.findings.sentences[0];
    assert.ok(sentence.startsWith(`${best.model} won`), sentence);
    const gap = (100 * (best.final_test_acc.mean - other.final_test_acc.mean)).toFixed(2);
    assert.ok(sentence.includes(`${gap} points above ${other.model}`), sentence);
    assert.ok(html.includes(`<p>${sentence.replaceAll("'", "&#39;")}</p>`), "the sentence is on the page");
  });

  it("writes PNG figures beside the page that decode to twice each chart's size", () => {
    const charts = svgs(html);
    assert.deepEqual(report.figures.map((f) => f.slice(runDir.length + 1)), ["report_figures/accuracy.png", "report_figures/loss.png", "report_figures/grad_norm.png"]);
    report.figures.forEach((path, i) => {
      assert.ok(existsSync(path));
      const png = readPng(new Uint8Array(readFileSync(path)));
      const { width, height } = svgSize(charts[i]);
      assert.deepEqual([png.width, png.height], [2 * width, 2 * height], path);
    });
  });

  it("two reports written into one folder keep their own figures", async () => {
    const shared = join(temp, "shared-folder");
    const first = await writeReport(runDir, { out: join(shared, "first.html"), pngWidth: 300 });
    const before = first.figures.map((f) => readFileSync(f));
    const second = await writeReport(runDir, { out: join(shared, "second.html"), pngWidth: 200 });
    assert.deepEqual(first.figures.map((f) => readFileSync(f)), before, "the first report's figures are untouched");
    assert.ok(second.figures.every((f) => f.startsWith(join(shared, "second_figures"))));
    assert.match(readFileSync(join(shared, "first.html"), "utf8"), /href="first_figures\/accuracy\.png"/);
    assert.match(readFileSync(join(shared, "second.html"), "utf8"), /href="second_figures\/accuracy\.png"/);
  });

  it("recomputes the same table from metrics.jsonl when summary.json is missing", async () => {
    renameSync(join(runDir, "summary.json"), join(runDir, "summary.saved.json"));
    try {
      const out = join(temp, "elsewhere", "again.html");
      const again = await writeReport(runDir, { out });
      assert.equal(again.run.summarySource, "metrics.jsonl");
      assert.deepEqual(again.run.rows, rows);
      assert.ok(existsSync(join(temp, "elsewhere", "again_figures", "accuracy.png")));
      assert.deepEqual(again.findings.sentences, report.findings.sentences);
    } finally {
      renameSync(join(runDir, "summary.saved.json"), join(runDir, "summary.json"));
    }
  });

  it("refuses a folder without metrics.jsonl, naming the file, and an --out that is not .html", async () => {
    const empty = join(temp, "empty");
    mkdirSync(empty);
    await assert.rejects(writeReport(empty), (e: Error) => e instanceof InputError && e.message.includes(join(empty, "metrics.jsonl")));
    await assert.rejects(writeReport(temp), (e: Error) => e instanceof InputError && /sub-folders tiny/.test(e.message));
    await assert.rejects(writeReport(runDir, { out: join(temp, "r.pdf") }), (e: Error) => e instanceof InputError && /\.html/.test(e.message));
  });
});

describe("report sentences from crafted numbers", () => {
  const spread = (mean: number, std: number, n = 3) => ({ mean, std, n });
  const row = (model: string, mean: number, std: number): SummaryRow => ({
    model, parameters: 1, seeds: [0, 1, 2], epochs: 1, final_test_acc: spread(mean, std), best_test_acc: spread(mean, std),
    final_train_loss: spread(1, 0), seconds: spread(1, 0), samples_per_s: spread(1, 0), diverged: [],
  });
  const record = (model: string, seed: number, testAcc: number, gradNorms: number[]): MetricsRecord => ({
    model, seed, epoch: 3, train_loss: 1, test_acc: testAcc, test_loss: 1, seconds: 1, samples_per_s: 1,
    diagnostics: {
      layers: gradNorms.map((g, k) => ({ layer: k + 1, weight_norm: 1, grad_norm: g, grad_to_weight: g, update_to_weight: g, nan_count: 0, inf_count: 0 })),
      hidden: [],
    },
  });

  it("says whether the gap exceeds the seeds' spread", () => {
    const records = [record("a", 0, 0.9, [1, 1]), record("b", 0, 0.5, [1, 1])];
    const clear = findings({ rows: [row("b", 0.5, 0.01), row("a", 0.9, 0.02)], records, models: ["a", "b"], classes: 10 });
    assert.equal(clear.comparison?.winner, "a");
    assert.match(clear.sentences[0], /^a won: .*40\.00 points above b .*larger than/);
    const close = findings({ rows: [row("a", 0.9, 0.2), row("b", 0.8, 0.2)], records, models: ["a", "b"], classes: 10 });
    assert.match(close.sentences[0], /10\.00 points above b .*within .* does not separate them/);
  });

  it("finds models at chance and layers whose gradients vanished (averaged over seeds)", () => {
    const records = [
      record("sig", 0, 0.11, [2e-6, 5e-3, 0.2, 1]),
      record("sig", 1, 0.12, [4e-6, 7e-3, 0.4, 1]),
      record("lrelu", 0, 0.95, [0.05, 0.1, 0.2, 0.3]),
    ];
    const found = findings({ rows: [row("sig", 0.115, 0.005), row("lrelu", 0.95, 0)], records, models: ["sig", "lrelu"], classes: 10 });
    assert.deepEqual(found.atChance, ["sig"]);
    assert.deepEqual(found.vanished.map((v) => [v.model, v.layers]), [["sig", [1, 2]]]);
    assert.ok(Math.abs(found.vanished[0].firstToLastRatio - 1 / 3e-6) < 1e-3);
    assert.deepEqual(found.healthy, ["lrelu"]);
    assert.match(found.sentences.join(" "), /sig stayed at chance/);
    assert.match(found.sentences.join(" "), /Gradients vanished in sig \(layers 1–2: .*layer 4's/);
  });

  it("reports seeds whose loss diverged", () => {
    const diverged = { ...row("b", 0.1, 0), diverged: [{ seed: 2, epoch: 1, step: 7 }] };
    const found = findings({ rows: [row("a", 0.9, 0.01), diverged], records: [record("a", 0, 0.9, [1, 1])], models: ["a", "b"], classes: 10 });
    assert.deepEqual(found.diverged, [{ model: "b", seeds: [2] }]);
    assert.ok(found.sentences.includes("The loss diverged (NaN or infinite) for b (seed 2)."), found.sentences.join(" | "));
  });

  it("compresses layer lists", () => {
    assert.equal(layerRanges([1, 2, 3, 5, 7, 8]), "1–3, 5, 7–8");
  });
});

describe("actlab report on wrong-shape files (issue 9: exit 2 naming the file and the field, never a TypeError)", () => {
  /** A copy of the tiny run with one file replaced. */
  function corrupted(name: string, file: string, text: string): string {
    const dir = join(temp, `bad-${name}`);
    cpSync(runDir, dir, { recursive: true });
    rmSync(join(dir, "report.html"), { force: true });
    writeFileSync(join(dir, file), text);
    return dir;
  }
  const lines = () => readFileSync(join(runDir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "");
  const summary = () => JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Record<string, unknown>;
  const config = () => JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as Record<string, unknown>;

  const cases: Array<[string, string, () => string, RegExp]> = [
    ["config-null", "config.json", () => "null", /config\.json is not a valid run configuration: \(top\): /],
    ["config-models-5", "config.json", () => JSON.stringify({ ...config(), models: 5 }), /config\.json is not a valid run configuration: models: /],
    ["config-models-null", "config.json", () => JSON.stringify({ ...config(), models: [null] }), /config\.json is not a valid run configuration: models\[0\]: /],
    ["metrics-null", "metrics.jsonl", () => [lines()[0], "null", ...lines().slice(1)].join("\n") + "\n", /metrics\.jsonl: line 2 is not a valid metrics record: \(top\): /],
    ["metrics-epoch", "metrics.jsonl", () => [...lines(), JSON.stringify({ ...JSON.parse(lines()[0]), epoch: 1e9 })].join("\n") + "\n", /metrics\.jsonl: line 9 is not a valid metrics record: epoch: /],
    ["summary-rows", "summary.json", () => JSON.stringify({ ...summary(), rows: [1, "two"] }), /summary\.json is not a valid run summary: rows\[0\]: /],
    ["summary-spread", "summary.json", () => JSON.stringify({ ...summary(), rows: [{ ...(summary().rows as object[])[0], best_test_acc: "high" }] }), /summary\.json is not a valid run summary: rows\[0\]\.best_test_acc: /],
  ];

  for (const [name, file, text, message] of cases) {
    it(`${name}: refused before anything is written`, async () => {
      const dir = corrupted(name, file, text());
      await assert.rejects(writeReport(dir), (e: Error) => e instanceof InputError && message.test(e.message) && e.message.includes(join(dir, file)), message.source);
      assert.ok(!existsSync(join(dir, "report.html")));
    });
  }

  it("the command line exits 2 with the file and field on stderr", async () => {
    const dir = corrupted("cli", "config.json", JSON.stringify({ ...config(), models: [null] }));
    const result = await runCli(["report", dir]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /config\.json is not a valid run configuration: models\[0\]: /);
    assert.doesNotMatch(result.stderr, /TypeError|\n\s+at /);
  });
});

describe("the report's settings (issue 11: the knobs each model trained with)", () => {
  it("lists the settings the models share, without the knobs SGD does not take", () => {
    const section = /<section id="settings">([\s\S]*?)<\/section>/.exec(html);
    assert.ok(section, "a settings section");
    for (const [name, value] of [["optimiser", "sgd"], ["lr", "0.01"], ["momentum", "0.9"], ["init", "pytorch"], ["batch size", "64"], ["epochs", "2"]]) {
      assert.ok(section[1].includes(`<dt>${name}</dt><dd>${value}</dd>`), `${name} ${value} in ${section[1]}`);
    }
    assert.doesNotMatch(section[1], /betas|eps</, "adam's knobs are recorded, unused, for sgd: not shown");
    assert.doesNotMatch(section[1], /model-settings/, "no per-model table when every model has the same settings");
  });

  it("shows each model's own settings where they differ (a preset's --init per model)", () => {
    const dir = join(temp, "per-model");
    cpSync(runDir, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    config.models[0].settings = { init: "xavier-normal" };
    config.settings.optimizer = "adam";
    config.settings.lr = 0.001;
    config.settings.momentum = 0;
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const page = renderReportHtml({ title: "t", dir, status: "finished", summarySource: "summary.json", sentences: [], rows: [], charts: [], settings: loadRun(dir).settings });
    const table = /<table class="summary model-settings">([\s\S]*?)<\/table>/.exec(page);
    assert.ok(table, "a per-model table");
    assert.ok(table[1].includes(`<th scope="col">init</th>`));
    assert.ok(table[1].includes(`<tr data-model="tanh"><th scope="row">tanh</th><td>xavier-normal</td></tr>`), table[1]);
    assert.ok(table[1].includes(`<tr data-model="sigmoid"><th scope="row">sigmoid</th><td>pytorch</td></tr>`), table[1]);
    assert.ok(page.includes("<dt>optimiser</dt><dd>adam</dd>") && page.includes("<dt>betas</dt><dd>0.9, 0.999</dd>"), "adam's knobs are shown");
    assert.doesNotMatch(page, /<dt>momentum<\/dt>/, "adam takes no momentum");
  });
});
