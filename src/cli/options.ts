// The parsers of flag values (zod schemas from raw text): each flag is checked before any work starts,
// and a failure names the flag, what it must be, and what was given. Which flag uses which parser is
// in the flag table (flagTable.ts).
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ACTIVATION_NAMES, type ActivationName } from "../activations.js";
import { validateDataDir } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { danglingLinkReason } from "../fsChecks.js";
import { editDistance, unknownActivation } from "../model.js";
import { OPTIMIZER_NAMES } from "../optim.js";
import { SEED_MAX } from "../train/settings.js";

/** The widest layer the engine builds (model.ts refuses wider). */
const MAX_WIDTH = 1 << 20;

const text = (flag: string) => z.string({ error: `${flag} needs a value` });

/**
 * The one grammar of every number flag: plain decimal with an optional sign, fraction and exponent.
 * Not what Number() takes: no hex ("0x10"), no surrounding spaces, no empty string, no "Infinity".
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Whole numbers: the same grammar without fraction or exponent, so every integer is also a decimal. */
const WHOLE = /^[+-]?\d+$/;

/** The value of a number flag, or undefined when the text is not in the grammar or not finite. */
export function readDecimal(raw: string): number | undefined {
  if (!DECIMAL.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value + 0 : undefined; // + 0: "-0" is 0
}

/** The value of a whole-number flag within [min, max], or undefined. */
export function readWhole(raw: string, min: number, max: number): number | undefined {
  if (!WHOLE.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value + 0 : undefined; // + 0: "-0" is 0
}

function decimal(flag: string, what: string, accept: (value: number) => boolean) {
  return text(flag).transform((raw, ctx) => {
    const value = readDecimal(raw);
    if (value === undefined || !accept(value)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be ${what}; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export const positiveNumber = (flag: string) => decimal(flag, "a positive finite number", (v) => v > 0);
export const nonNegativeNumber = (flag: string) => decimal(flag, "a finite number ≥ 0", (v) => v >= 0);
export const finiteNumber = (flag: string) => decimal(flag, "a finite number", () => true);

export function wholeNumber(flag: string, min: number, max: number, why = "") {
  return text(flag).transform((raw, ctx) => {
    const value = readWhole(raw, min, max);
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a whole number from ${min} to ${max}${why}; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export const positiveInteger = (flag: string, max = 1_000_000_000) => wholeNumber(flag, 1, max);

/** A seed: every seed flag has this one parser, so no two accepted seeds can stand for the same stream. */
export const seedNumber = (flag: string) => wholeNumber(flag, 0, SEED_MAX);

/**
 * Comma-separated seeds, each as seedNumber reads it (no spaces), none twice once read: "1,01" and
 * "1,1" would train the same model twice and report a spread of zero.
 */
export function seedList(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const values = raw.split(",").map((part) => readWhole(part, 0, SEED_MAX));
    if (values.some((v) => v === undefined)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a comma-separated list of whole numbers from 0 to ${SEED_MAX}; got "${raw}"` });
      return z.NEVER;
    }
    const seeds = values as number[];
    const twice = seeds.find((seed, i) => seeds.indexOf(seed) !== i);
    if (twice !== undefined) {
      ctx.addIssue({ code: "custom", message: `${flag} lists seed ${twice} twice (each seed trains the same model again): "${raw}"` });
      return z.NEVER;
    }
    return seeds;
  });
}

/** "64" (one width for every hidden layer) or "128,64,32" (one per hidden layer; repeats allowed). */
export function widthList(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const widths = raw.split(",").map((part) => readWhole(part, 1, MAX_WIDTH));
    if (widths.some((w) => w === undefined)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a width from 1 to ${MAX_WIDTH} or a comma-separated list of them; got "${raw}"` });
      return z.NEVER;
    }
    return widths.length === 1 ? widths[0]! : (widths as number[]);
  });
}

export function activationList(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const names = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (names.length === 0) {
      ctx.addIssue({ code: "custom", message: `${flag} needs at least one activation; valid names: ${ACTIVATION_NAMES.join(", ")}` });
      return z.NEVER;
    }
    for (const name of names) {
      if (!(ACTIVATION_NAMES as readonly string[]).includes(name)) {
        ctx.addIssue({ code: "custom", message: `${flag}: ${unknownActivation(name).message}` });
        return z.NEVER;
      }
    }
    if (new Set(names).size !== names.length) {
      ctx.addIssue({ code: "custom", message: `${flag} lists an activation twice: "${raw}"` });
      return z.NEVER;
    }
    return names as ActivationName[];
  });
}

/** Any text but the empty one (a host name, a file name). */
export function nonEmptyText(flag: string, what: string) {
  return text(flag).refine((raw) => raw.trim() !== "", { error: `${flag} needs ${what}` });
}

/**
 * Why `dir` cannot be created or written, or undefined when it can. Nothing is created: the nearest
 * existing ancestor decides (it must be a folder this process may write in).
 */
export function unwritableReason(dir: string): string | undefined {
  let path = resolve(dir);
  for (;;) {
    let isFolder: boolean;
    try {
      isFolder = statSync(path).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") return `${dirname(path)} is a file, not a folder`;
      if (code !== "ENOENT") return `${path} cannot be checked (${code})`;
      const dangling = danglingLinkReason(path);
      if (dangling) return dangling;
      const parent = dirname(path);
      if (parent === path) return `nothing of ${dir} exists`;
      path = parent;
      continue;
    }
    if (!isFolder) return `${path} is a file, not a folder`;
    try {
      accessSync(path, constants.W_OK);
    } catch {
      return `${path} is not writable`;
    }
    return undefined;
  }
}

/** A folder that exists or can be created, and can be written. */
export function writableDir(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const reason = raw.trim() === "" ? "it is empty" : unwritableReason(raw);
    if (reason) {
      ctx.addIssue({ code: "custom", message: `${flag} ${raw} cannot be written: ${reason}` });
      return z.NEVER;
    }
    return raw;
  });
}

/** A file to write: not a folder, in a folder that exists or can be created and written. */
export function outputFile(flag: string) {
  return text(flag).transform((raw, ctx) => {
    let reason: string | undefined;
    if (raw.trim() === "") reason = "it is empty";
    else if (isFolder(raw)) reason = `${raw} is a folder`;
    else reason = unwritableReason(dirname(resolve(raw)));
    if (reason) {
      ctx.addIssue({ code: "custom", message: `${flag} ${raw} cannot be written: ${reason}` });
      return z.NEVER;
    }
    return raw;
  });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // Missing, or under a file: unwritableReason says which.
  }
}

/** A folder in torchvision's raw MNIST layout (the four IDX files, raw or .gz). */
export function dataFolder(flag: string) {
  return text(flag).transform((raw, ctx) => {
    try {
      validateDataDir(raw);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      ctx.addIssue({ code: "custom", message: `${flag}: ${error.message}` });
      return z.NEVER;
    }
    return raw;
  });
}

/**
 * One name out of a closed list (an --init scheme, ...): anything else is refused with the closest
 * name and the whole list.
 */
export function choice<T extends string>(flag: string, names: readonly T[], what: string) {
  return text(flag).transform((raw, ctx): T => {
    if ((names as readonly string[]).includes(raw)) return raw as T;
    const closest = [...names].sort((a, b) => editDistance(raw, a) - editDistance(raw, b))[0];
    ctx.addIssue({ code: "custom", message: `${flag}: unknown ${what} "${raw}" (did you mean "${closest}"?); valid names: ${names.join(", ")}` });
    return z.NEVER;
  });
}

/** One of the optimiser table's names (optim.ts). */
export const optimizerName = (flag: string) => choice(flag, OPTIMIZER_NAMES, "optimiser");

/** Adam's "β1,β2", each in [0, 1) as torch.optim.Adam requires. */
export function betasPair(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const values = raw.split(",").map(readDecimal);
    if (values.length !== 2 || !values.every((v) => v !== undefined && v >= 0 && v < 1)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be two numbers in [0, 1) separated by a comma, such as 0.9,0.999; got "${raw}"` });
      return z.NEVER;
    }
    return values as [number, number];
  });
}
