// A sweep's grid: which knob takes which values, where each list came from (a preset, a spec file,
// the command line), and its expansion into trials with stable, readable ids. Every value is read by
// its flag's own parser from the flag table, so a sweep and `actlab train` share one grammar.
import { InputError } from "../errors.js";
import type { Flag } from "../cli/flags.js";
import { SHAPE, SWEEP_RUN, TRAINING } from "../cli/flagTable.js";
import { mlpConfig, type MlpConfig } from "../model.js";
import type { SweepAxis, SweepGrid, TrialSettings } from "../sweepFormat.js";
import type { ActivationName } from "../activations.js";
import { hyperProblems, resolveHyper, type Knob, type OptimizerHyper } from "../optim.js";

/** The raw values of one knob: each text is one value for the flag's parser; `origin` names where they came from. */
export interface RawValues {
  texts: string[];
  origin: string;
}

/** Raw values by spec name (the flag's name without --: "lr", "batch-size", "seeds"). */
export type RawGrid = Record<string, RawValues>;

interface AxisDefinition {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  flag: Flag<any>;
  /** The parsed value as the trial holds it (an activation list of one is its name). */
  read?: (value: unknown) => unknown;
  /** How the value appears in a trial id. */
  label: (value: never) => string;
  /** In every id, varying or not: what a reader needs to tell two trials' nets apart. */
  always?: boolean;
}

/** The knobs a sweep varies, in the order ids name them. */
export const AXES: Record<SweepAxis, AxisDefinition> = {
  activation: { flag: SWEEP_RUN.activations, read: (v) => (v as string[])[0], label: (v: string) => v, always: true },
  layers: { flag: SHAPE.layers, label: (v: number) => `L${v}`, always: true },
  hidden: { flag: SHAPE.hidden, label: (v: number | number[]) => `H${Array.isArray(v) ? v.join("-") : v}`, always: true },
  init: { flag: TRAINING.init, label: (v: string) => v },
  norm: { flag: TRAINING.norm, label: (v: string) => `norm-${v}` },
  optimizer: { flag: TRAINING.optimizer, label: (v: string) => v },
  // The optimiser's knobs: null where not given, which is the optimiser's own default (optim.ts).
  lr: { flag: TRAINING.lr, label: (v: number | null) => (v === null ? "lrdefault" : `lr${v}`) },
  momentum: { flag: TRAINING.momentum, label: (v: number | null) => (v === null ? "momdefault" : `mom${v}`) },
  weightDecay: { flag: TRAINING.weightDecay, label: (v: number | null) => (v === null ? "wddefault" : `wd${v}`) },
  betas: { flag: TRAINING.betas, label: (v: [number, number] | null) => (v === null ? "betasdefault" : `betas${v.join("-")}`) },
  eps: { flag: TRAINING.eps, label: (v: number | null) => (v === null ? "epsdefault" : `eps${v}`) },
  batchSize: { flag: TRAINING.batchSize, label: (v: number) => `bs${v}` },
  epochs: { flag: TRAINING.epochs, label: (v: number) => `ep${v}` },
  leakySlope: { flag: TRAINING.leakySlope, label: (v: number) => `slope${v}` },
  trainLimit: { flag: TRAINING.trainLimit, label: (v: number | null) => (v === null ? "nall" : `n${v}`) },
};

export const AXIS_KEYS = Object.keys(AXES) as SweepAxis[];

/** Settings every trial shares: one value each, no lists. */
const FIXED = { testBatchSize: TRAINING.testBatchSize, mean: TRAINING.mean, std: TRAINING.std } as const;

/** The spec-file name of a flag: "--batch-size" → "batch-size". */
export function specName(f: Flag<unknown>): string {
  return f.name.slice(2);
}

/** Every name a spec file (or a preset) may use. */
export const SPEC_NAMES: readonly string[] = [
  ...AXIS_KEYS.map((axis) => specName(AXES[axis].flag)), specName(TRAINING.seeds), ...Object.values(FIXED).map(specName),
];

/** The flag texts of the command line as raw values: a comma list is one value per item. */
export function rawFromFlag(f: Flag<unknown>, text: string): RawValues {
  return { texts: f === TRAINING.seeds ? [text] : text.split(","), origin: f.name };
}

/**
 * The grid from raw values, layered: later layers override earlier ones name by name (a preset, then
 * a spec file, then the flags typed). Every problem is gathered into one InputError naming its origin.
 */
export function buildGrid(layers: RawGrid[]): SweepGrid {
  const raw: RawGrid = Object.assign({}, ...layers);
  const problems: string[] = [];
  const parse = (f: Flag<unknown>, values: RawValues | undefined): unknown[] => {
    if (!values) return [f.default ?? null];
    const parsed: unknown[] = [];
    const seen = new Set<string>();
    for (const text of values.texts) {
      const result = f.parser(values.origin).safeParse(text);
      if (!result.success) {
        problems.push(...result.error.issues.map((issue) => issue.message));
        continue;
      }
      const key = JSON.stringify(result.data);
      if (seen.has(key)) problems.push(`${values.origin} lists ${text} twice (it would train the same trial twice)`);
      seen.add(key);
      parsed.push(result.data);
    }
    if (values.texts.length === 0) problems.push(`${values.origin} needs at least one value`);
    return parsed;
  };
  const axes = {} as Record<SweepAxis, unknown[]>;
  for (const axis of AXIS_KEYS) {
    const { flag: f, read } = AXES[axis];
    axes[axis] = parse(f, raw[specName(f)]).map((v) => (read ? read(v) : v));
  }
  const seedValues = raw[specName(TRAINING.seeds)];
  const seeds = parse(TRAINING.seeds, seedValues && { ...seedValues, texts: [seedValues.texts.join(",")] })[0] as number[] | undefined;
  const fixed: Record<string, number> = {};
  for (const [key, f] of Object.entries(FIXED)) {
    const values = raw[specName(f)];
    if (values && values.texts.length > 1) problems.push(`${values.origin} takes one value, not a list (every trial shares it)`);
    fixed[key] = parse(f, values && { ...values, texts: values.texts.slice(0, 1) })[0] as number;
  }
  if (problems.length > 0) throw new InputError(problems.join("\n"));
  return {
    ...(axes as unknown as Omit<SweepGrid, "seeds" | "fixed">),
    seeds: seeds ?? [0],
    fixed: { testBatchSize: fixed.testBatchSize, mean: fixed.mean, std: fixed.std, inSize: 784, outSize: 10 },
  };
}

export interface Trial {
  id: string;
  settings: TrialSettings;
  config: MlpConfig;
}

/** The axes with more than one value. */
export function varyingAxes(grid: SweepGrid): SweepAxis[] {
  return AXIS_KEYS.filter((axis) => grid[axis].length > 1);
}

/** A trial's id: the always-named axes and the varying ones, joined by "_" (e.g. relu_L8_H64_kaiming-normal_lr0.1). */
export function trialId(settings: TrialSettings, varying: readonly SweepAxis[]): string {
  return AXIS_KEYS.filter((axis) => AXES[axis].always || varying.includes(axis))
    .map((axis) => (AXES[axis].label as (v: unknown) => string)(settings[axis]))
    .join("_");
}

/**
 * Every combination of the grid's values, the first axis outermost. Refused: a trial whose net cannot
 * be built (a per-layer width list of the wrong length, one Linear layer), and two trials with one id.
 */
export function expandGrid(grid: SweepGrid): Trial[] {
  const varying = varyingAxes(grid);
  let combos: Array<Partial<TrialSettings>> = [{}];
  for (const axis of AXIS_KEYS) {
    combos = combos.flatMap((partial) => (grid[axis] as unknown[]).map((value) => ({ ...partial, [axis]: value })));
  }
  const problems: string[] = [];
  const byId = new Map<string, Trial>();
  for (const combo of combos) {
    const settings = combo as TrialSettings;
    const id = trialId(settings, varying);
    const other = byId.get(id);
    if (other) {
      problems.push(`two trials would share the id ${id} (${JSON.stringify(other.settings)} and ${JSON.stringify(settings)}); make the grid's values distinct`);
      continue;
    }
    let config: MlpConfig;
    try {
      config = mlpConfig({
        inSize: grid.fixed.inSize, outSize: grid.fixed.outSize, hiddenSize: settings.hidden, numHiddenLayers: settings.layers,
        activation: settings.activation as ActivationName, leakySlope: settings.leakySlope, norm: settings.norm,
      });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(`trial ${id}: ${error.message}`);
      continue;
    }
    const knobs = hyperOf(settings);
    const knobProblems = hyperProblems(settings.optimizer, resolveHyper(settings.optimizer, knobs), Object.keys(knobs) as Knob[]);
    if (knobProblems.length > 0) {
      problems.push(...knobProblems.map((problem) => `trial ${id}: ${problem}`));
      continue;
    }
    byId.set(id, { id, settings, config });
  }
  if (problems.length > 0) throw new InputError(problems.slice(0, 10).join("\n") + (problems.length > 10 ? `\nand ${problems.length - 10} more` : ""));
  return [...byId.values()];
}

/** The optimiser knobs a trial names (those left null take the optimiser's defaults). */
export function hyperOf(settings: TrialSettings): Partial<OptimizerHyper> {
  const { lr, momentum, weightDecay, betas, eps } = settings;
  const given: Partial<OptimizerHyper> = { lr: lr ?? undefined, momentum: momentum ?? undefined, weightDecay: weightDecay ?? undefined, betas: betas ?? undefined, eps: eps ?? undefined };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<OptimizerHyper>;
}

/** How two grids differ, one phrase per field ("lr: [0.01] here, [0.01,0.1] in the folder"). */
export function gridDifferences(ours: SweepGrid, theirs: SweepGrid): string[] {
  const keys = [...AXIS_KEYS, "seeds", "fixed"] as const;
  return keys.filter((key) => JSON.stringify(ours[key]) !== JSON.stringify(theirs[key]))
    .map((key) => `${key}: ${JSON.stringify(ours[key])} asked, ${JSON.stringify(theirs[key])} in the folder`);
}
