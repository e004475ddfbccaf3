// TensorBoard's histograms come in TensorFlow's exponential buckets (each 10% wider than the last,
// hundreds of them around zero). To compare layers, epochs and models on one axis the dashboard
// spreads each bucket's count evenly over the part of a shared, uniform grid it covers: on the
// values themselves, or on log10 of their magnitude, where a vanishing gradient is a shift to the left.
import type { HistogramData } from "../log/histogram.js";
import type { HistogramScale } from "./apiTypes.js";

/** A stretch of the axis holding `count` values, spread evenly over [lo, hi]. */
export interface Interval {
  lo: number;
  hi: number;
  count: number;
}

/** A histogram's non-empty buckets on the chosen axis, narrowed by its recorded min and max. */
export function bucketIntervals(h: HistogramData, scale: HistogramScale): Interval[] {
  const out: Interval[] = [];
  const largest = Math.max(Math.abs(h.min), Math.abs(h.max));
  for (let i = 0; i < h.bucket.length; i++) {
    const count = h.bucket[i];
    if (!(count > 0)) continue;
    // Bucket i holds [limit[i-1], limit[i]); the first has no left limit and starts at the minimum.
    let lo = Math.max(i === 0 ? h.min : h.bucketLimit[i - 1], h.min);
    let hi = Math.min(h.bucketLimit[i], h.max);
    if (lo > hi) lo = hi;
    if (scale === "linear") {
      out.push({ lo, hi, count });
      continue;
    }
    // |x| over the bucket: a bucket straddling 0 reaches down to 0 from its larger end.
    let small = lo >= 0 ? lo : hi <= 0 ? -hi : 0;
    let big = Math.min(lo >= 0 ? hi : hi <= 0 ? -lo : Math.max(-lo, hi), largest);
    if (big <= 0) continue; // only exact zeros, which have no logarithm
    if (small > big) small = big;
    // A bucket reaching 0 is drawn one decade deep below its upper end.
    const logHi = Math.log10(big);
    const logLo = small > 0 ? Math.log10(small) : logHi - 1;
    out.push({ lo: logLo, hi: logHi, count });
  }
  return out;
}

/** `bins` + 1 uniform edges spanning every interval given (widened a little when they all coincide). */
export function sharedEdges(intervals: Iterable<Interval>, bins: number, scale: HistogramScale): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const { lo: a, hi: b } of intervals) {
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = scale === "log" ? -1 : -1;
    hi = scale === "log" ? 0 : 1;
  }
  if (hi - lo <= 0) {
    const pad = scale === "log" ? 0.5 : Math.abs(lo) * 0.05 || 1e-12;
    lo -= pad;
    hi += pad;
  }
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
}

/** Counts per bin of `edges`: each interval's count shared out in proportion to its overlap with each bin. */
export function rebin(intervals: Interval[], edges: number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const first = edges[0];
  const width = (edges[bins] - first) / bins;
  const binOf = (x: number) => Math.min(bins - 1, Math.max(0, Math.floor((x - first) / width)));
  for (const { lo, hi, count } of intervals) {
    if (hi <= lo) {
      counts[binOf(lo)] += count;
      continue;
    }
    const a = binOf(lo);
    const b = binOf(hi);
    for (let k = a; k <= b; k++) {
      const overlap = Math.min(hi, edges[k + 1]) - Math.max(lo, edges[k]);
      if (overlap > 0) counts[k] += (count * overlap) / (hi - lo);
    }
  }
  return counts;
}
