// Bad input through the real command line: every flag is checked before any work starts, and each
// problem gives exit code 2 and a message that names the input and what is wrong with it.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runCli, type CliResult } from "./support/cliProcess.js";
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
const ALL_VALID = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "mish", "hardtanh", "softsign"].join(", ");

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
      /experiment must be one of seed, shallow, deeper; got "deepest"/,
      /--activations: unknown activation "sigmod" \(did you mean "sigmoid"\?\); valid names: sigmoid, tanh/,
      new RegExp(`--logdir ${aFile} cannot be written: ${aFile} is a file, not a folder`),
    ] },
  { what: "an unknown flag", args: train("--learning-rate", "0.1"), messages: [/unknown option '--learning-rate'/] },
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
    const cases: Array<[string[], RegExp]> = [
      [["train", "--resume", noConfig], new RegExp(`--resume ${noConfig}: no config\\.json there, so it is not an actlab run directory`)],
      [["train", "--resume", cut], new RegExp(`${cut}/config\\.json is not valid JSON`)],
      [["experiment", "--resume", badLr], new RegExp(`${badLr}/config\\.json is not a valid run configuration: settings\\.lr: `)],
      [["train", "--resume", badActivation], /config\.json: model x: unknown activation "relux" \(did you mean "relu"\?\)/],
      [["train", "--resume", good, "--lr", "0.1", "--epochs", "5"], /--resume continues a run with the settings in its config\.json; drop --epochs, --lr/],
      [["experiment", "shallow", "--resume", good], /--resume takes run directories; drop "shallow"/],
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
