// A thread's scratch. The packing areas of gemm.ts and sparse.ts are module static data, which is
// right for one instance over its own memory. When several instances share one memory (a model's
// products split over threads: src/engine/threadTeam.ts), each would pack into the same bytes; so
// every instance but the first is pointed at an area of its own, taken from the model's memory plan.
import { GEMM_SCRATCH_BYTES, useGemmScratch } from "./gemm";
import { SPARSE_SCRATCH_BYTES, useSparseScratch } from "./sparse";

/** Bytes one thread's scratch needs (64-byte aligned parts). */
export function threadScratchBytes(): usize {
  return GEMM_SCRATCH_BYTES + SPARSE_SCRATCH_BYTES;
}

/** Points this instance's packing areas at `base` (threadScratchBytes() bytes, 64-byte aligned). */
export function useThreadScratch(base: usize): void {
  useGemmScratch(base);
  useSparseScratch(base + GEMM_SCRATCH_BYTES);
}
