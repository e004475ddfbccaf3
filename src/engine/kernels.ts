// Gives each model its own instance of the WebAssembly kernels, with a bump allocator over the
// instance's memory: everything a model needs is allocated once, up front, and nothing is allocated
// per training step. The module itself is compiled once per process (or browser worker) by a loader:
// in Node, kernelsNode.ts reads build/kernels.wasm from disk; in a browser, loadKernelsFrom fetches
// it. This file imports nothing from node: so that the browser's workers can load it unchanged.

/** The kernel exports, typed. Pointers are byte offsets into the instance's memory. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gemmNT(C: number, A: number, B: number, bias: number, M: number, N: number, K: number): void;
  gemmBroadcast(C: number, A: number, strideM: number, strideK: number, B: number, bias: number, M: number, N: number, K: number, kind: number, Z: number, F: number, param: number): void;
  denseForward(Z: number, A: number, X: number, W: number, Wt: number, b: number, batch: number, inSize: number, outSize: number, kind: number, param: number): void;
  denseBackward(dX: number, dW: number, db: number, dY: number, X: number, W: number, batch: number, inSize: number, outSize: number, kind: number, Zbelow: number, param: number): void;
  columnSums(s: number, M: number, rows: number, cols: number): void;
  activationForward(kind: number, A: number, Z: number, n: number, param: number): void;
  activationBackward(kind: number, dZ: number, dA: number, Z: number, A: number, n: number, param: number): void;
  /** PReLU with its slope read from memory; the backward also writes the slope's gradient. */
  preluWithSlopeForward(A: number, Z: number, n: number, slopePtr: number): void;
  preluWithSlopeBackward(dZ: number, dSlopePtr: number, dA: number, Z: number, n: number, slopePtr: number): void;
  /** rrelu in training: n slopes uniform on [lower, upper), a hash of (seed, step, layer, index); then applied. */
  rreluDrawSlopes(slopes: number, n: number, seed: number, step: number, layer: number): void;
  rreluWithSlopesForward(A: number, Z: number, slopes: number, n: number): void;
  rreluWithSlopesBackward(dZ: number, dA: number, Z: number, slopes: number, n: number): void;
  softmaxCrossEntropyForward(probs: number, logits: number, labels: number, batch: number, classes: number): number;
  softmaxCrossEntropyBackward(dLogits: number, probs: number, labels: number, batch: number, classes: number): void;
  countCorrect(logits: number, labels: number, batch: number, classes: number): number;
  sgdStep(params: number, grads: number, velocity: number, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  adamStep(params: number, grads: number, m: number, v: number, n: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, eps: number, l2: number, decay: number, stepSize: number, bias2Sqrt: number): void;
  rmspropStep(params: number, grads: number, square: number, buffer: number, n: number, lr: number, alpha: number, oneMinusAlpha: number, eps: number, weightDecay: number, momentum: number): void;
  pixelTable(table: number, mean: number, std: number): void;
  sparsePixels(offsets: number, values: number, starts: number, pixels: number, count: number, size: number, table: number, rowBytes: number, firstEntry: number): number;
  listPixels(compact: number, starts: number, pixels: number, count: number, size: number, firstEntry: number): number;
  touchPixels(compact: number, from: number, to: number, count: number): void;
  expandPixels(
    offsets: number, values: number, starts: number, compact: number, from: number, to: number, count: number, table: number, rowBytes: number, firstEntry: number,
  ): number;
  sparseForward(Z: number, starts: number, offsets: number, values: number, Wt: number, bias: number, rowSums: number, x0: number, M: number, N: number): void;
  sparseByPixel(pixelCounts: number, pixelOffsets: number, pixelValues: number, starts: number, offsets: number, values: number, M: number, K: number, rowBytes: number, k0: number, k1: number): void;
  sparseWeightGradientByPixel(
    dW: number, pixelCounts: number, pixelOffsets: number, pixelValues: number, dZ: number, db: number, x0: number, M: number, N: number, K: number,
    k0: number, k1: number, rows: number,
  ): void;
  sparseWeightGradient(dWt: number, starts: number, offsets: number, values: number, dZ: number, db: number, x0: number, M: number, N: number, K: number): void;
  batchNormForward(Y: number, X: number, gamma: number, beta: number, mean: number, rstd: number, runningMean: number, runningVar: number, batchesTracked: number, batch: number, n: number, training: number, momentum: number, eps: number): void;
  batchNormBackward(dX: number, dGamma: number, dBeta: number, dY: number, X: number, gamma: number, mean: number, rstd: number, batch: number, n: number): void;
  layerNormForward(Y: number, X: number, gamma: number, beta: number, mean: number, rstd: number, batch: number, n: number, eps: number): void;
  layerNormBackward(dX: number, dGamma: number, dBeta: number, dY: number, X: number, gamma: number, mean: number, rstd: number, batch: number, n: number): void;
  /** Shape rules the memory plan asks before a model exists (bytes; 1: yes, 0: no). */
  sparseRowBytes(N: number): number;
  sparseGradientByPixel(N: number): number;
  denseKeepsTransposed(inSize: number, outSize: number): number;
  gemmPacks(K: number, N: number): number;
  gemmNTPacked(C: number, A: number, B: number, bias: number, M: number, N: number, K: number): void;
  transpose(T: number, S: number, rows: number, cols: number): void;
  transposeInto(T: number, tRowBytes: number, S: number, rows: number, cols: number, sums: number): void;
  lookupPixels(dst: number, src: number, n: number, table: number): void;
  expElementwise(out: number, x: number, n: number): void;
  expm1Elementwise(out: number, x: number, n: number): void;
  log1pElementwise(out: number, x: number, n: number): void;
  /** Bytes of one thread's packing areas, and pointing this instance's at `base` (scratch.ts). */
  threadScratchBytes(): number;
  useThreadScratch(base: number): void;
}

export type ActivationForward = (A: number, Z: number, n: number, param: number) => void;
export type ActivationBackward = (dZ: number, dA: number, Z: number, A: number, n: number, param: number) => void;

let compiled: WebAssembly.Module | undefined;
/** The memory's declared maximum in pages, read from the bytes the module was compiled from (wasm32's 4 GiB when unknown). */
let maxPages: number | undefined;
/** Compiles the module on first use; set by kernelsNode.ts in Node, by loadKernelsFrom in a browser. */
let loader: (() => WebAssembly.Module) | undefined;

/** Where the build puts the kernels, relative to this file in dist/src/engine/ (the static site keeps the same layout). */
export const KERNELS_WASM_URL = new URL("../../../build/kernels.wasm", import.meta.url);
/**
 * The same source built over an imported shared memory (asconfig.json's `threads` target), so that
 * several instances, one per thread, can work on one model (threadTeam.ts). Node only: a page would
 * need cross-origin isolation for shared memory, and the browser trainer runs one model per worker.
 */
export const KERNELS_THREADS_WASM_URL = new URL("../../../build/kernels-threads.wasm", import.meta.url);
/** The threads build's memory: its initial pages (asconfig.json's initialMemory) and the wasm32 maximum. */
const SHARED_INITIAL_PAGES = 16;

/** Uses `module` for every Kernels made from now on (the browser's way in: compile once, then train). */
export function useKernelModule(module: WebAssembly.Module): void {
  compiled = module;
}

/** Sets how the module is compiled when first needed (Node's loader reads the file synchronously). */
export function setKernelLoader(load: () => WebAssembly.Module): void {
  loader = load;
}

/** Fetches and compiles the kernels (a browser or worker; any runtime with fetch). */
export async function loadKernelsFrom(url: URL | string = KERNELS_WASM_URL): Promise<WebAssembly.Module> {
  if (compiled) return compiled;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the kernels could not be fetched from ${String(url)}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const module = await WebAssembly.compile(bytes);
  if (!compiled) {
    compiled = module;
    maxPages = declaredMaximumPages(bytes);
  }
  return compiled;
}

let compiledThreads: WebAssembly.Module | undefined;
let threadsLoader: (() => WebAssembly.Module) | undefined;

/** The shared-memory build, compiled on first use (Node only; see KERNELS_THREADS_WASM_URL). */
export function threadsKernelModule(): WebAssembly.Module {
  if (!compiledThreads) {
    if (!threadsLoader) throw new Error("the shared-memory kernels are only loaded in Node");
    compiledThreads = threadsLoader();
  }
  return compiledThreads;
}

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    if (!loader) throw new Error("the kernels are not loaded: await loadKernelsFrom() first (in Node, kernelsNode.ts loads them)");
    compiled = loader();
  }
  return compiled;
}

// In Node the kernels are read from disk when first needed, as before; the node:-only loader is
// imported dynamically so that a browser never sees it.
if (typeof process === "object" && typeof process.versions?.node === "string") {
  const { nodeKernelBytes } = await import("./kernelsNode.js");
  loader ??= () => {
    const bytes = nodeKernelBytes(KERNELS_WASM_URL);
    maxPages = declaredMaximumPages(bytes);
    return new WebAssembly.Module(bytes);
  };
  threadsLoader ??= () => new WebAssembly.Module(nodeKernelBytes(KERNELS_THREADS_WASM_URL));
}

const PAGE_BYTES = 65536;
/** wasm32 addresses 2^16 pages of 64 KiB at most: 4 GiB. */
const WASM32_MAX_PAGES = 65536;
/** Every allocation starts on a 64-byte boundary (a cache line; SIMD loads never straddle two). */
export const ALLOCATION_ALIGN = 64;

/**
 * The largest memory the kernel module's instance may grow to: the maximum its memory section
 * declares, or wasm32's 4 GiB when it declares none. Read from the module's own bytes, so that a
 * build with another limit is honoured without a copy of the number here.
 */
function declaredMaximumPages(bytes: Uint8Array): number {
  let at = 8; // magic and version
  const leb = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 5) { // the memory section: count, then flags (bit 0: has a maximum), initial, maximum
      if (leb() > 0) {
        const flags = leb();
        leb();
        if (flags & 1) return Math.min(leb(), WASM32_MAX_PAGES);
      }
      return WASM32_MAX_PAGES;
    }
    at = end;
  }
  return WASM32_MAX_PAGES;
}

let probe: Kernels | undefined;

/**
 * One instance kept for questions about the module itself (where its arenas start, the shape rules
 * a memory plan follows), never for a model's data: asked before any model's instance exists.
 */
export function probeKernels(): Kernels {
  probe ??= new Kernels();
  return probe;
}

let memoryLimits: { heapBase: number; maxBytes: number } | undefined;

/**
 * Where a fresh instance's arenas start (after the module's static data) and the most bytes its
 * memory can hold: an arena must end at or below maxBytes.
 */
export function kernelMemoryLimits(): { heapBase: number; maxBytes: number } {
  if (!memoryLimits) {
    const probe = probeKernels();
    memoryLimits = { heapBase: probe.allocated, maxBytes: (maxPages ?? WASM32_MAX_PAGES) * PAGE_BYTES };
  }
  return memoryLimits;
}

/**
 * A bump allocation done ahead, without memory: regions are placed exactly as Kernels.alloc would
 * place them from `base`, so that a model can know its size before its instance exists, and then
 * allocate exactly that (Kernels.allocatePlan). The one place where the engine's layout in memory
 * is decided; a component that needs memory (scratch for a kernel included) takes it here.
 */
export class MemoryPlan {
  readonly regions: Array<{ name: string; offset: number; bytes: number }> = [];
  private next: number;

  constructor(readonly base: number = kernelMemoryLimits().heapBase) {
    this.next = align(base, ALLOCATION_ALIGN);
  }

  /** Places `bytes` (64-byte aligned) and returns their pointer. */
  take(name: string, bytes: number): number {
    const offset = this.next;
    this.next = align(offset + bytes, ALLOCATION_ALIGN);
    this.regions.push({ name, offset, bytes });
    return offset;
  }

  takeFloats(name: string, count: number): number {
    return this.take(name, count * 4);
  }

  /** The first byte past the plan: what the instance's memory must hold. */
  get end(): number {
    return this.next;
  }
}

/** The imports an instance of either build takes; `memory` for the shared build. */
export function kernelImports(memory?: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      ...(memory ? { memory } : {}),
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`kernel abort at ${line}:${column}`);
      },
    },
  };
}

/**
 * One kernel instance and the memory it owns. `shared`: the threads build, over a new shared
 * memory that other threads' instances can be made over (module and memory are then set).
 */
export class Kernels {
  readonly exports: KernelExports;
  /** The module and memory of a shared instance, for the threads that join it; undefined otherwise. */
  readonly shared: { module: WebAssembly.Module; memory: WebAssembly.Memory } | undefined;
  private readonly functions: Record<string, unknown>;
  private next: number;
  private bytesView: Uint8Array;
  private floatsView: Float32Array;
  private wordsView: Uint32Array;

  constructor(options: { shared?: boolean } = {}) {
    let instance: WebAssembly.Instance;
    if (options.shared) {
      const module = threadsKernelModule();
      const memory = new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: WASM32_MAX_PAGES, shared: true });
      instance = new WebAssembly.Instance(module, kernelImports(memory));
      this.shared = { module, memory };
    } else {
      instance = new WebAssembly.Instance(kernelModule(), kernelImports());
    }
    this.functions = instance.exports as Record<string, unknown>;
    this.exports = instance.exports as unknown as KernelExports;
    this.next = align(this.exports.heapBase(), ALLOCATION_ALIGN);
    this.bytesView = new Uint8Array(this.exports.memory.buffer);
    this.floatsView = new Float32Array(this.exports.memory.buffer);
    this.wordsView = new Uint32Array(this.exports.memory.buffer);
  }

  /** The bump pointer: the first byte not yet allocated. */
  get allocated(): number {
    return this.next;
  }

  /** Reserves bytes (64-byte aligned, zeroed) and returns their pointer. */
  alloc(bytes: number): number {
    const pointer = this.next;
    this.next = align(pointer + bytes, ALLOCATION_ALIGN);
    this.growTo(this.next);
    return pointer;
  }

  /**
   * Allocates every region of a plan made from this instance's first free byte, at once (the memory
   * grows once); the plan's pointers are then this instance's.
   */
  allocatePlan(plan: MemoryPlan): void {
    if (plan.base !== this.next) throw new Error(`memory plan starts at ${plan.base}, the allocator is at ${this.next}`);
    this.growTo(plan.end);
    this.next = plan.end;
  }

  private growTo(end: number): void {
    const memory = this.exports.memory;
    if (end > memory.buffer.byteLength) {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE_BYTES));
      this.refreshViews();
    }
  }

  allocFloats(count: number): number {
    return this.alloc(count * 4);
  }

  /** A view over the whole memory as bytes; stays valid until the next alloc. */
  bytes(): Uint8Array {
    return this.bytesView;
  }

  /** A view of `count` floats at `pointer`; valid until the next alloc. */
  floats(pointer: number, count: number): Float32Array {
    return this.floatsView.subarray(pointer >>> 2, (pointer >>> 2) + count);
  }

  /** Whether this build multiplies and adds in one fused step (relaxed SIMD); see enableRelaxedSimd. */
  get fusedMultiplyAdd(): boolean {
    const global = this.functions.fusedMultiplyAdd;
    return global instanceof WebAssembly.Global && global.value === 1;
  }

  /**
   * The activations the kernels were built with, in kind order: the <name>Kind globals the build
   * generates from assembly/activationMath.ts (identity, kind 0, left out). The catalogue must name
   * the same ones (test/kernelsVsReference.test.ts).
   */
  activationNames(): string[] {
    return Object.entries(this.functions)
      .filter(([key, value]) => key.endsWith("Kind") && key !== "identityKind" && value instanceof WebAssembly.Global)
      .sort(([, a], [, b]) => (a as WebAssembly.Global).value - (b as WebAssembly.Global).value)
      .map(([key]) => key.slice(0, -"Kind".length));
  }

  /** The number the fused kernels know an activation by (0: none), read from the module itself. */
  activationKind(name: string): number {
    const global = this.functions[`${name}Kind`];
    if (!(global instanceof WebAssembly.Global)) throw new Error(`no activation kind named ${name} in kernels.wasm`);
    return global.value as number;
  }

  /** The 32-bit integer at `pointer`, read without making a view (no allocation). */
  intAt(pointer: number): number {
    return this.wordsView[pointer >>> 2] | 0;
  }

  /** The float at `pointer`, read without making a view (no allocation). */
  floatAt(pointer: number): number {
    return this.floatsView[pointer >>> 2];
  }

  /** A view over the whole memory as 32-bit words; stays valid until the next alloc. */
  words(): Uint32Array {
    return this.wordsView;
  }

  activationForward(name: string): ActivationForward {
    return this.kernel(`${name}Forward`) as ActivationForward;
  }

  activationBackward(name: string): ActivationBackward {
    return this.kernel(`${name}Backward`) as ActivationBackward;
  }

  /** An export by name, as a function (how a thread team calls what it was sent). */
  kernel(exportName: string): unknown {
    const fn = this.functions[exportName];
    if (typeof fn !== "function") throw new Error(`no kernel named ${exportName} in kernels.wasm`);
    return fn;
  }

  private refreshViews(): void {
    this.bytesView = new Uint8Array(this.exports.memory.buffer);
    this.floatsView = new Float32Array(this.exports.memory.buffer);
    this.wordsView = new Uint32Array(this.exports.memory.buffer);
  }
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
