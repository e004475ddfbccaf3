// The run folder's formats (src/runFormat.ts): the files a real run writes read back exactly, and
// any JSON value in any of them gives either a valid parse or an InputError naming the file and the
// field, never a TypeError, in the strict readers (resume, report) and in the lenient ones (the
// dashboard), and never a number that could size a loop past the bounds.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { loadMnist } from "../src/data/mnist.js";
import { InputError } from "../src/errors.js";
import { findings } from "../src/report/narrative.js";
import { loadRun } from "../src/report/runData.js";
import {
  fieldPath, MAX_EPOCHS, MAX_LAYERS, MAX_WARNINGS_PER_FILE, parseJobs, parseMetricsLine, parseMetricsTextLenient, parseRunConfig,
  parseSummary, readMetrics, readRunConfig, readSummary, seriesName,
} from "../src/runFormat.js";
import { curveRows, depthRows, latestEpoch, unitRows } from "../src/serve/page/chartData.js";
import { RunStore } from "../src/serve/runStore.js";
import { runExperiments } from "../src/train/experiment.js";
import { loadSavedRun } from "../src/train/runConfig.js";
import { temporaryDir } from "./support/scratch.js";
import { smallRunSpec } from "./support/smallRun.js";

const scratch = temporaryDir("runformat");
let run: string;
let configText: string;
let summaryText: string;
let jobsText: string;
let metricsLines: string[];

before(async () => {
  await runExperiments([smallRunSpec(scratch.path, "fmt", [0, 1], ["tanh", "relu"])], { data: loadMnist(), workers: 0 });
  run = join(scratch.path, "fmt");
  configText = readFileSync(join(run, "config.json"), "utf8");
  summaryText = readFileSync(join(run, "summary.json"), "utf8");
  jobsText = readFileSync(join(run, "jobs.json"), "utf8");
  metricsLines = readFileSync(join(run, "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "");
});
after(() => scratch.remove());

/** Every path to a value inside a JSON document (the document itself included). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value !== null && typeof value === "object") return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return here;
}

function replaceAt(document: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = replacement;
  return copy;
}

/** Values that break readers: wrong types, huge and fractional numbers, empty containers, prototype names. */
const hostile = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(null, 1e9, -1, 0, 1.5, 1e308, "", "x", [], {}, [null], { __proto__: null }, "__proto__", 2 ** 53),
);

/** A valid document with one value somewhere inside replaced by a hostile one (or left as it is). */
function mutated(document: () => unknown): fc.Arbitrary<unknown> {
  return fc.tuple(fc.nat(), hostile, fc.boolean()).map(([i, replacement, keep]) => {
    const doc = document();
    if (keep) return doc;
    const all = paths(doc);
    return replaceAt(doc, all[i % all.length], replacement);
  });
}

/** Runs `read`; it must return or throw an InputError whose message names `file`. */
function parsesOrRefuses<T>(read: () => T, file: string): T | undefined {
  try {
    return read();
  } catch (error) {
    assert.ok(error instanceof InputError, `not an InputError: ${(error as Error).stack}`);
    assert.ok(error.message.includes(file), `the message names ${file}: ${error.message}`);
    return undefined;
  }
}

describe("run formats: the files a run writes", () => {
  it("read back exactly: parsed and written again, every metrics line is the same bytes", () => {
    assert.equal(metricsLines.length, 2 * 2 * 2);
    const records = readMetrics(join(run, "metrics.jsonl"));
    assert.deepEqual(records.map((r) => JSON.stringify(r)), metricsLines);
    assert.equal(records[0].diagnostics?.layers.length, 4);
    assert.equal(JSON.stringify(readSummary(join(run, "summary.json")), null, 2) + "\n", summaryText);
    assert.deepEqual(readRunConfig(join(run, "config.json")), JSON.parse(configText));
    assert.deepEqual(parseJobs(JSON.parse(jobsText), "jobs.json"), { tanh_seed0: "finished", relu_seed0: "finished", tanh_seed1: "finished", relu_seed1: "finished" });
  });

  it("a non-finite number, written as null, reads back as NaN and is written as null again", () => {
    const line = JSON.stringify({ ...JSON.parse(metricsLines[0]), train_loss: null, test_loss: null });
    const record = parseMetricsLine(line, "m.jsonl", 1);
    assert.ok(Number.isNaN(record.train_loss) && Number.isNaN(record.test_loss));
    assert.equal(JSON.stringify(record), line);
  });

  it("one series name for a model and seed", () => {
    assert.equal(seriesName("relu", 3, true), "relu_seed3");
    assert.equal(seriesName("relu", 3, false), "relu");
  });

  it("fieldPath writes indices in brackets and names in dots", () => {
    assert.equal(fieldPath(["models", 0, "config", "activation"]), "models[0].config.activation");
    assert.equal(fieldPath([]), "(top)");
  });
});

describe("run formats: wrong-shape files are refused with the file and the field", () => {
  const refusal = (read: () => unknown, pattern: RegExp) =>
    assert.throws(read, (e: unknown) => e instanceof InputError && pattern.test(e.message), String(pattern));

  it("config.json of null, {models: 5}, {models: [null]}, a hidden width of 1.5", () => {
    refusal(() => parseRunConfig(null, "x/config.json"), /^x\/config\.json is not a valid run configuration: \(top\): /);
    const config = JSON.parse(configText) as Record<string, unknown>;
    refusal(() => parseRunConfig({ ...config, models: 5 }, "x/config.json"), /x\/config\.json .*: models: /);
    refusal(() => parseRunConfig({ ...config, models: [null] }, "x/config.json"), /x\/config\.json .*: models\[0\]: /);
    refusal(() => parseRunConfig(replaceAt(config, ["models", 1, "config", "hiddenSizes", 0], 1.5), "c.json"), /models\[1\]\.config\.hiddenSizes\[0\]: /);
    refusal(() => parseRunConfig(replaceAt(config, ["settings", "epochs"], 1e9), "c.json"), /settings\.epochs: /);
  });

  it("metrics lines of null, an epoch of 1e9 or 2.5, a layer index of 1e9, diagnostics that are not lists", () => {
    const record = JSON.parse(metricsLines[0]) as Record<string, unknown>;
    refusal(() => parseMetricsLine("null", "m.jsonl", 7), /^m\.jsonl: line 7 is not a valid metrics record: \(top\): /);
    refusal(() => parseMetricsLine(JSON.stringify({ ...record, epoch: 1e9 }), "m.jsonl", 1), /line 1 .*: epoch: /);
    refusal(() => parseMetricsLine(JSON.stringify({ ...record, epoch: 2.5 }), "m.jsonl", 1), /: epoch: /);
    refusal(() => parseMetricsLine(JSON.stringify(replaceAt(record, ["diagnostics", "layers", 2, "layer"], 1e9)), "m.jsonl", 1), /diagnostics\.layers\[2\]\.layer: /);
    refusal(() => parseMetricsLine(JSON.stringify(replaceAt(record, ["diagnostics", "hidden"], 5)), "m.jsonl", 1), /diagnostics\.hidden: /);
    refusal(() => parseMetricsLine("{oops", "m.jsonl", 3), /m\.jsonl: line 3 is not valid JSON/);
  });

  it("summary.json whose rows are not objects, or whose spreads are not", () => {
    const summary = JSON.parse(summaryText) as Record<string, unknown>;
    refusal(() => parseSummary({ ...summary, rows: [1, "a"] }, "s.json"), /^s\.json is not a valid run summary: rows\[0\]: /);
    refusal(() => parseSummary(replaceAt(summary, ["rows", 0, "final_test_acc"], null), "s.json"), /rows\[0\]\.final_test_acc: /);
    refusal(() => parseJobs({ relu: "exploded" }, "jobs.json"), /^jobs\.json is not a valid list of job statuses: relu: /);
  });

  it("resume refuses a wrong-shape config.json with its field", () => {
    const dir = scratch.fresh();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...JSON.parse(configText), models: [null] }));
    refusal(() => loadSavedRun(dir), /config\.json is not a valid run configuration: models\[0\]: /);
  });
});

describe("run formats: any JSON value in any file gives a valid parse or a refusal (fuzzed)", () => {
  const config = () => JSON.parse(configText) as unknown;
  const summary = () => JSON.parse(summaryText) as unknown;
  const metric = () => JSON.parse(metricsLines[0]) as unknown;

  it("the strict readers: a value within the bounds, or an InputError naming the file", () => {
    fc.assert(fc.property(fc.oneof(hostile, mutated(config)), (value) => {
      const parsed = parsesOrRefuses(() => parseRunConfig(value, "f/config.json"), "f/config.json");
      if (parsed) assert.ok(parsed.settings.epochs <= MAX_EPOCHS && parsed.models.every((m) => m.config.hiddenSizes.length < MAX_LAYERS));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.oneof(hostile, mutated(summary)), (value) => {
      const parsed = parsesOrRefuses(() => parseSummary(value, "f/summary.json"), "f/summary.json");
      if (parsed) assert.ok(parsed.rows.every((r) => Number.isInteger(r.epochs) && r.epochs <= MAX_EPOCHS && typeof r.final_test_acc.mean === "number"));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.oneof(hostile, mutated(metric)), (value) => {
      const parsed = parsesOrRefuses(() => parseMetricsLine(JSON.stringify(value), "f/metrics.jsonl", 1), "f/metrics.jsonl");
      if (parsed) {
        assert.ok(Number.isInteger(parsed.epoch) && parsed.epoch >= 1 && parsed.epoch <= MAX_EPOCHS);
        assert.ok((parsed.diagnostics?.layers ?? []).every((l) => Number.isInteger(l.layer) && l.layer <= MAX_LAYERS));
      }
    }), { numRuns: 500 });
    fc.assert(fc.property(hostile, (value) => { parsesOrRefuses(() => parseJobs(value, "f/jobs.json"), "f/jobs.json"); }), { numRuns: 200 });
  });

  it("the report: a run folder holding any such files loads and gives its findings, or is refused with the file named", () => {
    const dir = scratch.fresh();
    const files = fc.record({
      config: fc.oneof(hostile, mutated(config)),
      summary: fc.option(fc.oneof(hostile, mutated(summary)), { nil: undefined }),
      lines: fc.array(fc.oneof(mutated(metric), hostile), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(fc.property(files, ({ config: c, summary: s, lines }) => {
      writeFileSync(join(dir, "config.json"), JSON.stringify(c));
      if (s === undefined) rmSync(join(dir, "summary.json"), { force: true });
      else writeFileSync(join(dir, "summary.json"), JSON.stringify(s));
      writeFileSync(join(dir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
      try {
        const loaded = loadRun(dir);
        findings(loaded);
      } catch (error) {
        assert.ok(error instanceof InputError, `not an InputError: ${(error as Error).stack}`);
        assert.match(error.message, /(config\.json|summary\.json|metrics\.jsonl)/);
      }
    }), { numRuns: 150 });
  });

  it("the dashboard: such files never fail an answer; what it sends is within the bounds and the page's rows build", () => {
    const root = scratch.fresh();
    const dir = join(root, "r");
    const store = new RunStore(root);
    const files = fc.record({
      config: fc.oneof(hostile, mutated(config)),
      summary: fc.oneof(hostile, mutated(summary)),
      lines: fc.array(fc.oneof(mutated(metric), hostile), { minLength: 1, maxLength: 4 }),
    });
    let n = 0;
    fc.assert(fc.property(files, ({ config: c, summary: s, lines }) => {
      // A fresh folder each time: the store caches by size and time, which a quick rewrite may keep.
      const runDir = `${dir}${n++}`;
      rmSync(runDir, { recursive: true, force: true });
      mkdirSync(runDir);
      writeFileSync(join(runDir, "config.json"), JSON.stringify(c));
      writeFileSync(join(runDir, "summary.json"), JSON.stringify(s));
      writeFileSync(join(runDir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
      const name = runDir.slice(root.length + 1);
      const listing = store.listing(name);
      assert.ok(listing.epochs >= 0 && listing.epochs <= MAX_EPOCHS);
      assert.ok(listing.layers <= MAX_LAYERS);
      assert.ok(["finished", "interrupted", "incomplete"].includes(listing.status));
      const records = store.metrics(runDir, name).value;
      assert.equal(records.length + listing.warnings.filter((w) => /metrics\.jsonl: line/.test(w)).length, lines.length);
      const data = [{ run: name, records }];
      const all = () => true;
      const latest = latestEpoch(data, all);
      curveRows(data, all);
      depthRows(data, all, latest);
      unitRows(data, all, latest);
      for (const file of ["config.json", "summary.json"]) {
        const answer = store.jsonFile(runDir, name, file);
        assert.ok(answer.value === null || answer.warnings.length === 0);
      }
      rmSync(runDir, { recursive: true, force: true });
    }), { numRuns: 150 });
  });

  it("the dashboard's metrics parser: at most a bounded number of warnings per file", () => {
    const text = Array.from({ length: 500 }, () => "null\n").join("");
    const { records, warnings } = parseMetricsTextLenient(text, "r/metrics.jsonl");
    assert.equal(records.length, 0);
    assert.equal(warnings.length, MAX_WARNINGS_PER_FILE + 1);
    assert.match(warnings[0], /^r\/metrics\.jsonl: line 1 is not a valid metrics record \(\(top\): .*\); skipped$/);
    assert.match(warnings[MAX_WARNINGS_PER_FILE], /480 more lines skipped/);
  });
});
