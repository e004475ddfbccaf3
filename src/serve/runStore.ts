// What the dashboard knows about the runs in a log directory, read from the run folders' own files
// and cached by file size and modification time, so a page polling every few seconds costs a few
// stat calls while nothing changes. Reading is forgiving where writing is strict: a file or metrics
// line that is unreadable, not JSON, or not of its format (runFormat's schemas) becomes a warning and
// is skipped, never a failed answer, and never a value the page would trip over.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { basename, join } from "node:path";
import {
  check, isRunJsonFileName, JSON_FILE_SCHEMAS, parseMetricsTextLenient, type MetricsRecordJson, type RunConfigJson, type SummaryJson,
} from "../runFormat.js";
import { isLockHeld } from "../train/runLock.js";
import type { RunListing } from "./apiTypes.js";
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

/** Parses metrics.jsonl leniently: a malformed, incomplete or wrong-shape line is skipped with a warning naming it. */
export function parseMetricsLines(text: string, source: string): Parsed<MetricsRecordJson[]> {
  const { records, warnings } = parseMetricsTextLenient(text, source);
  return { value: records, warnings };
}

/** config.json as the dashboard sends it: checked against its format, as written. */
export type RunConfig = RunConfigJson;

export class RunStore {
  private readonly textCache = new Map<string, { key: string; parsed: Parsed<unknown> }>();

  /**
   * When the folder served is itself a run (it holds a metrics.jsonl), it is shown as a log folder
   * of that one run, named after the folder.
   */
  private readonly singleRun: string | undefined;

  /** `root` must be a real path (symlinks resolved). */
  constructor(readonly root: string) {
    this.singleRun = existsSync(join(root, "metrics.jsonl")) ? basename(root) || "run" : undefined;
  }

  /** The folder of run `name` ("a" or "a/b"), checked to lie inside the log directory and to be a run. */
  runDir(name: string): string {
    if (this.singleRun !== undefined) {
      if (name !== this.singleRun) throw new HttpError(404, `no run ${JSON.stringify(name)}: this dashboard serves the one run ${JSON.stringify(this.singleRun)}`);
      return this.root;
    }
    const dir = resolveInside(this.root, nameSegments(name));
    if (!existsSync(join(dir, "metrics.jsonl"))) throw new HttpError(404, `no run ${JSON.stringify(name)} (no metrics.jsonl there)`);
    return dir;
  }

  /** Every folder below the log directory holding a metrics.jsonl, by name. Symlinks are not followed. */
  runNames(): { names: string[]; warnings: string[] } {
    if (this.singleRun !== undefined) return { names: [this.singleRun], warnings: [] };
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

  metrics(dir: string, name: string): Parsed<MetricsRecordJson[]> {
    const path = join(dir, "metrics.jsonl");
    try {
      return this.cached(path, (text) => parseMetricsLines(text, `${name}/metrics.jsonl`));
    } catch (error) {
      return { value: [], warnings: [`${name}/metrics.jsonl cannot be read: ${(error as Error).message}`] };
    }
  }

  /**
   * A JSON file of the run (config.json, summary.json, jobs.json), checked against its format and
   * sent as written: null with a warning when unreadable, not JSON or not of its format; null alone
   * when absent.
   */
  jsonFile(dir: string, name: string, file: string): Parsed<unknown> {
    const path = join(dir, file);
    if (!existsSync(path)) return { value: null, warnings: [] };
    const format = isRunJsonFileName(file) ? JSON_FILE_SCHEMAS[file] : undefined;
    try {
      return this.cached(path, (text): Parsed<unknown> => {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          return { value: null, warnings: [`${name}/${file} is not valid JSON (${(error as Error).message}); skipped`] };
        }
        if (format) {
          const result = check(format.schema, value);
          if (!result.ok) return { value: null, warnings: [`${name}/${file} is not a valid ${format.what} (${result.problem}); skipped`] };
        }
        return { value, warnings: [] };
      });
    } catch (error) {
      return { value: null, warnings: [`${name}/${file} cannot be read: ${(error as Error).message}`] };
    }
  }

  config(dir: string, name: string): Parsed<RunConfig | null> {
    return this.jsonFile(dir, name, "config.json") as Parsed<RunConfig | null>;
  }

  summary(dir: string, name: string): Parsed<SummaryJson | null> {
    return this.jsonFile(dir, name, "summary.json") as Parsed<SummaryJson | null>;
  }

  /** The models and seeds of a run: config.json's, completed by whatever metrics.jsonl records. */
  modelsAndSeeds(config: RunConfig | null, records: MetricsRecordJson[]): { models: string[]; seeds: number[] } {
    const models: string[] = [];
    const seeds: number[] = [];
    const add = <T>(list: T[], v: T) => { if (!list.includes(v)) list.push(v); };
    for (const m of config?.models ?? []) add(models, m.model);
    for (const s of config?.seeds ?? []) add(seeds, s);
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
    if (isLockHeld(dir)) parts.push("locked");
    return createHash("sha1").update(parts.sort().join("|")).digest("hex").slice(0, 16);
  }

  listing(name: string): RunListing {
    const dir = this.runDir(name);
    const metrics = this.metrics(dir, name);
    const config = this.config(dir, name);
    const summary = this.summary(dir, name);
    const { models, seeds } = this.modelsAndSeeds(config.value, metrics.value);
    const epochs = metrics.value.reduce((m, r) => Math.max(m, r.epoch), 0);
    const layers = metrics.value.reduce((m, r) => Math.max(m, r.diagnostics?.layers?.length ?? 0), 0);
    // A lock left by a killed writer is no sign of training: the lock's own rule decides (runLock).
    const status: RunListing["status"] = isLockHeld(dir) ? "training" : summary.value?.status ?? "incomplete";
    return {
      name, experiment: config.value?.name ?? null, models, seeds, epochs, layers, status,
      version: this.version(dir), warnings: [...metrics.warnings, ...config.warnings, ...summary.warnings],
    };
  }
}
