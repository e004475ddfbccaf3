// The kernel module's exports: every numeric routine actlab runs.
export * from "./gemm";
export * from "./dense";
export * from "./activations";
export * from "./loss";
export * from "./sgd";
export * from "./data";

/** First free byte after the module's static data: the engine's arenas start here. */
export function heapBase(): usize {
  return __heap_base;
}
