// The kernel module's exports: every numeric routine actlab runs.
export * from "./gemm";
export * from "./dense";
export * from "./activations";
export * from "./loss";
export * from "./optim";
export * from "./data";
export * from "./sparse";
export * from "./norm";
export * from "./scratch";

/** First free byte after the module's static data: the engine's arenas start here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when the kernels were built with relaxed SIMD, so that madd() is a fused multiply-add. */
export const fusedMultiplyAdd: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
