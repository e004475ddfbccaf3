// One schema (zod) for every flag the commands share: each flag is checked before any work starts,
// and a failure names the flag, what it must be, and what was given.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ACTIVATION_NAMES } from "../activations.js";
import { validateDataDir } from "../data/mnist.js";
import { InputError } from "../errors.js";
import { danglingLinkReason } from "../fsChecks.js";
import { unknownActivation } from "../model.js";

const text = (flag: string) => z.string({ error: `${flag} needs a value` });

export function positiveNumber(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value <= 0) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a positive finite number; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export function nonNegativeNumber(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value < 0) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a finite number ≥ 0; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export function finiteNumber(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a finite number; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export function positiveInteger(flag: string, max = 1_000_000_000) {
  return text(flag).transform((raw, ctx) => {
    const value = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || value < 1 || value > max) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a whole number from 1 to ${max}; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export function nonNegativeInteger(flag: string, max = 2 ** 32 - 1) {
  return text(flag).transform((raw, ctx) => {
    const value = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || value > max) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a whole number from 0 to ${max}; got "${raw}"` });
      return z.NEVER;
    }
    return value;
  });
}

export function integerList(flag: string, { min }: { min: number }) {
  return text(flag).transform((raw, ctx) => {
    const parts = raw.split(",").map((s) => s.trim());
    const values = parts.map(Number);
    if (parts.some((p) => !/^-?\d+$/.test(p)) || values.some((v) => v < min || !Number.isSafeInteger(v))) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a comma-separated list of whole numbers ≥ ${min}; got "${raw}"` });
      return z.NEVER;
    }
    if (new Set(values).size !== values.length) {
      ctx.addIssue({ code: "custom", message: `${flag} lists a value twice: "${raw}"` });
      return z.NEVER;
    }
    return values;
  });
}

/** "64" (one width for every hidden layer) or "128,64,32" (one per hidden layer; repeats allowed). */
export function widthList(flag: string) {
  return text(flag).transform((raw, ctx) => {
    const parts = raw.split(",").map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 1 << 20)) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a width from 1 to ${1 << 20} or a comma-separated list of them; got "${raw}"` });
      return z.NEVER;
    }
    return { widths: parts.map(Number), list: parts.length > 1 };
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
    return names;
  });
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

/** Parses commander's raw option values with a schema; any problem becomes one InputError. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new InputError(result.error.issues.map((issue) => issue.message).join("\n"));
  }
  return result.data;
}
