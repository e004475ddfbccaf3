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
  softmaxCrossEntropyForward(probs: number, logits: number, labels: number, batch: number, classes: number): number;
  softmaxCrossEntropyBackward(dLogits: number, probs: number, labels: number, batch: number, classes: number): void;
  countCorrect(logits: number, labels: number, batch: number, classes: number): number;
  sgdMomentumStep(params: number, grads: number, velocity: number, n: number, lr: number, momentum: number): void;
  pixelTable(table: number, mean: number, std: number): void;
  sparsePixels(offsets: number, values: number, starts: number, pixels: number, count: number, size: number, table: number, rowBytes: number, firstEntry: number): number;
  sparseForward(Z: number, starts: number, offsets: number, values: number, Wt: number, bias: number, rowSums: number, x0: number, M: number, N: number): void;
  sparseWeightGradient(dWt: number, starts: number, offsets: number, values: number, dZ: number, db: number, x0: number, M: number, N: number, K: number): void;
  transpose(T: number, S: number, rows: number, cols: number): void;
  lookupPixels(dst: number, src: number, n: number, table: number): void;
  expElementwise(out: number, x: number, n: number): void;
  expm1Elementwise(out: number, x: number, n: number): void;
  log1pElementwise(out: number, x: number, n: number): void;
}

export type ActivationForward = (A: number, Z: number, n: number, param: number) => void;
export type ActivationBackward = (dZ: number, dA: number, Z: number, A: number, n: number, param: number) => void;

let compiled: WebAssembly.Module | undefined;
/** Compiles the module on first use; set by kernelsNode.ts in Node, by loadKernelsFrom in a browser. */
let loader: (() => WebAssembly.Module) | undefined;

/** Where the build puts the kernels, relative to this file in dist/src/engine/ (the static site keeps the same layout). */
export const KERNELS_WASM_URL = new URL("../../../build/kernels.wasm", import.meta.url);

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
  const module = await WebAssembly.compile(await response.arrayBuffer());
  compiled ??= module;
  return compiled;
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
  const { nodeKernelModule } = await import("./kernelsNode.js");
  loader ??= () => nodeKernelModule(KERNELS_WASM_URL);
}

const PAGE_BYTES = 65536;

/** One kernel instance and the memory it owns. */
export class Kernels {
  readonly exports: KernelExports;
  private readonly functions: Record<string, unknown>;
  private next: number;
  private bytesView: Uint8Array;
  private floatsView: Float32Array;
  private wordsView: Uint32Array;

  constructor() {
    const instance = new WebAssembly.Instance(kernelModule(), {
      env: {
        abort(_message: number, _file: number, line: number, column: number): never {
          throw new Error(`kernel abort at ${line}:${column}`);
        },
      },
    });
    this.functions = instance.exports as Record<string, unknown>;
    this.exports = instance.exports as unknown as KernelExports;
    this.next = align(this.exports.heapBase(), 64);
    this.bytesView = new Uint8Array(this.exports.memory.buffer);
    this.floatsView = new Float32Array(this.exports.memory.buffer);
    this.wordsView = new Uint32Array(this.exports.memory.buffer);
  }

  /** Reserves bytes (64-byte aligned, zeroed) and returns their pointer. */
  alloc(bytes: number): number {
    const pointer = this.next;
    this.next = align(pointer + bytes, 64);
    const memory = this.exports.memory;
    if (this.next > memory.buffer.byteLength) {
      memory.grow(Math.ceil((this.next - memory.buffer.byteLength) / PAGE_BYTES));
      this.refreshViews();
    }
    return pointer;
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

  private kernel(exportName: string): unknown {
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
