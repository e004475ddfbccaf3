// The few sentences a report opens with, each computed from the numbers: who won and whether the
// margin is larger than the seeds' scatter, who never left chance, and where gradients vanished.
import { lastEpochs } from "../plot/runPlots.js";
import type { MetricsRecord, SummaryRow } from "../runFormat.js";

/** "Stayed at chance": no seed's test accuracy ever reached this multiple of 1 / classes. */
export const CHANCE_FACTOR = 1.5;
/** A layer's gradient has vanished when its norm is this many times smaller than the last layer's. */
export const VANISHING_RATIO = 100;

export interface Comparison {
  winner: string;
  runnerUp?: string;
  /** Difference of final mean test accuracies, as a fraction. */
  gap: number;
  /** Sum of the two models' standard deviations over seeds; NaN with a single seed. */
  spread: number;
}

export interface VanishedGradients {
  model: string;
  epoch: number;
  /** 1-based layers whose mean gradient norm is VANISHING_RATIO times below the last layer's. */
  layers: number[];
  lastLayer: number;
  /** Last layer's norm over the first layer's. */
  firstToLastRatio: number;
}

export interface Findings {
  comparison?: Comparison;
  atChance: string[];
  vanished: VanishedGradients[];
  /** Models with every layer within VANISHING_RATIO of the last (and diagnostics to say so). */
  healthy: string[];
  diverged: Array<{ model: string; seeds: number[] }>;
  chanceLevel: number;
  sentences: string[];
}

const pct = (x: number) => (100 * x).toFixed(2);
const points = (x: number) => `${(100 * x).toFixed(2)} points`;

function accuracyText(row: SummaryRow): string {
  const s = row.final_test_acc;
  return s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}%` : `${pct(s.mean)}%`;
}

function seedsText(row: SummaryRow): string {
  return row.final_test_acc.n === 1 ? "one seed" : `${row.final_test_acc.n} seeds`;
}

/** 15 → "15", 11.35 → "11.35". */
const shortPct = (x: number) => String(Number((100 * x).toFixed(2)));

/** "a", "a and b", "a, b and c". */
export function listText(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "1–3, 5" for [1, 2, 3, 5]. */
export function layerRanges(layers: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < layers.length; i++) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j] + 1) j++;
    parts.push(j > i ? `${layers[i]}–${layers[j]}` : `${layers[i]}`);
    i = j;
  }
  return parts.join(", ");
}

export function compareModels(rows: SummaryRow[]): Comparison | undefined {
  const ranked = rows.filter((r) => r.final_test_acc.n > 0 && Number.isFinite(r.final_test_acc.mean))
    .sort((a, b) => b.final_test_acc.mean - a.final_test_acc.mean);
  if (ranked.length === 0) return undefined;
  const [best, second] = ranked;
  if (!second) return { winner: best.model, gap: NaN, spread: NaN };
  const manySeeds = best.final_test_acc.n > 1 && second.final_test_acc.n > 1;
  return {
    winner: best.model,
    runnerUp: second.model,
    gap: best.final_test_acc.mean - second.final_test_acc.mean,
    spread: manySeeds ? best.final_test_acc.std + second.final_test_acc.std : NaN,
  };
}

function comparisonSentence(c: Comparison, rows: SummaryRow[]): string {
  const row = (model: string) => rows.find((r) => r.model === model)!;
  if (!c.runnerUp) return `${c.winner} is the only model: final test accuracy ${accuracyText(row(c.winner))} over ${seedsText(row(c.winner))}.`;
  if (c.gap === 0) return `${c.winner} and ${c.runnerUp} tied for first place: final test accuracy ${accuracyText(row(c.winner))} over ${seedsText(row(c.winner))}.`;
  const lead = `${c.winner} won: final test accuracy ${accuracyText(row(c.winner))} over ${seedsText(row(c.winner))}, ${points(c.gap)} above ${c.runnerUp} (${accuracyText(row(c.runnerUp))})`;
  if (Number.isNaN(c.spread)) return `${lead}; with a single seed there is no spread over seeds to weigh the gap against.`;
  return c.gap > c.spread
    ? `${lead}; the gap is larger than the two models' standard deviations over seeds combined (${points(c.spread)}).`
    : `${lead}; the gap is within the two models' standard deviations over seeds combined (${points(c.spread)}), so this run does not separate them.`;
}

export function modelsAtChance(records: MetricsRecord[], models: string[], classes: number): string[] {
  const threshold = CHANCE_FACTOR / classes;
  return models.filter((model) => {
    const accuracies = records.filter((r) => r.model === model).map((r) => r.test_acc).filter(Number.isFinite);
    return accuracies.length > 0 && Math.max(...accuracies) < threshold;
  });
}

/** Per model, the final epoch's gradient norms averaged over seeds, and which layers fell far below the last. */
export function vanishingGradients(records: MetricsRecord[], models: string[]): { vanished: VanishedGradients[]; healthy: string[] } {
  const last = lastEpochs(records);
  const vanished: VanishedGradients[] = [];
  const healthy: string[] = [];
  for (const model of models) {
    const epoch = last.get(model);
    const finals = records.filter((r) => r.model === model && r.epoch === epoch && r.diagnostics);
    if (epoch === undefined || finals.length === 0) continue;
    const sums = new Map<number, { sum: number; n: number }>();
    for (const r of finals) {
      for (const l of r.diagnostics!.layers) {
        if (!Number.isFinite(l.grad_norm)) continue;
        const s = sums.get(l.layer) ?? { sum: 0, n: 0 };
        sums.set(l.layer, { sum: s.sum + l.grad_norm, n: s.n + 1 });
      }
    }
    const norms = [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([layer, s]) => ({ layer, norm: s.sum / s.n }));
    if (norms.length < 2) continue;
    const lastLayer = norms[norms.length - 1];
    if (!(lastLayer.norm > 0)) continue;
    const layers = norms.slice(0, -1).filter((l) => l.norm * VANISHING_RATIO < lastLayer.norm).map((l) => l.layer);
    if (layers.length) {
      vanished.push({ model, epoch, layers, lastLayer: lastLayer.layer, firstToLastRatio: lastLayer.norm / norms[0].norm });
    } else {
      healthy.push(model);
    }
  }
  return { vanished, healthy };
}

function ratioText(ratio: number): string {
  if (!Number.isFinite(ratio)) return "layer 1's norm is exactly 0";
  return ratio >= 1e4 ? `layer 1's norm is ${ratio.toExponential(1).replace("e+", "×10^")} times smaller` : `layer 1's norm is ${Math.round(ratio).toLocaleString("en-US")} times smaller`;
}

function vanishingSentence(vanished: VanishedGradients[], healthy: string[]): string | undefined {
  if (vanished.length === 0 && healthy.length === 0) return undefined;
  if (vanished.length === 0) {
    return `No gradients vanished: in the final epoch every layer's weight-gradient norm stayed within ${VANISHING_RATIO}× of the last layer's in ${listText(healthy)}.`;
  }
  const parts = vanished.map((v) => {
    const first = v.layers[0] === 1 ? `; ${ratioText(v.firstToLastRatio)}` : "";
    return `${v.model} (layer${v.layers.length > 1 ? "s" : ""} ${layerRanges(v.layers)}: more than ${VANISHING_RATIO}× below layer ${v.lastLayer}'s norm${first})`;
  });
  const rest = healthy.length ? ` ${listText(healthy)} kept every layer within ${VANISHING_RATIO}× of the last.` : "";
  return `Gradients vanished in ${listText(parts)} in the final epoch.${rest}`;
}

export function findings(run: { rows: SummaryRow[]; records: MetricsRecord[]; models: string[]; classes: number }): Findings {
  const comparison = compareModels(run.rows);
  const atChance = modelsAtChance(run.records, run.models, run.classes);
  const { vanished, healthy } = vanishingGradients(run.records, run.models);
  const diverged = run.rows.filter((r) => r.diverged.length > 0).map((r) => ({ model: r.model, seeds: r.diverged.map((d) => d.seed) }));
  const chanceLevel = CHANCE_FACTOR / run.classes;
  const sentences: string[] = [];
  if (comparison) sentences.push(comparisonSentence(comparison, run.rows));
  if (atChance.length) {
    sentences.push(`${listText(atChance)} stayed at chance: no seed's test accuracy reached ${shortPct(chanceLevel)}% in any epoch (guessing among ${run.classes} classes gives ${shortPct(1 / run.classes)}%).`);
  } else if (run.models.length) {
    sentences.push(`Every model left chance level (${shortPct(chanceLevel)}% test accuracy) in some epoch.`);
  }
  if (diverged.length) {
    sentences.push(`The loss diverged (NaN or infinite) for ${listText(diverged.map((d) => `${d.model} (seed${d.seeds.length > 1 ? "s" : ""} ${d.seeds.join(", ")})`))}.`);
  }
  const vanishing = vanishingSentence(vanished, healthy);
  if (vanishing) sentences.push(vanishing);
  return { comparison, atChance, vanished, healthy, diverged, chanceLevel, sentences };
}
