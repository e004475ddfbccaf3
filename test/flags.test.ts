// The flag table and its parsers, in process: one number grammar, one seed range, every default
// readable by its own parser, every run setting refused with --resume, and the small pieces the CLI
// prints (params table, shell-quoted commands, default run folders).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Command } from "commander";
import { DEFAULT_LEAKY_SLOPE } from "../src/activations.js";
import { distinctFolders } from "../src/cli/commands/run.js";
import { formatParamsTable } from "../src/cli/commands/params.js";
import { registerExperiment, EXPERIMENT_FLAGS } from "../src/cli/commands/experiment.js";
import { registerTrain, TRAIN_FLAGS } from "../src/cli/commands/train.js";
import { defaultRunDir } from "../src/cli/commands/trainingFlags.js";
import { attributeName, type Flag } from "../src/cli/flags.js";
import * as TABLE from "../src/cli/flagTable.js";
import { finiteNumber, positiveInteger, positiveNumber, seedList, seedNumber } from "../src/cli/options.js";
import { shellCommand } from "../src/cli/shellQuote.js";
import { InputError } from "../src/errors.js";
import { DEFAULT_HIDDEN_SIZE, DEFAULT_NUM_HIDDEN_LAYERS } from "../src/model.js";
import { PLOT_DEFAULTS } from "../src/plot/plotDefaults.js";
import { KNOBS, resolveHyper, type Knob } from "../src/optim.js";
import { DEFAULT_SETTINGS, SEED_MAX } from "../src/train/settings.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("flags");
after(() => scratch.remove());

const accepts = (schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown } }, raw: string) => {
  const result = schema.safeParse(raw);
  return result.success ? result.data : undefined;
};

describe("one number grammar", () => {
  // Number() takes all of these; a flag must not.
  const NOT_NUMBERS = ["0x10", "0b1", "0o7", " 5", "5 ", "  5 ", "", " ", "Infinity", "-Infinity", "NaN", "1e999", "1_000", "+", "-", ".", "1e", "e3", "5,", "１"];

  test("floats: plain decimal with sign, fraction and exponent; nothing else", () => {
    const cases: Array<[string, number]> = [["5", 5], ["-5", -5], ["+5", 5], ["0.5", 0.5], [".5", 0.5], ["5.", 5], ["1e-3", 0.001], ["1E+3", 1000], ["-0", 0]];
    for (const [raw, value] of cases) assert.equal(accepts(finiteNumber("--x"), raw), value, raw);
    for (const raw of NOT_NUMBERS) assert.equal(accepts(finiteNumber("--x"), raw), undefined, JSON.stringify(raw));
  });

  test("integers: the same grammar without fraction or exponent", () => {
    for (const [raw, value] of [["5", 5], ["+5", 5], ["007", 7]] as const) assert.equal(accepts(positiveInteger("--n"), raw), value, raw);
    for (const raw of [...NOT_NUMBERS, "5.0", "1e3", "1.5", "0", "-1"]) assert.equal(accepts(positiveInteger("--n"), raw), undefined, JSON.stringify(raw));
  });

  test("ranges hold after reading: positive means > 0", () => {
    assert.equal(accepts(positiveNumber("--lr"), "0"), undefined);
    assert.equal(accepts(positiveNumber("--lr"), "-0.0"), undefined);
    assert.equal(accepts(positiveNumber("--lr"), "1e-300"), 1e-300);
  });
});

describe("one seed range and parser", () => {
  test("a seed lies in [0, 2^32 − 1], which the generator tells apart", () => {
    assert.equal(SEED_MAX, 4294967295);
    assert.equal(accepts(seedNumber("--seed"), "0"), 0);
    assert.equal(accepts(seedNumber("--seed"), "4294967295"), 4294967295);
    for (const raw of ["4294967296", "-1", "1e3", "0x1", "1.0", "18446744073709551616"]) assert.equal(accepts(seedNumber("--seed"), raw), undefined, raw);
  });

  test("a list: each seed as --seed reads it, none twice once read", () => {
    assert.deepEqual(accepts(seedList("--seeds"), "0,1,4294967295"), [0, 1, 4294967295]);
    for (const raw of ["0,4294967296", "0,-1", "0, 1", "0,,1", "", "0,1,"]) assert.equal(accepts(seedList("--seeds"), raw), undefined, raw);
    for (const raw of ["1,1", "1,01", "1,+1", "5,-0,0"]) {
      const result = seedList("--seeds").safeParse(raw);
      assert.equal(result.success, false, raw);
      assert.match(result.error!.issues[0].message, /lists seed \d+ twice/, raw);
    }
  });

  test("--seed and --seeds share the parser's range; experiment takes the same flags", () => {
    assert.equal(EXPERIMENT_FLAGS.seeds, TRAIN_FLAGS.seeds);
    assert.equal(EXPERIMENT_FLAGS.seed, TRAIN_FLAGS.seed);
    assert.equal(accepts(TRAIN_FLAGS.seed.parser("--seed"), String(SEED_MAX + 1)), undefined);
  });
});

describe("the flag table", () => {
  const groups = Object.entries(TABLE) as Array<[string, Record<string, Flag<unknown>>]>;

  test("each default reads back through its own parser as itself", () => {
    for (const [group, flags] of groups) {
      for (const [key, f] of Object.entries(flags)) {
        assert.equal(attributeName(f), key, `${group}.${key}: the key is commander's name for ${f.name}`);
        if (f.default === undefined) continue;
        const shown = (f.show ?? String)(f.default);
        assert.deepEqual(f.parser(f.name).parse(shown), f.default, `${group}.${key}: default ${shown}`);
      }
    }
  });

  test("defaults come from their owners", () => {
    assert.equal(TABLE.TRAINING.leakySlope.default, DEFAULT_LEAKY_SLOPE);
    assert.equal(TABLE.SHAPE.layers.default, DEFAULT_NUM_HIDDEN_LAYERS);
    assert.equal(TABLE.SHAPE.hidden.default, DEFAULT_HIDDEN_SIZE);
    assert.equal(TABLE.PLOT.points.default, PLOT_DEFAULTS.points);
    for (const key of Object.keys(DEFAULT_SETTINGS) as Array<keyof typeof DEFAULT_SETTINGS>) {
      // The optimiser's knobs have no flag default: the optimiser table gives each optimiser its own.
      if (key in KNOBS) assert.equal(TABLE.TRAINING[key].default, undefined, key);
      else assert.equal(TABLE.TRAINING[key].default, DEFAULT_SETTINGS[key], key);
    }
    assert.deepEqual(resolveHyper(DEFAULT_SETTINGS.optimizer), Object.fromEntries(Object.keys(KNOBS).map((k) => [k, DEFAULT_SETTINGS[k as Knob]])));
  });

  async function refusal(register: (program: Command, exit: (code: number) => void) => void, args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    register(program, () => assert.fail("no command may run"));
    program.commands.forEach((c) => c.exitOverride());
    try {
      await program.parseAsync(args, { from: "user" });
    } catch (error) {
      assert.ok(error instanceof InputError, String(error));
      return error.message;
    }
    return assert.fail(`${args.join(" ")} was accepted`);
  }

  /** Every run setting of a set typed on the command line, with valid values. */
  function everySetting(flags: Record<string, Flag<unknown>>, skip: string[] = []): string[] {
    const values: Record<string, string> = { activations: "relu", seed: "1", trainLimit: "10", logdir: join(scratch.path, "elsewhere") };
    return Object.entries(flags).filter(([key, f]) => f.setting && !skip.includes(key))
      .flatMap(([key, f]) => f.arg ? [f.name, values[key] ?? (f.show ?? String)(f.default)] : [f.name]);
  }

  test("--resume refuses every run setting, typed even at its default, and names each", async () => {
    for (const [register, flags, command] of [[registerTrain, TRAIN_FLAGS, "train"], [registerExperiment, EXPERIMENT_FLAGS, "experiment"]] as const) {
      const settings = Object.values(flags as Record<string, Flag<unknown>>).filter((f) => f.setting).map((f) => f.name);
      assert.ok(settings.length >= 12, `${command}: ${settings.join(" ")}`);
      const message = await refusal(register, [command, "--resume", scratch.path, ...everySetting(flags, ["seed"])]);
      const dropped = /drop (.*) \(or start a new run/.exec(message)?.[1];
      assert.deepEqual(dropped?.split(", ").sort(), settings.filter((name) => name !== "--seed").sort(), message);
    }
  });

  test("what is not a run setting goes with --resume", async () => {
    const message = await refusal(registerTrain, ["train", "--resume", scratch.path, "--workers", "1", "--fail-on-divergence", "--data", join(scratch.path, "nope")]);
    assert.match(message, /^--data: data folder .*nope: does not exist$/);
  });

  test("--seed with --seeds is refused, even when each is valid", async () => {
    for (const [register, command] of [[registerTrain, "train"], [registerExperiment, "experiment"]] as const) {
      const message = await refusal(register, [command, "shallow", "--seeds", "0,1,2", "--seed", "5"].filter((a) => command === "experiment" || a !== "shallow"));
      assert.equal(message, "--seed and --seeds both choose the seeds; pass one of them (--seeds 0,1,2 or --seed 5)");
    }
  });

  test("every bad flag at once, one line each", async () => {
    const message = await refusal(registerTrain, ["train", "--lr", "1e", "--epochs", "3.0", "--seeds", "1,1", "--hidden", "0x40"]);
    assert.equal(message.split("\n").length, 4, message);
  });
});

describe("what the CLI prints", () => {
  test("params: columns stay apart and aligned at any width", () => {
    const layers = [
      { name: "layers.0", in: 784, out: 1048576, parameters: 784 * 1048576 + 1048576 },
      { name: "layers.2", in: 1048576, out: 1048576, parameters: 1048576 * 1048576 + 1048576 },
      { name: "layers.4", in: 1048576, out: 10, parameters: 10485770 },
    ];
    const lines = formatParamsTable(layers, layers.reduce((sum, l) => sum + l.parameters, 0)).split("\n");
    assert.equal(lines.length, 4);
    for (const line of lines) assert.equal(line.length, lines[0].length, `right-aligned counts:\n${lines.join("\n")}`);
    for (const line of lines.slice(0, 3)) {
      const columns = line.split(/ {2,}/);
      assert.equal(columns.length, 3, `three columns apart: ${line}`);
      assert.match(columns[1], /^Linear\(\d+, \d+\)$/);
      assert.equal(line.indexOf("Linear"), lines[0].indexOf("Linear"), "modules start in one column");
    }
    assert.match(lines[1], /1,099,512,676,352$/);
  });

  test("shell-quoted commands reach the program word for word", () => {
    const words = ["train", "--resume", "runs/a b", "it's", "$HOME", "*", "", "a\nb", "`id`", "plain/path-1.2_x"];
    const line = shellCommand(["actlab", ...words]);
    assert.equal(shellCommand(["actlab", "train", "runs/x-1"]), "actlab train runs/x-1", "safe words stay as they are");
    const got = execFileSync("sh", ["-c", `actlab() { printf '%s\\0' "$@"; }; ${line}`], { encoding: "utf8" }).split("\0").slice(0, -1);
    assert.deepEqual(got, words);
  });

  test("default train folders differ for runs started at the same moment, and sort by time", () => {
    const now = new Date("2026-12-02T00:19:51.123Z");
    // 32 random bits: 200 names at one instant collide with a chance of about 5 in a million.
    const names = new Set(Array.from({ length: 200 }, () => defaultRunDir(now)));
    assert.equal(names.size, 200);
    assert.match([...names][0], /^runs\/train-20261202-001951-123-[0-9a-f]{8}$/);
    assert.ok(defaultRunDir(new Date("2026-12-02T00:19:51.124Z"), "00000000") > defaultRunDir(now, "ffffffff"));
  });

  test("resume folders are taken once each, however they are spelled", () => {
    const dir = join(scratch.path, "run");
    mkdirSync(dir);
    const link = join(scratch.path, "link");
    symlinkSync(dir, link);
    const other = join(scratch.path, "other");
    assert.deepEqual(distinctFolders([dir, `${dir}/`, join(dir, "..", "run"), link, other, `${other}/`]), [dir, other]);
  });
});
