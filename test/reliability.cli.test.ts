// Bad input through the real command line: every flag is checked before any work starts, and each
// problem gives exit code 2 and a message that names the input and what is wrong with it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ACTIVATION_NAMES } from "../src/activations.js";
import { PRESET_EXPERIMENTS } from "../src/train/experiment.js";
import { runCli, startCli, type CliResult } from "./support/cliProcess.js";
import { temporaryDir } from "./support/scratch.js";

const scratch = temporaryDir("cli");
after(() => scratch.remove());

const aFile = join(scratch.path, "a-file");
writeFileSync(aFile, "not a folder\n");
const halfData = join(scratch.path, "half-data");
mkdirSync(halfData);
writeFileSync(join(halfData, "train-images-idx3-ubyte"), "");
writeFileSync(join(halfData, "t10k-labels-idx1-ubyte.gz"), "");
/** Where a run would go: it must still not exist after a refused command. */
const untouched = join(scratch.path, "never-created");
// Every name in the catalogue, in its order: the message lists them all.
const ALL_VALID = ACTIVATION_NAMES.join(", ");

interface Case {
  what: string;
  args: string[];
  /** Each must appear in stderr. */
  messages: RegExp[];
}

const train = (...args: string[]) => ["train", "--logdir", untouched, ...args];

// Several bad flags share one process where they can (every problem is reported, one line each),
// since each process costs most of a second to start.
const CASES: Case[] = [
  { what: "unknown activation, lr 0, fractional batch size, epochs 0, negative momentum, together",
    args: train("--activations", "relu,tahn", "--lr", "0", "--batch-size", "1.5", "--epochs", "0", "--momentum", "-0.9"),
    messages: [
      /^actlab: --epochs must be a whole number from 1 to 100000; got "0"$/m,
      /^actlab: --lr must be a positive finite number; got "0"$/m,
      /^actlab: --momentum must be a finite number ≥ 0; got "-0.9"$/m,
      /^actlab: --batch-size must be a whole number from 1 to 65536; got "1.5"$/m,
      new RegExp(`^actlab: --activations: unknown activation "tahn" \\(did you mean "tanh"\\?\\); valid names: ${ALL_VALID}$`, "m"),
    ] },
  { what: "infinite lr, batch size 0, workers 0 (Ctrl-C would go unheard)",
    args: train("--lr", "Infinity", "--batch-size", "0", "--workers", "0"),
    messages: [/--lr must be a positive finite number; got "Infinity"/, /--batch-size must be a whole number from 1 to 65536; got "0"/, /--workers must be a whole number from 1 to 256/] },
  { what: "lr NaN and a data folder that does not exist", args: train("--lr", "NaN", "--data", join(scratch.path, "nope")),
    messages: [/--lr must be a positive finite number; got "NaN"/, /--data: data folder .*nope: does not exist/] },
  { what: "negative lr", args: train("--lr", "-0.1"), messages: [/^actlab: --lr must be a positive finite number; got "-0.1"$/m] },
  { what: "hidden list of the wrong length", args: train("--layers", "5", "--hidden", "128,64,32"),
    messages: [/^actlab: --hidden lists 3 widths but --layers 5 needs exactly 4 \(one per hidden layer\)/m] },
  { what: "layers below two", args: train("--layers", "1"), messages: [/--layers counts the Linear layers and must be at least 2; got 1/] },
  { what: "a data folder without the four files", args: train("--data", halfData),
    messages: [new RegExp(`--data: data folder ${halfData}: missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte \\(each may also end in \\.gz; found: t10k-labels-idx1-ubyte\\.gz, train-images-idx3-ubyte\\)`)] },
  { what: "a log directory under a regular file", args: ["train", "--logdir", join(aFile, "run")],
    messages: [new RegExp(`^actlab: --logdir ${aFile}/run cannot be written: ${aFile} is a file, not a folder$`, "m")] },
  { what: "experiment: unknown name, unknown activation, log directory that is a file",
    args: ["experiment", "deepest", "--logdir", aFile, "--activations", "sigmod"],
    messages: [
      // The notebook's three, then the presets from their table.
      new RegExp(`experiment must be one of seed, shallow, deeper, ${Object.keys(PRESET_EXPERIMENTS).join(", ")}; got "deepest"`),
      /--activations: unknown activation "sigmod" \(did you mean "sigmoid"\?\); valid names: sigmoid, tanh/,
      new RegExp(`--logdir ${aFile} cannot be written: ${aFile} is a file, not a folder`),
    ] },
  { what: "an unknown flag", args: train("--learning-rate", "0.1"), messages: [/unknown option '--learning-rate'/] },
  // The seeds' one range is what the generator tells apart (32 bits): 4294967296 would train seed 0 again.
  { what: "seeds past 32 bits, hex and padded numbers, an empty one, --seed with --seeds",
    args: train("--seeds", "0,4294967296", "--seed", "4294967296", "--lr", "0x10", "--std", " 0.3 ", "--epochs", "0x10", "--batch-size", " 5", "--mean", ""),
    messages: [
      /^actlab: --seeds must be a comma-separated list of whole numbers from 0 to 4294967295; got "0,4294967296"$/m,
      /^actlab: --seed must be a whole number from 0 to 4294967295; got "4294967296"$/m,
      /^actlab: --lr must be a positive finite number; got "0x10"$/m,
      /^actlab: --std must be a positive finite number; got " 0\.3 "$/m,
      /^actlab: --epochs must be a whole number from 1 to 100000; got "0x10"$/m,
      /^actlab: --batch-size must be a whole number from 1 to 65536; got " 5"$/m,
      /^actlab: --mean must be a finite number; got ""$/m,
      /^actlab: --seed and --seeds both choose the seeds; pass one of them/m,
    ] },
  { what: "a seed listed twice once read (1, 01, +1)", args: train("--seeds", "2,1,01,+1"),
    messages: [/^actlab: --seeds lists seed 1 twice .*: "2,1,01,\+1"$/m] },
  { what: "--seeds with --seed, both valid: one would be dropped silently", args: train("--seeds", "0,1,2", "--seed", "5"),
    messages: [/^actlab: --seed and --seeds both choose the seeds; pass one of them \(--seeds 0,1,2 or --seed 5\)$/m] },
  { what: "experiment: the same seed flags and parser",
    args: ["experiment", "shallow", "--logdir", untouched, "--seeds", "3,03", "--seed", "-1", "--workers", "0x2"],
    messages: [/--seeds lists seed 3 twice/, /--seed must be a whole number from 0 to 4294967295; got "-1"/, /--seed and --seeds both/, /--workers must be a whole number from 1 to 256 .*; got "0x2"/] },
  { what: "params and serve: the same grammar", args: ["params", "--layers", "0x3", "--hidden", "64, 32"],
    messages: [/--layers must be a whole number from 1 to 1000; got "0x3"/, /--hidden must be a width from 1 to 1048576 or a comma-separated list of them; got "64, 32"/] },
  { what: "serve: a port in hex", args: ["serve", untouched, "--port", "0x50"],
    messages: [/--port must be a whole number from 0 to 65535 \(0 picks a free port\); got "0x50"/] },
];

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...await Promise.all(items.slice(i, i + size).map(run)));
  return results;
}

describe("bad flags", () => {
  const results = inBatches(CASES, 4, (c) => runCli(c.args));

  CASES.forEach((c, i) => {
    test(`${c.what}: exit 2 before any work, naming the input`, async () => {
      const result: CliResult = (await results)[i];
      assert.equal(result.code, 2, `${c.args.join(" ")}\n${result.stderr}`);
      for (const message of c.messages) assert.match(result.stderr, message, c.what);
      assert.doesNotMatch(result.stderr, /epoch \d+:|\n\s+at /, "no training started and no stack trace");
      assert.equal(result.stdout, "");
    });
  });

  test("a refused command creates nothing", async () => {
    await results;
    assert.equal(existsSync(untouched), false);
  });
});

describe("bad --resume", () => {
  const run = (name: string, config: string | undefined) => {
    const dir = join(scratch.path, `resume-${name}`);
    mkdirSync(dir);
    if (config !== undefined) writeFileSync(join(dir, "config.json"), config);
    return dir;
  };
  const valid = {
    name: "train", seeds: [0], trainLimit: 100,
    models: [{ model: "relu", config: { inSize: 784, outSize: 10, hiddenSizes: [8], activation: "relu", leakySlope: 0.01 } }],
    settings: { lr: 0.01, momentum: 0.9, batchSize: 64, testBatchSize: 256, epochs: 1, mean: 0.1307, std: 0.3081 },
  };

  test("each refusal names the run folder or file and what is wrong", async () => {
    const noConfig = run("none", undefined);
    const cut = run("cut", JSON.stringify(valid).slice(0, 40));
    const badLr = run("badlr", JSON.stringify({ ...valid, settings: { ...valid.settings, lr: -1 } }));
    const badActivation = run("badact", JSON.stringify({ ...valid, models: [{ model: "x", config: { ...valid.models[0].config, activation: "relux" } }] }));
    const good = run("good", JSON.stringify(valid));
    const aliasing = run("aliasing", JSON.stringify({ ...valid, seeds: [0, 4294967296] }));
    const cases: Array<[string[], RegExp]> = [
      [["train", "--resume", noConfig], new RegExp(`--resume ${noConfig}: no config\\.json there, so it is not an actlab run directory`)],
      [["train", "--resume", cut], new RegExp(`${cut}/config\\.json is not valid JSON`)],
      [["experiment", "--resume", badLr], new RegExp(`${badLr}/config\\.json is not a valid run configuration: settings\\.lr: `)],
      [["train", "--resume", badActivation], /config\.json: model x: unknown activation "relux" \(did you mean "relu"\?\)/],
      [["train", "--resume", good, "--lr", "0.1", "--epochs", "5"], /--resume continues a run with the settings in its config\.json; drop --epochs, --lr/],
      [["experiment", "shallow", "--resume", good], /--resume takes run directories; drop "shallow"/],
      [["train", "--resume", aliasing], new RegExp(`${aliasing}/config\\.json is not a valid run configuration: seeds`)],
      [["train", "--resume", good, "--seed", "3"], /drop --seed \(or start a new run/],
    ];
    const results = await inBatches(cases, 4, ([args]) => runCli(args));
    results.forEach((result, i) => {
      assert.equal(result.code, 2, `${cases[i][0].join(" ")}\n${result.stderr}`);
      assert.match(result.stderr, cases[i][1]);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });
    // Nothing was started in the one valid folder either.
    assert.equal(existsSync(join(good, "metrics.jsonl")), false);
  });

  test("a fresh run into a folder that already holds a run is refused, not mixed into it", async () => {
    const dir = run("occupied", JSON.stringify(valid));
    const result = await runCli(["train", "--logdir", dir]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`log directory ${dir} already holds a run \\(config\\.json\\); continue it with --resume ${dir}`));
    assert.equal(existsSync(join(dir, "metrics.jsonl")), false);
  });
});

describe("resuming and continuing", () => {
  const valid = {
    name: "train", seeds: [0], trainLimit: 100,
    models: [{ model: "relu", config: { inSize: 784, outSize: 10, hiddenSizes: [8], activation: "relu", leakySlope: 0.01 } }],
    settings: { lr: 0.01, momentum: 0.9, batchSize: 64, testBatchSize: 256, epochs: 1, mean: 0.1307, std: 0.3081 },
  };

  test("experiment --resume D D/ resumes D once, not blaming its own lock on another process", async () => {
    const dir = join(scratch.path, "twice");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify(valid));
    const result = await runCli(["experiment", "--resume", dir, `${dir}/`, "--workers", "1"]);
    assert.doesNotMatch(result.stderr, /another process/);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).status, "finished");
  });

  test("the continue-with command after Ctrl-C works when pasted into a shell, whatever the path holds", async () => {
    const dir = join(scratch.path, "a folder with 'quotes' and $HOME", "run");
    const run = startCli(["train", "--activations", "tanh,relu", "--epochs", "3", "--train-limit", "20000", "--workers", "1", "--logdir", dir]);
    await run.waitForStderr(/train\/tanh epoch 1:/);
    run.child.kill("SIGINT");
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    const line = /interrupted; continue with:\n {2}(.*)\n/.exec(result.stderr)?.[1];
    assert.ok(line, result.stderr);
    // The shell reads the line as a user's paste would; `actlab` here only prints the words it was given.
    const words = execFileSync("sh", ["-c", `actlab() { printf '%s\\0' "$@"; }; ${line}`], { encoding: "utf8" }).split("\0").slice(0, -1);
    assert.deepEqual(words, ["train", "--resume", dir]);
  });
});
