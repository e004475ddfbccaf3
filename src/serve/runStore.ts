// What the dashboard knows about the runs in a log directory, read from the run folders' own files
// and cached by file size and modification time, so a page polling every few seconds costs a few
// stat calls while nothing changes. Reading is forgiving where writing is strict: a bad metrics line
// or an unreadable file becomes a warning and is skipped, never a failed answer.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { basename, join } from "node:path";
import type { MetricsRecord, RunListing } from "./apiTypes.js";
import { HttpError, nameSegments, resolveInside } from "./safePath.js";
import { walkFiles } from "./walkFiles.js";

/** Folders deeper than this below the log directory are not searched for runs. */
const MAX_RUN_DEPTH = 6;

interface Parsed<T> {
  value: T;
  warnings: string[];
}

function statKey(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/** Parses metrics.jsonl leniently: a malformed or incomplete line is skipped with a warning naming it. */
export function parseMetricsLines(text: string, source: string): Parsed<MetricsRecord[]> {
  const lines = text.split("\n");
  // A last line without its newline is an append in progress (or cut short by a crash): not yet a record.
  lines.pop();
  const records: MetricsRecord[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warnings.push(`${source}: line ${i + 1} is not valid JSON; skipped`);
      return;
    }
    const r = value as Partial<MetricsRecord> | null;
    if (
      r === null || typeof r !== "object" || typeof r.model !== "string" || typeof r.seed !== "number"
      || typeof r.epoch !== "number"
    ) {
      warnings.push(`${source}: line ${i + 1} is not a metrics record (model, seed, epoch); skipped`);
      return;
    }
    records.push(r as MetricsRecord);
  });
  return { value: records, warnings };
}

export interface RunConfig {
  name?: string;
  models?: { model: string; config?: { hiddenSizes?: number[]; activation?: string; leakySlope?: number } }[];
  seeds?: number[];
}

export class RunStore {
  private readonly textCache = new Map<string, { key: string; parsed: Parsed<unknown> }>();

  /** `root` must be a real path (symlinks resolved). */
  constructor(readonly root: string) {}

  /** The folder of run `name` ("a" or "a/b"), checked to lie inside the log directory and to be a run. */
  runDir(name: string): string {
    const dir = resolveInside(this.root, nameSegments(name));
    if (!existsSync(join(dir, "metrics.jsonl"))) throw new HttpError(404, `no run ${JSON.stringify(name)} (no metrics.jsonl there)`);
    return dir;
  }

  /** Every folder below the log directory holding a metrics.jsonl, by name. Symlinks are not followed. */
  runNames(): { names: string[]; warnings: string[] } {
    const names: string[] = [];
    const warnings: string[] = [];
    const walk = (dir: string, prefix: string[], depth: number): void => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (error) {
        warnings.push(`cannot list ${prefix.join("/") || "."}: ${(error as Error).message}`);
        return;
      }
      if (entries.some((e) => e.isFile() && e.name === "metrics.jsonl") && prefix.length > 0) names.push(prefix.join("/"));
      if (depth >= MAX_RUN_DEPTH) return;
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith(".")) walk(join(dir, entry.name), [...prefix, entry.name], depth + 1);
      }
    };
    walk(this.root, [], 0);
    names.sort();
    return { names, warnings };
  }

  private cached<T>(path: string, parse: (text: string) => Parsed<T>): Parsed<T> {
    const key = statKey(statSync(path));
    const hit = this.textCache.get(path);
    if (hit && hit.key === key) return hit.parsed as Parsed<T>;
    const parsed = parse(readFileSync(path, "utf8"));
    this.textCache.set(path, { key, parsed });
    return parsed;
  }

  metrics(dir: string, name: string): Parsed<MetricsRecord[]> {
    const path = join(dir, "metrics.jsonl");
    try {
      return this.cached(path, (text) => parseMetricsLines(text, `${name}/metrics.jsonl`));
    } catch (error) {
      return { value: [], warnings: [`${name}/metrics.jsonl cannot be read: ${(error as Error).message}`] };
    }
  }

  /** A JSON file of the run (config.json, summary.json): null with a warning when unreadable, null alone when absent. */
  jsonFile(dir: string, name: string, file: string): Parsed<unknown> {
    const path = join(dir, file);
    if (!existsSync(path)) return { value: null, warnings: [] };
    try {
      return this.cached(path, (text) => {
        try {
          return { value: JSON.parse(text), warnings: [] };
        } catch (error) {
          return { value: null, warnings: [`${name}/${file} is not valid JSON (${(error as Error).message}); skipped`] };
        }
      });
    } catch (error) {
      return { value: null, warnings: [`${name}/${file} cannot be read: ${(error as Error).message}`] };
    }
  }

  config(dir: string, name: string): Parsed<RunConfig | null> {
    const parsed = this.jsonFile(dir, name, "config.json");
    const value = parsed.value;
    if (value !== null && (typeof value !== "object" || Array.isArray(value))) {
      return { value: null, warnings: [...parsed.warnings, `${name}/config.json is not an object; skipped`] };
    }
    return parsed as Parsed<RunConfig | null>;
  }

  /** The models and seeds of a run: config.json's, completed by whatever metrics.jsonl records. */
  modelsAndSeeds(config: RunConfig | null, records: MetricsRecord[]): { models: string[]; seeds: number[] } {
    const models: string[] = [];
    const seeds: number[] = [];
    const add = <T>(list: T[], v: T) => { if (!list.includes(v)) list.push(v); };
    if (Array.isArray(config?.models)) for (const m of config.models) if (typeof m?.model === "string") add(models, m.model);
    if (Array.isArray(config?.seeds)) for (const s of config.seeds) if (typeof s === "number") add(seeds, s);
    for (const r of records) {
      add(models, r.model);
      add(seeds, r.seed);
    }
    seeds.sort((a, b) => a - b);
    return { models, seeds };
  }

  /** Sizes and times of every file a run's answers depend on: equal versions, equal answers. */
  version(dir: string): string {
    const parts: string[] = [];
    const tracked = (name: string) => name.includes("tfevents") || name.endsWith(".json") || name === "metrics.jsonl";
    for (const path of walkFiles(dir, 3, tracked)) {
      try {
        const s = statSync(path);
        parts.push(`${basename(path)}:${s.size}:${Math.round(s.mtimeMs)}`);
      } catch {
        // Removed between listing and stat: it no longer counts.
      }
    }
    if (existsSync(join(dir, ".lock"))) parts.push("locked");
    return createHash("sha1").update(parts.sort().join("|")).digest("hex").slice(0, 16);
  }

  listing(name: string): RunListing {
    const dir = this.runDir(name);
    const metrics = this.metrics(dir, name);
    const config = this.config(dir, name);
    const summary = this.jsonFile(dir, name, "summary.json");
    const { models, seeds } = this.modelsAndSeeds(config.value, metrics.value);
    const epochs = metrics.value.reduce((m, r) => Math.max(m, r.epoch), 0);
    const layers = metrics.value.reduce((m, r) => Math.max(m, r.diagnostics?.layers?.length ?? 0), 0);
    const summaryStatus = (summary.value as { status?: unknown } | null)?.status;
    const status: RunListing["status"] = existsSync(join(dir, ".lock"))
      ? "training"
      : summaryStatus === "finished" || summaryStatus === "interrupted" ? summaryStatus : "incomplete";
    return {
      name, experiment: typeof config.value?.name === "string" ? config.value.name : null, models, seeds, epochs, layers, status,
      version: this.version(dir), warnings: [...metrics.warnings, ...config.warnings, ...summary.warnings],
    };
  }
}
