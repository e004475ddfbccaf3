// Loads the WebAssembly kernels (compiled once per process) and gives each model its own instance
// with a bump allocator over the instance's memory: everything a model needs is allocated once,
// up front, and nothing is allocated per training step.
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

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
  softmaxCrossEntropyForward(probs: number, logits: number, labels: number, batch: number, classes: number): number;
  softmaxCrossEntropyBackward(dLogits: number, probs: number, labels: number, batch: number, classes: number): void;
  countCorrect(logits: number, labels: number, batch: number, classes: number): number;
  sgdStep(params: number, grads: number, velocity: number, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  adamStep(params: number, grads: number, m: number, v: number, n: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, eps: number, l2: number, decay: number, stepSize: number, bias2Sqrt: number): void;
  rmspropStep(params: number, grads: number, square: number, buffer: number, n: number, lr: number, alpha: number, oneMinusAlpha: number, eps: number, weightDecay: number, momentum: number): void;
  pixelTable(table: number, mean: number, std: number): void;
  sparsePixels(offsets: number, values: number, starts: number, pixels: number, count: number, size: number, table: number, rowBytes: number, firstEntry: number): number;
  sparseForward(Z: number, starts: number, offsets: number, values: number, Wt: number, bias: number, rowSums: number, x0: number, M: number, N: number): void;
  sparseWeightGradient(dWt: number, starts: number, offsets: number, values: number, dZ: number, db: number, x0: number, M: number, N: number, K: number): void;
  sparseWeightGradientDirect(dW: number, starts: number, offsets: number, values: number, dZ: number, db: number, x0: number, M: number, N: number, K: number): void;
  /** Shape rules the memory plan asks before a model exists (1: yes, 0: no). */
  sparseGradientDirect(N: number, K: number): number;
  denseKeepsTransposed(inSize: number, outSize: number): number;
  gemmPacks(K: number, N: number): number;
  gemmNTPacked(C: number, A: number, B: number, bias: number, M: number, N: number, K: number): void;
  transpose(T: number, S: number, rows: number, cols: number): void;
  lookupPixels(dst: number, src: number, n: number, table: number): void;
  expElementwise(out: number, x: number, n: number): void;
  expm1Elementwise(out: number, x: number, n: number): void;
  log1pElementwise(out: number, x: number, n: number): void;
}

export type ActivationForward = (A: number, Z: number, n: number, param: number) => void;
export type ActivationBackward = (dZ: number, dA: number, Z: number, A: number, n: number, param: number) => void;

let compiled: WebAssembly.Module | undefined;

/** Where the build puts the kernels, relative to this file in dist/src/engine/. */
export const KERNELS_WASM_URL = new URL("../../../build/kernels.wasm", import.meta.url);

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(KERNELS_WASM_URL));
    } catch (error) {
      throw new Error(`the kernels are not built (${KERNELS_WASM_URL.pathname} is missing): run \`npm run build\``, { cause: error });
    }
    if (!WebAssembly.validate(bytes)) enableRelaxedSimd();
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/**
 * The kernels may be built with relaxed SIMD, for its fused multiply-add (twice the multiply-add
 * rate of plain SIMD on x86 with FMA). V8 accepts it by default from Node 22; Node 20's V8 has it
 * behind a flag, which only matters when a module is compiled, so it can be turned on here, before
 * the first compile. The flag is process-wide, so worker threads see it too.
 */
function enableRelaxedSimd(): void {
  setFlagsFromString("--experimental-wasm-relaxed-simd");
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
    memoryLimits = { heapBase: probe.allocated, maxBytes: declaredMaximumPages(new Uint8Array(readFileSync(KERNELS_WASM_URL))) * PAGE_BYTES };
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
