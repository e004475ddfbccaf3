// One model's products on several threads. Each thread has its own instance of the shared-memory
// kernels (kernels.ts, `shared`) over the model's one memory, and computes a band of rows of each
// product that pays for the split. Nothing is reduced across threads: every output element is
// computed by one thread, by the same instructions in the same order as on one thread, so the
// result is bit-identical for any number of threads (the tests hold it to that). This file has no
// Node imports: the model only sees this interface; threadTeamNode.ts starts the threads.
import type { Kernels } from "./kernels.js";

/** One kernel call: an export's name and its arguments (pointers and numbers). */
export interface KernelCall {
  fn: string;
  args: number[];
}

/** Threads working on one model's memory, the calling thread among them. */
export interface ThreadTeam {
  /** Threads in all, the calling one included. */
  readonly size: number;
  /**
   * Runs calls[t] on thread t, each thread's list in order (calls[0] on the calling thread), and
   * returns once every thread is done. A kernel that fails on any thread throws here.
   */
  run(calls: ReadonlyArray<readonly KernelCall[]>): void;
  /** Ends the other threads; the team is not used again. */
  close(): void;
}

/** How a model gets its team: the thread count asked for, and how to start it over the model's kernels. */
export interface ThreadTeamFactory {
  threads: number;
  /** `scratch[t − 1]`: thread t's packing areas, threadScratchBytes() bytes of the model's memory plan. */
  start(kernels: Kernels, scratch: number[]): ThreadTeam;
}

/** Rows are cut at multiples of this: the kernels' register tiles are 4 rows tall. */
export const ROW_GRAIN = 4;
/**
 * Columns are cut at multiples of this: the packed kernels' panels are 8 columns wide, and 16 floats
 * are a 64-byte line, so threads that each write a band of columns in every row (of Y, dX, Wᵀ, dW)
 * never write the same line (rows start on lines). (The sparse layer's pixel bands were cut inside a
 * line, at pixel 392 of 784; steady-state steps timed against that, interleaved, were no slower, so
 * this is the safe cut rather than a measured gain.)
 */
export const COLUMN_GRAIN = 16;

/**
 * Thread t's band [from, to) of `count` rows or columns cut into `parts` bands, each a multiple of
 * `grain` (the last takes the rest). Bands may be empty when there are few.
 */
export function band(count: number, parts: number, t: number, grain = ROW_GRAIN): [number, number] {
  const grains = Math.ceil(count / grain);
  const start = (i: number) => Math.min(count, Math.floor((grains * i) / parts) * grain);
  return [start(t), t === parts - 1 ? count : start(t + 1)];
}

/**
 * Runs calls(from, to) on each of a team's threads for its band of `count` rows or columns, cut at
 * multiples of `grain` (band); a thread whose band is empty is given nothing.
 */
export function runBands(team: ThreadTeam, count: number, grain: number, calls: (from: number, to: number) => KernelCall[]): void {
  team.run(Array.from({ length: team.size }, (_, t) => {
    const [from, to] = band(count, team.size, t, grain);
    return to > from ? calls(from, to) : [];
  }));
}

/**
 * Layers are split over threads only from this width on: there a product's work per step (64 rows
 * × 256 × 256 multiply-adds and up) dwarfs the cost of handing a band to another thread (tens of
 * microseconds), where the notebook's 64-wide layers would lose more to it than they gain. Decided
 * by shape alone, so the choice is the same on every run; the result being the same bits either
 * way, it only ever changes the speed.
 */
export const SPLIT_MIN_WIDTH = 256;
/** Element-wise updates (the optimiser's) are split where the block is this long or longer. */
export const SPLIT_MIN_ELEMENTS = 1 << 18;

/** Whether a dense layer's products for `rows` rows are split. */
export function denseSplits(rows: number, outSize: number, inSize: number): boolean {
  return rows >= 2 * ROW_GRAIN && outSize >= SPLIT_MIN_WIDTH && inSize >= SPLIT_MIN_WIDTH;
}

/** Whether the sparse first layer's forward for `rows` images is split (its input, 784 pixels, is wide). */
export function sparseSplits(rows: number, outSize: number): boolean {
  return rows >= 2 * ROW_GRAIN && outSize >= SPLIT_MIN_WIDTH;
}

/** Whether a net has any layer that splits, so that a team for it is worth its threads. */
export function netSplits(hiddenSizes: readonly number[]): boolean {
  return hiddenSizes.some((width) => width >= SPLIT_MIN_WIDTH);
}
