// What the dashboard knows about the sweeps in a log directory: every folder holding a sweep.json
// (the served folder itself included, named "."), and for one sweep its trials' states, the
// analysis of its trials.jsonl and the report's own chart specs, so the page draws the same charts
// as `actlab report`. Forgiving as the run store is: a file that is too large, unreadable or not of
// its format (sweepFormat's schemas) becomes a warning; a bad trials.jsonl line is skipped and named.
import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { analyzeSweep } from "../report/sweepAnalysis.js";
import { sweepChartSpecs } from "../report/sweepCharts.js";
import { check, MAX_WARNINGS_PER_FILE } from "../runFormat.js";
import { SWEEP_FILE, sweepFileSchema, TRIALS_FILE, trialRowSchema, type SweepFileJson, type TrialRowJson } from "../sweepFormat.js";
import { HttpError, nameSegments, resolveInside } from "./safePath.js";

/** Folders deeper than this below the log directory are not searched for sweeps (as for runs). */
const MAX_SWEEP_DEPTH = 6;
/** The largest sweep.json or trials.jsonl the dashboard reads (a 100,000-trial sweep is far below). */
export const MAX_SWEEP_FILE_BYTES = 64 * 1024 * 1024;
/** The most sweeps one listing names. */
export const MAX_SWEEPS = 200;

export interface SweepListing {
  /** The sweep folder relative to the log directory ("." for the folder served). */
  name: string;
  title: string;
  trials: number;
  states: Record<string, number>;
  /** Changes whenever sweep.json or trials.jsonl does: the page redraws then. */
  version: string;
}

export interface SweepAnswer extends SweepListing {
  sentences: string[];
  charts: Array<{ id: string; title: string; spec: unknown }>;
  /** Each trial's id and state, in grid order. */
  trialStates: Array<{ id: string; state: string }>;
  jobsDone: number;
  jobsTotal: number;
  warnings: string[];
}

function statKey(stats: Stats | undefined): string {
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : "-";
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function readCapped(path: string, label: string, warnings: string[]): string | undefined {
  const stats = statOrUndefined(path);
  if (!stats) return undefined;
  if (!stats.isFile()) {
    warnings.push(`${label} is not a regular file; skipped`);
    return undefined;
  }
  if (stats.size > MAX_SWEEP_FILE_BYTES) {
    warnings.push(`${label} is ${stats.size} bytes, over the dashboard's ${MAX_SWEEP_FILE_BYTES}; skipped`);
    return undefined;
  }
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    warnings.push(`${label} cannot be read: ${(error as Error).message}`);
    return undefined;
  }
}

export class SweepStore {
  private readonly cache = new Map<string, { key: string; answer: SweepAnswer }>();

  /** `root` must be a real path (symlinks resolved). */
  constructor(readonly root: string) {}

  /** Every folder (at most MAX_SWEEP_DEPTH down, no symlinks, no hidden folders) with a sweep.json. */
  names(): string[] {
    const names: string[] = [];
    const walk = (dir: string, prefix: string[], depth: number): void => {
      if (names.length >= MAX_SWEEPS) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.isFile() && e.name === SWEEP_FILE)) names.push(prefix.length === 0 ? "." : prefix.join("/"));
      if (depth >= MAX_SWEEP_DEPTH) return;
      for (const entry of entries) if (entry.isDirectory() && !entry.name.startsWith(".")) walk(join(dir, entry.name), [...prefix, entry.name], depth + 1);
    };
    walk(this.root, [], 0);
    return names.sort();
  }

  private dir(name: string): string {
    const dir = name === "." ? this.root : resolveInside(this.root, nameSegments(name));
    if (!statOrUndefined(join(dir, SWEEP_FILE))?.isFile()) throw new HttpError(404, `no sweep ${JSON.stringify(name)} (no ${SWEEP_FILE} there)`);
    return dir;
  }

  listing(name: string): SweepListing {
    const { sentences: _s, charts: _c, trialStates: _t, warnings: _w, jobsDone: _d, jobsTotal: _j, ...listing } = this.sweep(name);
    return listing;
  }

  /** One sweep's answer, recomputed only when its files change. */
  sweep(name: string): SweepAnswer {
    const dir = this.dir(name);
    const key = `${statKey(statOrUndefined(join(dir, SWEEP_FILE)))}/${statKey(statOrUndefined(join(dir, TRIALS_FILE)))}`;
    const hit = this.cache.get(dir);
    if (hit && hit.key === key) return hit.answer;
    const answer = this.compute(name, dir, key);
    this.cache.set(dir, { key, answer });
    return answer;
  }

  private compute(name: string, dir: string, version: string): SweepAnswer {
    const warnings: string[] = [];
    const label = (file: string) => (name === "." ? file : `${name}/${file}`);
    const empty: SweepAnswer = { name, title: name, trials: 0, states: {}, version, sentences: [], charts: [], trialStates: [], jobsDone: 0, jobsTotal: 0, warnings };
    const text = readCapped(join(dir, SWEEP_FILE), label(SWEEP_FILE), warnings);
    if (text === undefined) return empty;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      warnings.push(`${label(SWEEP_FILE)} is not valid JSON (${(error as Error).message}); skipped`);
      return empty;
    }
    const checked = check(sweepFileSchema, value);
    if (!checked.ok) {
      warnings.push(`${label(SWEEP_FILE)} is not a valid sweep file (${checked.problem}); skipped`);
      return empty;
    }
    const sweep = value as SweepFileJson;
    const rows: TrialRowJson[] = [];
    const lines = (readCapped(join(dir, TRIALS_FILE), label(TRIALS_FILE), warnings) ?? "").split("\n");
    lines.pop(); // an append in progress, or the empty text after the last newline
    let skipped = 0;
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        row = undefined;
      }
      const result = check(trialRowSchema, row);
      if (result.ok) rows.push(row as TrialRowJson);
      else if (++skipped <= MAX_WARNINGS_PER_FILE) warnings.push(`${label(TRIALS_FILE)}: line ${i + 1} is not a valid trial row${result.ok ? "" : ` (${result.problem})`}; skipped`);
    });
    if (skipped > MAX_WARNINGS_PER_FILE) warnings.push(`${label(TRIALS_FILE)}: ${skipped - MAX_WARNINGS_PER_FILE} more lines skipped`);
    const analysis = analyzeSweep(checked.value.grid, rows);
    const states: Record<string, number> = {};
    for (const trial of sweep.trials) states[trial.state] = (states[trial.state] ?? 0) + 1;
    return {
      name, title: sweep.name, trials: sweep.trials.length, states, version,
      sentences: analysis.sentences,
      charts: analysis.points.length > 0 ? sweepChartSpecs(analysis).map(({ id, title, spec }) => ({ id, title, spec })) : [],
      trialStates: sweep.trials.map((t) => ({ id: t.id, state: t.state })),
      jobsDone: rows.length, jobsTotal: sweep.trials.length * sweep.grid.seeds.length, warnings,
    };
  }
}
