// Histograms as tensorboardX builds them with its default bins='tensorflow': np.histogram over
// TensorFlow's fixed exponential bucket edges, then trimmed to the span of non-empty buckets.

/** Summary statistics and buckets of one histogram, as stored in TensorFlow's HistogramProto. */
export interface HistogramData {
  min: number;
  max: number;
  /** Number of values given, counted or not (non-finite values fall in no bucket). */
  num: number;
  sum: number;
  sumSquares: number;
  /**
   * Right edge of each bucket: bucket i holds the values in [bucketLimit[i-1], bucketLimit[i])
   * (np.histogram's half-open bins); bucket 0 is always empty and only carries the left edge.
   */
  bucketLimit: number[];
  bucket: number[];
}

/**
 * TensorFlow's default bucket edges, built as tensorboardX builds them: v = 1e-12, multiplied by
 * 1.1 (in float64, step by step, so the edges are bit-identical) while v < 1e20; the negated edges
 * mirrored below 0.
 */
function tensorflowBucketEdges(): Float64Array {
  const positive: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
  const edges = new Float64Array(2 * positive.length + 1);
  for (let i = 0; i < positive.length; i++) {
    edges[positive.length - 1 - i] = -positive[i];
    edges[positive.length + 1 + i] = positive[i];
  }
  edges[positive.length] = 0;
  return edges;
}

const TF_EDGES = tensorflowBucketEdges();

/**
 * The bin np.histogram puts x in: i with edges[i] <= x < edges[i+1], the last bin also taking
 * x == its right edge; -1 when x lies outside the edges or is NaN. Binary search: ~11 steps over
 * the ~1,550 edges.
 */
function binOf(x: number, edges: Float64Array): number {
  const last = edges.length - 1;
  if (!(x >= edges[0] && x <= edges[last])) return -1;
  if (x === edges[last]) return last - 1;
  // Invariant: edges[lo] <= x < edges[hi].
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * numpy's pairwise summation (the float64 `np.sum` of a contiguous array): blocks of up to 128
 * summed with 8 accumulators, halves split on multiples of 8. Mirroring it keeps `sum` equal to
 * what tensorboardX records, not merely close.
 */
function pairwiseSum(values: ArrayLike<number>, start: number, n: number, square: boolean): number {
  const at = square
    ? (i: number) => values[i] * values[i]
    : (i: number) => +values[i];
  if (n < 8) {
    let res = 0;
    for (let i = start; i < start + n; i++) res += at(i);
    return res;
  }
  if (n <= 128) {
    const r = [at(start), at(start + 1), at(start + 2), at(start + 3),
      at(start + 4), at(start + 5), at(start + 6), at(start + 7)];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += at(start + i + j);
    }
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += at(start + i);
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half, square) + pairwiseSum(values, start + half, n - half, square);
}

/**
 * The histogram of `values`, or undefined where one would mislead or cannot be made: a NaN or
 * infinite value gives NaN bounds and sums that break TensorBoard's chart (tensorboardX writes them
 * all the same), and values all beyond the buckets' ±1e20 fill no bucket. The epoch's nonfinite
 * scalar and metrics.jsonl's diagnostics say how many values were bad.
 */
export function finiteHistogram(values: ArrayLike<number>): HistogramData | undefined {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return undefined;
  try {
    return makeHistogram(values);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * The histogram tensorboardX's `add_histogram(tag, values)` records (bins='tensorflow').
 * Values outside the outermost edges (about ±1e20) or NaN fall in no bucket, as in np.histogram,
 * but still count in num, sum and min/max (which then may be NaN or infinite), as in tensorboardX.
 * `sumSquares` is a pairwise sum of squares; tensorboardX uses a BLAS dot product, so the two
 * may differ in the last bits.
 * @throws RangeError when `values` is empty or no value falls in any bucket (tensorboardX raises too).
 */
export function makeHistogram(values: ArrayLike<number>): HistogramData {
  const n = values.length;
  if (n === 0) throw new RangeError("makeHistogram: no values given");
  const edges = TF_EDGES;
  const counts = new Float64Array(edges.length - 1);
  let min = Infinity;
  let max = -Infinity;
  let sawNaN = false;
  for (let i = 0; i < n; i++) {
    const x = +values[i];
    if (x !== x) sawNaN = true;
    if (x < min) min = x;
    if (x > max) max = x;
    const bin = binOf(x, edges);
    if (bin >= 0) counts[bin]++;
  }
  if (sawNaN) min = max = NaN;

  let first = 0;
  while (first < counts.length && counts[first] === 0) first++;
  if (first === counts.length) {
    throw new RangeError("makeHistogram: no finite value within ±1e20 to put in a bucket");
  }
  let last = counts.length - 1;
  while (counts[last] === 0) last--;

  // TensorBoard reads only right edges; an empty bucket in front carries the leftmost edge.
  const bucket = first > 0
    ? Array.from(counts.subarray(first - 1, last + 1))
    : [0, ...counts.subarray(0, last + 1)];
  const bucketLimit = Array.from(edges.subarray(first, last + 2));

  return {
    min,
    max,
    num: n,
    sum: 0 + pairwiseSum(values, 0, n, false),
    sumSquares: 0 + pairwiseSum(values, 0, n, true),
    bucketLimit,
    bucket,
  };
}
