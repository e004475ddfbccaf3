import type { MessagePort } from "node:worker_threads";

// The words a model's thread and its helper threads share (one SharedArrayBuffer per helper): a
// job number the model's thread raises to hand out calls, the number the helper last finished,
// a failure flag, and the calls themselves as export indices and float64 arguments (pointers and
// f32 knobs alike are exact in a double, as they are when passed from JavaScript directly).

/** Int32 slots. */
export const JOB = 0;
export const DONE = 1;
export const FAILED = 2;
export const CALL_COUNT = 3;
/** Export index of call c at FUNCTION + c. */
export const FUNCTION = 4;
export const MAX_CALLS = 8;
export const MAX_ARGS = 16;
/** JOB is set to this to end the helper. */
export const CLOSE = -1;
/** Int32 words before the arguments (a multiple of 2, so the float64 view is aligned). */
const HEADER_WORDS = FUNCTION + MAX_CALLS;
/** How long a helper spins for its next job, and the model's thread for a helper's result, before sleeping. */
export const HELPER_SPIN_MS = 5;
export const RESULT_SPIN_MS = 20;
export const CONTROL_BYTES = HEADER_WORDS * 4 + MAX_CALLS * MAX_ARGS * 8;

/** Int32 and float64 views over a helper's control block. */
export function controlViews(buffer: SharedArrayBuffer): { words: Int32Array; args: Float64Array } {
  return { words: new Int32Array(buffer, 0, HEADER_WORDS), args: new Float64Array(buffer, HEADER_WORDS * 4, MAX_CALLS * MAX_ARGS) };
}

/** The module's function exports in a fixed order: both sides name a call by its index here. */
export function functionNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module).filter((e) => e.kind === "function").map((e) => e.name);
}

/**
 * Waits until words[slot] differs from `from`: spinning for up to `spinMs` first, then sleeping in
 * Atomics.wait. A training step hands out its products every 0.1–1 ms, and waking a sleeping
 * thread costs 50–100 µs on a virtual machine (measured: with a 20,000-load spin the helpers slept
 * between products, and 3 × 256 gained 8% from a second thread instead of the 40% it has work for).
 * A team's threads are spare cores by construction (pool.ts), so spinning costs no other work.
 */
export function waitForChange(words: Int32Array, slot: number, from: number, spinMs: number): number {
  const deadline = performance.now() + spinMs;
  for (let i = 1; ; i++) {
    const now = Atomics.load(words, slot);
    if (now !== from) return now;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  for (;;) {
    Atomics.wait(words, slot, from);
    const now = Atomics.load(words, slot);
    if (now !== from) return now;
  }
}

export interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  scratch: number;
  control: SharedArrayBuffer;
  /** Where a helper sends a failed call's error: the model's thread reads it synchronously. */
  errors: MessagePort;
}
