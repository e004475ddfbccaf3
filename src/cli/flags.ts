// How a flag is declared, and how one declaration drives everything about it: the commander option
// (name, placeholder, help, shown default), the check of its value, its typed default, and whether
// --resume refuses it. The flags themselves are in flagTable.ts; commands pick theirs from there.
import { Option, type Command } from "commander";
import { z } from "zod";
import { InputError } from "../errors.js";

export interface Flag<T> {
  /** As the user types it: "--batch-size". Commander's key for it is the camelCase ("batchSize"). */
  name: `--${string}`;
  /** The value's placeholder: "<n>", "<dirs...>" (several values); none for a switch. */
  arg?: string;
  help: string;
  /** Reads the raw text into the value; its messages name the flag (passed in) and what was given. */
  parser: (name: string) => z.ZodType<T>;
  /** The typed default, defined nowhere else; none: the flag is optional and undefined when absent. */
  default?: T;
  /** Shows the default as the text the parser would read back (default: String). */
  show?(value: T): string;
  /**
   * A run setting: it decides what is trained, so it is recorded in config.json and --resume,
   * which takes every setting from there, refuses it.
   */
  setting: boolean;
  /** Whether a sweep may give it a list of values, one trial each (the flag is a training knob). */
  list: boolean;
}

/** Declares a flag; the overloads keep whether it has a default in its type. */
export function flag<T>(spec: Flag<T> & { default: T }): Flag<T> & { default: T };
export function flag<T>(spec: Flag<T>): Flag<T>;
export function flag<T>(spec: Flag<T>): Flag<T> {
  return spec;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FlagSet = Record<string, Flag<any>>;

/** The parsed values of a set of flags: the flag's type, or also undefined when it has no default. */
export type FlagValues<S extends FlagSet> = {
  [K in keyof S]: S[K] extends { default: infer T } ? T : S[K] extends Flag<infer T> ? T | undefined : never;
};

function option<T>(f: Flag<T>): Option {
  const option = new Option(f.arg ? `${f.name} ${f.arg}` : f.name, f.help);
  // Commander holds raw text, so the default is shown as text; the typed default is what parsing gives.
  if (f.default !== undefined) option.default((f.show ?? String)(f.default));
  return option;
}

/** Commander's key for a flag: "--batch-size" → "batchSize". */
export function attributeName(f: Flag<unknown>): string {
  return new Option(f.name).attributeName();
}

/** Adds the flags of a set to a command, in the set's order. */
export function addFlags(command: Command, set: FlagSet): Command {
  for (const f of Object.values(set)) command.addOption(option(f));
  return command;
}

/** The keys of the flags that were typed on the command line (not defaults). */
export function givenFlags<S extends FlagSet>(command: Command, set: S): Array<keyof S & string> {
  return Object.keys(set).filter((key) => command.getOptionValueSource(attributeName(set[key])) === "cli");
}

/**
 * Parses every flag of `set` from `command`'s raw values. Every problem is gathered, one line each:
 * `early` (checks that need only which flags were given), each bad value, then, once every value is
 * good, `crossCheck`'s; any problem throws one InputError before any work starts.
 */
export function parseFlags<S extends FlagSet>(
  command: Command, set: S, crossCheck?: (values: FlagValues<S>) => string[], early: string[] = [],
): FlagValues<S> {
  const raw = command.opts();
  const shape: Record<string, z.ZodType> = {};
  const input: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(set)) {
    shape[key] = f.default === undefined ? f.parser(f.name).optional() : f.parser(f.name);
    input[key] = raw[attributeName(f)];
  }
  const result = z.object(shape).safeParse(input);
  const problems = [...early];
  if (result.success) problems.push(...(crossCheck?.(result.data as FlagValues<S>) ?? []));
  else problems.push(...result.error.issues.map((issue) => issue.message));
  if (problems.length > 0) throw new InputError(problems.join("\n"));
  return result.data as FlagValues<S>;
}

/**
 * The refusal of settings typed together with --resume: they would be silently ignored (the run
 * continues with the settings it started with) or, if obeyed, break the promise that a resumed run
 * ends as the uninterrupted one would. Empty when --resume is absent or no setting was typed.
 */
export function resumeConflicts(command: Command, set: FlagSet, resumeKey = "resume"): string[] {
  const given = givenFlags(command, set);
  if (!given.includes(resumeKey)) return [];
  const settings = given.filter((key) => set[key].setting).map((key) => set[key].name);
  if (settings.length === 0) return [];
  return [`--resume continues a run with the settings in its config.json; drop ${settings.join(", ")} (or start a new run in another --logdir)`];
}
