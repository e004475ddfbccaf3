// How a training step's cost grows with the work: relu nets of 3 Linear layers from width 256 to
// 2048, and of 5 to 80 layers at width 64, actlab (one model, one thread) beside PyTorch on one and
// on two threads, in alternating rounds. Cost is µs per training sample (batch 64).
import type { MnistData } from "../src/data/mnist.js";
import { Mlp } from "../src/engine/mlp.js";
import { netSplits } from "../src/engine/threadTeam.js";
import { nodeThreadTeams } from "../src/engine/threadTeamNode.js";
import { mlpConfig } from "../src/model.js";
import { Random } from "../src/random.js";
import { identityOrder } from "../src/train/evaluate.js";
import { renderPng, renderSvg, CHART_CONFIG } from "../src/plot/render.js";
import type { TopLevelSpec } from "vega-lite";
import { NORMALIZATION } from "./measure.js";

export interface ScalingNet {
  /** Linear layers, and the hidden width. */
  layers: number;
  width: number;
  /** Which sweep it belongs to. */
  sweep: "width" | "depth";
}

export const SCALING_NETS: ScalingNet[] = [
  ...[256, 512, 1024, 2048].map((width): ScalingNet => ({ layers: 3, width, sweep: "width" })),
  ...[5, 10, 20, 40, 80].map((layers): ScalingNet => ({ layers, width: 64, sweep: "depth" })),
];
/** The notebook's deeper net, measured beside the sweeps (its shallow one is 5 × 64). */
export const EXTRA_NETS: ScalingNet[] = [{ layers: 10, width: 48, sweep: "depth" }];

export const netLabel = (net: { layers: number; width: number }) => `${net.layers}x${net.width}`;
const BATCH = 64;

/** Multiply-add flops of one training sample, the first layer counted dense: 6 per weight (forward, dX, dW). */
export function flopsPerSample(net: { layers: number; width: number }): number {
  const widths = [784, ...Array<number>(net.layers - 1).fill(net.width), 10];
  let weights = 0;
  for (let i = 1; i < widths.length; i++) weights += widths[i - 1] * widths[i];
  return 6 * weights;
}

/** Timed steps for a net: about `gflop` of work each round (between 10 and 150 steps). */
export function stepsFor(net: ScalingNet, gflop: number): number {
  return Math.max(10, Math.min(150, Math.round((gflop * 1e9) / (flopsPerSample(net) * BATCH))));
}

/** Whether `threads` workers would share this net (its layers are wide enough to split: threadTeam.ts). */
export function netShares(net: ScalingNet): boolean {
  return netSplits([net.width]);
}

/**
 * Samples per second of one relu model training on `threads` threads (the spare workers of a
 * one-model run; 1: one thread), the trainer's way (loadBatch, then a step), in two passes over one
 * slice of `steps` batches, after as many untimed steps on other images (a model on two workers
 * starts threads whose first hundred steps run 20–50% slower: their JavaScript and kernels are not
 * yet optimised). `first` reads each image of the slice for the first time, as a first epoch does:
 * a net that keeps pixel lists (2^20 parameters or fewer) makes them as it goes. `later` reads the
 * same images again in a new order, as epochs 2 to 30 of a run do.
 */
export function measureNet(data: MnistData, net: ScalingNet, steps: number, seed: number, threads = 1): PassSpeeds {
  const config = mlpConfig({ inSize: 784, outSize: 10, hiddenSize: net.width, numHiddenLayers: net.layers, activation: "relu" });
  const model = new Mlp(config, BATCH, "sgd", { teams: threads > 1 ? nodeThreadTeams(threads) : undefined });
  try {
    return timePasses(model, data, steps, seed);
  } finally {
    model.close();
  }
}

export interface PassSpeeds {
  first: number;
  later: number;
}

function timePasses(model: Mlp, data: MnistData, steps: number, seed: number): PassSpeeds {
  model.initialize(Random.fromSeed(seed));
  const random = Random.fromSeed(seed + 1);
  const order = identityOrder(data.train.count);
  random.shuffle(order);
  if (2 * steps * BATCH > data.train.count) throw new Error(`${steps} steps need ${2 * steps * BATCH} training images, more than the ${data.train.count} loaded`);
  // Batches 0 ... steps − 1 of the order are the slice; the warm-up reads the next `steps`.
  const pass = (firstBatch: number) => {
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      model.input.loadBatch(data.train.images, data.train.labels, order, (firstBatch + i) * BATCH, BATCH, NORMALIZATION);
      model.trainStep(BATCH, { lr: 0.01, momentum: 0.9 });
    }
    return (steps * BATCH) / ((performance.now() - started) / 1000);
  };
  pass(steps);
  const first = pass(0);
  random.shuffle(order.subarray(0, steps * BATCH));
  return { first, later: pass(0) };
}

export interface ScalingRow {
  net: string;
  layers: number;
  width: number;
  sweep: "width" | "depth";
  mflopPerSample: number;
  /**
   * Best round's samples per second, and every round's; actlab2: two workers on the one model (wide
   * nets only). actlab and actlab2 are a later pass (measureNet), the *First ones a first pass.
   */
  actlab: number;
  actlab2?: number;
  actlabFirst: number;
  actlab2First?: number;
  pytorch1?: number;
  pytorch2?: number;
  rounds: { actlab: number[]; actlab2: number[]; actlabFirst: number[]; actlab2First: number[]; pytorch1: number[]; pytorch2: number[] };
}

const us = (samplesPerSecond: number | undefined) => (samplesPerSecond ? 1e6 / samplesPerSecond : NaN);

export function formatScaling(rows: ScalingRow[], rounds: number): string[] {
  const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–");
  const lines = [
    `Cost per training sample against width and depth: relu, batch 64, µs per sample (best of ${rounds} alternating rounds); speed = PyTorch's cost ÷ actlab's`,
    `  ${"".padEnd(15)}${"actlab, later pass".padStart(22)}${"".padStart(24)} │${"".padStart(10)} │${"".padStart(18)} │ actlab, first pass`,
    `  ${"net".padEnd(8)}${"MFLOP".padStart(7)}${"1w".padStart(11)}${"2w".padStart(11)}${"PyTorch 1t".padStart(12)}${"PyTorch 2t".padStart(12)} │` +
      `${"samples/s".padStart(10)} │${"1w vs 1t".padStart(9)}${"2w vs 2t".padStart(9)} │${"1w".padStart(7)}${"2w".padStart(7)}${"1w vs 1t".padStart(9)}${"2w vs 2t".padStart(9)}`,
  ];
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? fmt(a / b, 2) + "×" : "–");
  for (const row of rows) {
    lines.push(`  ${`${row.layers}×${row.width}`.padEnd(8)}${fmt(row.mflopPerSample, 2).padStart(7)}${fmt(us(row.actlab), 1).padStart(11)}` +
      `${fmt(us(row.actlab2), 1).padStart(11)}${fmt(us(row.pytorch1), 1).padStart(12)}${fmt(us(row.pytorch2), 1).padStart(12)} │${fmt(row.actlab).padStart(10)} │` +
      `${ratio(row.actlab, row.pytorch1).padStart(9)}${ratio(row.actlab2, row.pytorch2).padStart(9)} │` +
      `${fmt(us(row.actlabFirst), 1).padStart(7)}${fmt(us(row.actlab2First), 1).padStart(7)}` +
      `${ratio(row.actlabFirst, row.pytorch1).padStart(9)}${ratio(row.actlab2First, row.pytorch2).padStart(9)}`);
  }
  lines.push("  (2w: two workers on the one model, its wide layers' rows split between them, the same bits as 1w;",
    "   nets narrower than 256 are not split, so they have no 2w figure. A later pass reads images already",
    "   read, as epochs 2 to 30 of a run do; a first pass reads them for the first time, as the first epoch does)");
  return lines;
}

/** Two panels, cost per sample against width (3 layers) and against depth (width 64), log scales. */
export function scalingPlotSpec(rows: ScalingRow[]): TopLevelSpec {
  const values = rows.filter((r) => SCALING_NETS.some((n) => netLabel(n) === r.net)).flatMap((row) => [
    ["actlab, 1 worker", row.actlab], ["actlab, 2 workers", row.actlab2], ["PyTorch, 1 thread", row.pytorch1], ["PyTorch, 2 threads", row.pytorch2],
  ].filter(([, v]) => v).map(([who, v]) => ({
    who, sweep: row.sweep === "width" ? "3 Linear layers, against width" : "width 64, against Linear layers",
    x: row.sweep === "width" ? row.width : row.layers, us: us(v as number),
  })));
  const panel = (sweep: string, title: string, ticks: number[]) => ({
    transform: [{ filter: { field: "sweep", equal: sweep } }],
    title: sweep,
    width: 300, height: 240,
    mark: { type: "line" as const, point: true },
    encoding: {
      x: { field: "x", type: "quantitative" as const, scale: { type: "log" as const, base: 2, domain: [ticks[0], ticks[ticks.length - 1]] }, axis: { values: ticks }, title },
      y: { field: "us", type: "quantitative" as const, scale: { type: "log" as const }, title: "µs per training sample" },
      color: { field: "who", type: "nominal" as const, title: null },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    config: CHART_CONFIG,
    data: { values },
    hconcat: [
      panel("3 Linear layers, against width", "hidden width", [256, 512, 1024, 2048]),
      panel("width 64, against Linear layers", "Linear layers", [5, 10, 20, 40, 80]),
    ],
  } as TopLevelSpec;
}

export async function scalingPlot(rows: ScalingRow[]): Promise<{ svg: string; png: Uint8Array }> {
  const svg = await renderSvg(scalingPlotSpec(rows));
  return { svg, png: renderPng(svg) };
}
