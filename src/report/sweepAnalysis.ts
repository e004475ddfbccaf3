// What a sweep's trials.jsonl says about depth, as numbers and sentences: per line (an activation,
// with any other setting the grid varies besides depth) and depth, the final test accuracy over
// seeds, the epoch first past 50%, and the first/last-layer gradient-norm ratio; then which lines
// hold up as the net deepens and where each one breaks. Pure functions of the rows: the report and
// the dashboard's server both use them.
import type { SweepAxis, SweepGrid, TrialRowJson } from "../sweepFormat.js";

/** A line holds up when its accuracy at the deepest depth is within this of its best (fraction). */
export const HOLD_MARGIN = 0.05;
/** Accuracy below this multiple of chance (1 / classes) is "at chance". */
export const CHANCE_FACTOR = 1.5;
/** A first-layer gradient this many times below the last layer's has vanished. */
export const VANISHING_RATIO = 100;

export interface DepthPoint {
  line: string;
  depth: number;
  seeds: number;
  /** Final test accuracy: mean, lowest and highest over seeds (NaN counted as chance-less 0). */
  acc: number;
  accMin: number;
  accMax: number;
  /** Mean over the seeds that passed 50%; null when none did. */
  epochFirst50: number | null;
  /** How many seeds passed 50%. */
  passed50: number;
  /** Geometric mean of ‖∇W₁‖/‖∇W_L‖ over seeds; null when unknown. */
  gradRatio: number | null;
  diverged: number;
}

export interface SweepAnalysis {
  lines: string[];
  depths: number[];
  points: DepthPoint[];
  holdUp: string[];
  breaks: Array<{ line: string; depth: number; from: number; fromDepth: number; to: number; atChance: boolean }>;
  vanishing: string[];
  sentences: string[];
}

/** Axes folded into a line's name: those that vary, but for depth itself and the seeds. */
function lineAxes(grid: SweepGrid): SweepAxis[] {
  const order: SweepAxis[] = ["activation", "hidden", "init", "lr", "momentum", "batchSize", "epochs", "leakySlope", "trainLimit"];
  return order.filter((axis) => axis === "activation" || grid[axis].length > 1);
}

export function lineName(settings: TrialRowJson["settings"], axes: readonly SweepAxis[]): string {
  return axes.map((axis) => {
    const v = settings[axis];
    if (axis === "activation" || axis === "init") return String(v);
    const prefix = { hidden: "H", lr: "lr", momentum: "mom", batchSize: "bs", epochs: "ep", leakySlope: "slope", trainLimit: "n" }[axis as string];
    return `${prefix}${Array.isArray(v) ? v.join("-") : v === null ? "all" : v}`;
  }).join("_");
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function listText(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function analyzeSweep(grid: SweepGrid, rows: readonly TrialRowJson[], classes = 10): SweepAnalysis {
  const axes = lineAxes(grid);
  const lines: string[] = [];
  const activationOf = new Map<string, string>();
  const groups = new Map<string, { line: string; depth: number; rows: TrialRowJson[] }>();
  for (const row of rows) {
    const line = lineName(row.settings, axes);
    if (!lines.includes(line)) lines.push(line);
    activationOf.set(line, row.settings.activation);
    const key = `${line}\u0000${row.settings.layers}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { line, depth: row.settings.layers, rows: [] }));
    group.rows.push(row);
  }
  // In the grid's order of activations, whatever order the trials ended in.
  const rank = (line: string) => grid.activation.indexOf(activationOf.get(line)!);
  lines.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const points: DepthPoint[] = [...groups.values()].map(({ line, depth, rows: group }) => {
    const accs = group.map((r) => (typeof r.final_test_acc === "number" && Number.isFinite(r.final_test_acc) ? r.final_test_acc : 0));
    const passed = group.map((r) => r.epoch_first_50).filter((e): e is number => e !== null);
    const ratios = group.map((r) => r.grad_norm_ratio).filter((x): x is number => typeof x === "number" && x > 0 && Number.isFinite(x));
    return {
      line, depth, seeds: group.length,
      acc: accs.reduce((a, b) => a + b, 0) / accs.length, accMin: Math.min(...accs), accMax: Math.max(...accs),
      epochFirst50: passed.length > 0 ? passed.reduce((a, b) => a + b, 0) / passed.length : null,
      passed50: passed.length,
      gradRatio: ratios.length > 0 ? Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length) : null,
      diverged: group.filter((r) => r.status === "diverged").length,
    };
  }).sort((a, b) => lines.indexOf(a.line) - lines.indexOf(b.line) || a.depth - b.depth);
  const depths = [...new Set(points.map((p) => p.depth))].sort((a, b) => a - b);
  const chance = CHANCE_FACTOR / classes;

  const holdUp: string[] = [];
  const breaks: SweepAnalysis["breaks"] = [];
  const vanishing: string[] = [];
  const sentences: string[] = [];
  const deepest = depths[depths.length - 1];
  for (const line of lines) {
    const mine = points.filter((p) => p.line === line);
    if (mine.length === 0) continue;
    const best = mine.reduce((a, p) => (p.acc > a.acc ? p : a));
    const broke = mine.find((p) => p.depth > best.depth && p.acc < best.acc - HOLD_MARGIN);
    if (!broke) {
      if (mine[mine.length - 1].depth === deepest && mine.length > 1) holdUp.push(line);
    } else {
      const before = [...mine].reverse().find((p) => p.depth < broke.depth)!;
      breaks.push({ line, depth: broke.depth, from: before.acc, fromDepth: before.depth, to: broke.acc, atChance: broke.acc < chance });
    }
    const last = mine[mine.length - 1];
    if (last.gradRatio !== null && last.gradRatio < 1 / VANISHING_RATIO) vanishing.push(line);
  }
  if (rows.length === 0) {
    sentences.push("No trial has ended yet, so there is nothing to compare.");
    return { lines, depths, points, holdUp, breaks, vanishing, sentences };
  }
  const epochs = [...new Set(rows.map((r) => r.settings.epochs))];
  const budget = epochs.length === 1 ? `${epochs[0]} epoch${epochs[0] === 1 ? "" : "s"}` : "their epochs";
  if (depths.length > 1) {
    sentences.push(holdUp.length > 0
      ? `Hold up with depth (final test accuracy at ${deepest} layers within ${100 * HOLD_MARGIN} points of their best, after ${budget}): ${listText(holdUp)}.`
      : `No activation holds up to ${deepest} layers: every one ends more than ${100 * HOLD_MARGIN} points below its best.`);
  }
  for (const b of breaks) {
    sentences.push(`${b.line} breaks at ${b.depth} layers: final test accuracy falls from ${pct(b.from)} at ${b.fromDepth} layers to ${pct(b.to)}${b.atChance ? " (chance level)" : ""}.`);
  }
  const atDeepest = points.filter((p) => p.depth === deepest).sort((a, b) => b.acc - a.acc);
  if (atDeepest.length > 1) {
    sentences.push(`At ${deepest} layers the best is ${atDeepest[0].line} (${pct(atDeepest[0].acc)}) and the worst ${atDeepest[atDeepest.length - 1].line} (${pct(atDeepest[atDeepest.length - 1].acc)}).`);
  }
  const never = lines.filter((line) => atDeepest.some((p) => p.line === line && p.passed50 === 0));
  if (never.length > 0) sentences.push(`At ${deepest} layers no seed of ${listText(never)} passed 50% test accuracy within ${budget}.`);
  if (vanishing.length > 0) {
    sentences.push(`Gradients vanish at the deepest depth for ${listText(vanishing)}: the first layer's gradient norm is over ${VANISHING_RATIO} times smaller than the last layer's.`);
  }
  const diverged = points.filter((p) => p.diverged > 0);
  if (diverged.length > 0) sentences.push(`Diverged (loss NaN or infinite): ${listText(diverged.map((p) => `${p.line} at ${p.depth} layers (${p.diverged} seed${p.diverged > 1 ? "s" : ""})`))}.`);
  return { lines, depths, points, holdUp, breaks, vanishing, sentences };
}
