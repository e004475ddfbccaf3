// What a report needs from a run directory, read from the directory's own files: metrics.jsonl
// (required), summary.json (or the same table recomputed when the run has not written it yet)
// and config.json (model order, parameter counts, number of classes).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { readJsonLines } from "../checkpoint/atomicFile.js";
import { InputError } from "../errors.js";
import { parameterCount, type MlpConfig } from "../model.js";
import type { MetricsRecord } from "../plot/runPlots.js";
import { summarize, type SummaryRow } from "../train/summary.js";

export interface RunData {
  dir: string;
  /** The experiment's name (config.json or summary.json), else the folder's name. */
  name: string;
  /** summary.json's status ("finished", "interrupted"), or "in progress" when there is none yet. */
  status: string;
  /** Models in the experiment's order. */
  models: string[];
  /** Output classes (chance accuracy is 1 / classes). */
  classes: number;
  records: MetricsRecord[];
  rows: SummaryRow[];
  summarySource: "summary.json" | "metrics.jsonl";
}

interface SavedConfig {
  name?: string;
  models?: Array<{ model: string; config: MlpConfig }>;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new InputError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function notARunDirectory(dir: string, metrics: string): InputError {
  const runsInside = readdirSync(dir).filter((entry) => existsSync(join(dir, entry, "metrics.jsonl")));
  const hint = runsInside.length ? `; its sub-folders ${runsInside.join(", ")} are run directories: report one of them` : "";
  return new InputError(`${metrics} does not exist, so ${dir} is not an actlab run directory${hint}`);
}

export function loadRun(dir: string): RunData {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`run directory ${dir} does not exist or is not a folder`);
  const metricsPath = join(dir, "metrics.jsonl");
  if (!existsSync(metricsPath)) throw notARunDirectory(dir, metricsPath);
  const records = readJsonLines(metricsPath) as MetricsRecord[];
  if (records.length === 0) throw new InputError(`${metricsPath} holds no epochs yet: report once the first epoch has finished`);

  const configPath = join(dir, "config.json");
  const config = existsSync(configPath) ? readJson<SavedConfig>(configPath) : {};
  const configs = new Map((config.models ?? []).map((m) => [m.model, m.config]));
  const seen = [...new Set(records.map((r) => r.model))];
  const models = [...(config.models ?? []).map((m) => m.model).filter((m) => seen.includes(m)), ...seen.filter((m) => !configs.has(m))];
  const classes = Math.max(...[...configs.values()].map((c) => c.outSize), 0) || 10;

  const summaryPath = join(dir, "summary.json");
  let rows: SummaryRow[];
  let status = "in progress";
  let name = config.name ?? basename(dir);
  let summarySource: RunData["summarySource"] = "metrics.jsonl";
  if (existsSync(summaryPath)) {
    const summary = readJson<{ experiment?: string; status?: string; rows?: SummaryRow[] }>(summaryPath);
    if (!Array.isArray(summary.rows)) throw new InputError(`${summaryPath} has no "rows" list`);
    rows = summary.rows;
    status = summary.status ?? status;
    name = summary.experiment ?? name;
    summarySource = "summary.json";
  } else {
    const parameters = (model: string) => {
      const c = configs.get(model);
      return c ? parameterCount(c) : NaN;
    };
    rows = summarize(models.map((model) => ({ model, parameters: parameters(model) })), records);
  }
  return { dir, name, status, models, classes, records, rows, summarySource };
}
