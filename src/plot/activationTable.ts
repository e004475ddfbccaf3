// The notebook's comparison table of activations. The ranges of f and f' are measured from the
// kernels (a wide grid plus far probes that show where each tail goes); the words (formula,
// zero-centred, saturation, dead units) come from the catalogue in src/activations.ts.
import { ACTIVATIONS, DEFAULT_LEAKY_SLOPE, type ActivationName } from "../activations.js";
import { activationCurve } from "../engine/curves.js";
import { activationNames } from "./activationPlot.js";

export interface MeasuredRange {
  /** Infimum and supremum over the real line; ±Infinity where a tail keeps growing. */
  low: number;
  high: number;
  /** Whether the bound is attained (closed bracket) or only approached (open). */
  lowClosed: boolean;
  highClosed: boolean;
  /** The only values taken, where there are at most three (a step function such as relu's f'). */
  values?: number[];
  /** Where the curve goes as x → −∞ and x → +∞; ±Infinity when it grows without bound. */
  limits: { negative: number; positive: number };
  /** "(0, 1)", "[0, ∞)", "{0, 1}". */
  text: string;
}

export interface ActivationTableRow {
  name: ActivationName;
  formula: string;
  torchModule: string;
  output: MeasuredRange;
  derivative: MeasuredRange;
  zeroCentered: boolean;
  /** Measured: "odd", "point-symmetric about (0, c)", "even" or "none". */
  symmetry: string;
  saturates: string;
  deadUnits: boolean;
}

/** The measured window: steps of 0.01 over [−20, 20], symmetric so that f(x) and f(−x) pair up. */
const HALF_WIDTH = 20;
const HALF_POINTS = 2000;
/** Far probes: growth between 1e3 and 1e6 tells a bounded tail from an unbounded one. */
const NEAR_PROBE = 1e3;
const FAR_PROBE = 1e6;
/** A tail that has fallen below this by x = ±1e6 is taken to go to 0 (softsign's f' falls like 1/x²). */
const VANISHED = 1e-9;
/**
 * A bound counts as attained only where the kernel reaches it within |x| ≤ 6 (relu6 reaches 6 there). Further out, f32
 * rounds asymptotes onto their limits (tanh(9.1) is exactly 1 in f32; sigmoid(17) too), which
 * would make open ends look closed.
 */
const ATTAINED_WITHIN = 6;
const SYMMETRY_TOLERANCE = 1e-5;

function sampleGrid(): Float32Array {
  const half = Array.from({ length: HALF_POINTS }, (_, i) => (HALF_WIDTH * (i + 1)) / HALF_POINTS);
  const positive = [...half, NEAR_PROBE, FAR_PROBE];
  return Float32Array.from([...positive.map((v) => -v).reverse(), 0, ...positive]);
}

/** Formats a bound: three significant digits, a true minus sign, ∞ for infinities. */
export function formatBound(value: number): string {
  if (value === Infinity) return "∞";
  if (value === -Infinity) return "−∞";
  const rounded = Number(value.toPrecision(3));
  return (Object.is(rounded, -0) ? 0 : rounded).toString().replace("-", "−");
}

/** The range of `values` sampled at `x` (as sampleGrid lays it out: probes at both ends). */
export function measureRange(x: Float32Array, values: Float32Array): MeasuredRange {
  const n = x.length;
  const tail = (far: number, near: number) => {
    // Growing in magnitude, not just changing: sin changes by up to 2 between the probes and is bounded.
    const growth = values[far] - values[near];
    if (Math.abs(values[far]) - Math.abs(values[near]) > 1) return Math.sign(growth) * Infinity;
    return Math.abs(values[far]) < VANISHED ? 0 : values[far];
  };
  const limits = { negative: tail(0, 1), positive: tail(n - 1, n - 2) };
  // The infimum and supremum are the window's extremes or the tails' limits, whichever is further out.
  let low = Math.min(limits.negative, limits.positive);
  let high = Math.max(limits.negative, limits.positive);
  const distinct = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i])) continue;
    low = Math.min(low, values[i]);
    high = Math.max(high, values[i]);
    if (distinct.size <= 3) distinct.add(values[i]);
  }
  const attained = (bound: number) => Number.isFinite(bound) && x.some((xi, i) => Math.abs(xi) <= ATTAINED_WITHIN && values[i] === bound);
  const lowClosed = attained(low);
  const highClosed = attained(high);
  if (distinct.size <= 3) {
    const steps = [...distinct].sort((a, b) => a - b);
    return { low, high, lowClosed, highClosed, values: steps, limits, text: `{${steps.map(formatBound).join(", ")}}` };
  }
  const text = `${lowClosed ? "[" : "("}${formatBound(low)}, ${formatBound(high)}${highClosed ? "]" : ")"}`;
  return { low, high, lowClosed, highClosed, limits, text };
}

function symmetry(x: Float32Array, y: Float32Array): string {
  const centre = x.indexOf(0);
  const c = y[centre];
  let oddGap = 0;
  let evenGap = 0;
  for (let k = 1; k <= HALF_POINTS; k++) {
    oddGap = Math.max(oddGap, Math.abs(y[centre + k] + y[centre - k] - 2 * c));
    evenGap = Math.max(evenGap, Math.abs(y[centre + k] - y[centre - k]));
  }
  if (oddGap <= SYMMETRY_TOLERANCE) return c === 0 ? "odd" : `point-symmetric about (0, ${formatBound(c)})`;
  if (evenGap <= SYMMETRY_TOLERANCE) return "even";
  return "none";
}

export function activationTable(names: readonly string[] = [], leakySlope = DEFAULT_LEAKY_SLOPE): ActivationTableRow[] {
  const x = sampleGrid();
  return activationNames(names).map((name) => {
    const curve = activationCurve(name, x, leakySlope);
    const info = ACTIVATIONS[name];
    return {
      name,
      formula: info.formula,
      torchModule: info.torchModule,
      output: measureRange(curve.x, curve.y),
      derivative: measureRange(curve.x, curve.dydx),
      zeroCentered: info.zeroCentered,
      symmetry: symmetry(curve.x, curve.y),
      saturates: info.saturates,
      deadUnits: info.deadUnits,
    };
  });
}

/** The table as plain text for the terminal. */
export function formatActivationTable(rows: ActivationTableRow[]): string {
  const header = ["activation", "expression", "output range", "zero-centred", "symmetry", "f' range", "saturates", "dead units"];
  const body = rows.map((r) => [
    r.name, r.formula, r.output.text, r.zeroCentered ? "yes" : "no", r.symmetry, r.derivative.text, r.saturates, r.deadUnits ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** JSON for `--table --json`: infinities as the strings "Infinity" and "-Infinity" (JSON has no ∞). */
export function activationTableJson(rows: ActivationTableRow[]): string {
  return JSON.stringify(rows, (_key, value) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value), 2);
}
