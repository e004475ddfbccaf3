// What one dashboard request may ask for. Any web page can make a browser send a GET to 127.0.0.1
// (an <img> tag is enough), so every answer's work and size are bounded here: repeated parameters
// count once, and beyond a cap the answer is 400 naming the parameter and the cap, not a slow,
// huge answer. The page itself asks for far less (one layer, 48 bins, the runs ticked).
import { HttpError } from "./safePath.js";

export const LIMITS = {
  /** Distinct `run=` values in one histogram request. */
  runs: 16,
  /** Distinct `model=` values in one histogram request. */
  models: 32,
  /** Highest `layer=` number. */
  layer: 256,
  /** Most `bins=` for rebinned histograms. */
  bins: 256,
  /** Most epochs (histogram steps) of one series in one answer; `epochs=` asks for fewer (the latest). */
  epochs: 2000,
  /**
   * Most numbers (bucket limits, counts, bins) in one histogram answer: about 3.5 MB of JSON, which
   * JSON.stringify writes in well under 100 ms (at 48 bins, the page's, some 6000 epochs of series).
   */
  histogramCells: 300_000,
  /** Distinct `name=` values for activation curves. */
  names: 32,
  /** Most `points=` per activation curve. */
  points: 4001,
  /** Heavy answers (histograms) computed at once; more wait in line, and beyond the line get 503. */
  heavyConcurrent: 1,
  heavyQueue: 16,
} as const;

/** A 400 that names the parameter and the cap it went past. */
export function overCap(parameter: string, cap: number, got: number, hint = ""): HttpError {
  return new HttpError(400, `query parameter "${parameter}": at most ${cap} per request; got ${got}${hint ? `; ${hint}` : ""}`, { parameter, cap });
}

/** The distinct non-empty values of a repeated parameter, in first-seen order, at most `cap` of them. */
export function distinctValues(params: URLSearchParams, key: string, cap: number): string[] {
  const values = [...new Set(params.getAll(key).filter((v) => v !== ""))];
  if (values.length > cap) throw overCap(key, cap, values.length);
  return values;
}

/**
 * A gate for heavy answers: at most `concurrent` run at once, at most `queue` wait; past that the
 * request is refused at once (503) rather than held in memory.
 */
export class HeavyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrent: number, private readonly queue: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queue) throw new HttpError(503, "the dashboard is busy with other heavy requests; try again shortly", { retry: true });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** Lets the event loop serve other requests between slices of heavy work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
