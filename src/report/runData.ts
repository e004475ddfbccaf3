// What a report needs from a run directory, read from the directory's own files: metrics.jsonl
// (required), summary.json (or the same table recomputed when the run has not written it yet)
// and config.json (model order, parameter counts, number of classes, the settings).
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError } from "../errors.js";
import { parameterCount, type MlpConfig } from "../model.js";
import { readMetrics, readRunConfig, readSummary, type MetricsRecord, type RunConfigFile, type SummaryRow } from "../runFormat.js";
import { settingsTable, type SettingsTable } from "../settingsTable.js";
import { summarize } from "../train/summary.js";

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
  /** The settings shared and per model (config.json); absent when the run has no config.json. */
  settings?: SettingsTable;
}

function notARunDirectory(dir: string, metrics: string): InputError {
  const runsInside = readdirSync(dir).filter((entry) => existsSync(join(dir, entry, "metrics.jsonl")));
  const hint = runsInside.length ? `; its sub-folders ${runsInside.join(", ")} are run directories: report one of them` : "";
  return new InputError(`${metrics} does not exist, so ${dir} is not an actlab run directory${hint}`);
}

/**
 * Reads a run directory's files, each checked against its format (runFormat): a file that does not
 * match is an InputError naming it and the field, so a report is never drawn from half-read numbers.
 */
export function loadRun(dir: string): RunData {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`run directory ${dir} does not exist or is not a folder`);
  const metricsPath = join(dir, "metrics.jsonl");
  if (!existsSync(metricsPath)) throw notARunDirectory(dir, metricsPath);
  const records = readMetrics(metricsPath);
  if (records.length === 0) throw new InputError(`${metricsPath} holds no epochs yet: report once the first epoch has finished`);

  const configPath = join(dir, "config.json");
  const config: RunConfigFile | undefined = existsSync(configPath) ? readRunConfig(configPath) : undefined;
  const configs = new Map((config?.models ?? []).map((m) => [m.model, m.config]));
  const seen = [...new Set(records.map((r) => r.model))];
  const models = [...(config?.models ?? []).map((m) => m.model).filter((m) => seen.includes(m)), ...seen.filter((m) => !configs.has(m))];
  const classes = Math.max(...[...configs.values()].map((c) => c.outSize), 0) || 10;

  const summaryPath = join(dir, "summary.json");
  let rows: SummaryRow[];
  let status = "in progress";
  let name = config?.name ?? basename(dir);
  let summarySource: RunData["summarySource"] = "metrics.jsonl";
  if (existsSync(summaryPath)) {
    const summary = readSummary(summaryPath);
    rows = summary.rows;
    status = summary.status;
    name = summary.experiment;
    summarySource = "summary.json";
  } else {
    const parameters = (model: string) => {
      const c = configs.get(model);
      // The count needs only the widths, which the format has checked (the activation name is not needed).
      return c ? parameterCount(c as MlpConfig) : NaN;
    };
    rows = summarize(models.map((model) => ({ model, parameters: parameters(model) })), records);
  }
  const settings = config ? settingsTable(config) : undefined;
  return { dir, name, status, models, classes, records, rows, summarySource, settings };
}
