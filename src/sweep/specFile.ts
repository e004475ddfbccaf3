// A sweep's grid from a YAML or JSON file. Its keys are the flags' names without "--" and its values
// what the flags take: one value, a comma list in a string, or a list (for --hidden, a nested list is
// one net's per-layer widths). Each value becomes the text the flag's parser reads, so a file and the
// command line cannot disagree about what a value means.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { InputError } from "../errors.js";
import { editDistance } from "../model.js";
import { SPEC_NAMES, type RawGrid } from "./grid.js";

type Scalar = string | number;

function scalarText(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string") return value;
  return undefined;
}

export function parseSpecText(text: string, source: string): RawGrid {
  const ext = extname(source).toLowerCase();
  let value: unknown;
  try {
    if (ext === ".json") value = JSON.parse(text);
    else if (ext === ".yaml" || ext === ".yml") value = parseYaml(text);
    else throw new InputError(`--spec ${source}: give a .yaml, .yml or .json file`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`--spec ${source} is not valid ${ext === ".json" ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError(`--spec ${source} must hold a mapping of flag names to values (such as lr: [0.01, 0.1])`);
  }
  const problems: string[] = [];
  const grid: RawGrid = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const origin = `${source}: ${key}`;
    if (!SPEC_NAMES.includes(key)) {
      const closest = [...SPEC_NAMES].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
      problems.push(`${origin}: not a sweep setting (did you mean "${closest}"?); valid names: ${SPEC_NAMES.join(", ")}`);
      continue;
    }
    const single = scalarText(item);
    if (single !== undefined) {
      grid[key] = { texts: key === "seeds" ? [single] : single.split(","), origin };
      continue;
    }
    if (!Array.isArray(item)) {
      problems.push(`${origin} must be a value or a list of values; got ${JSON.stringify(item)}`);
      continue;
    }
    const texts: string[] = [];
    for (const element of item as unknown[]) {
      // A nested list is one value made of several numbers (per-layer widths): the flag's own comma form.
      const text = Array.isArray(element) && element.every((e) => scalarText(e) !== undefined)
        ? (element as Scalar[]).map(String).join(",")
        : scalarText(element);
      if (text === undefined) problems.push(`${origin} holds ${JSON.stringify(element)}, which is not a value`);
      else texts.push(text);
    }
    grid[key] = { texts: key === "seeds" ? [texts.join(",")] : texts, origin };
  }
  if (problems.length > 0) throw new InputError(problems.join("\n"));
  return grid;
}

export function readSpecFile(path: string): RawGrid {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(`--spec ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseSpecText(text, path);
}
