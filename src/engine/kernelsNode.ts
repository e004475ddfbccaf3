// Node's kernel loader: reads build/kernels.wasm from disk, synchronously, when the first Kernels is
// made (kernels.ts imports this file dynamically, in Node only; a browser fetches the file instead).
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

/** Reads the kernels at `url` (kernels.ts passes url) and readies V8 to compile them. */
export function nodeKernelBytes(url: URL): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(url));
  } catch (error) {
    throw new Error(`the kernels are not built (${url.pathname} is missing): run \`npm run build\``, { cause: error });
  }
  if (!WebAssembly.validate(bytes)) enableRelaxedSimd();
  return bytes;
}

/**
 * The kernels may be built with relaxed SIMD, for its fused multiply-add (twice the multiply-add
 * rate of plain SIMD on x86 with FMA). V8 accepts it by default from Node 22 (and Chromium); Node
 * 20's V8 has it behind a flag, which only matters when a module is compiled, so it can be turned
 * on here, before the first compile. The flag is process-wide, so worker threads see it too.
 */
function enableRelaxedSimd(): void {
  setFlagsFromString("--experimental-wasm-relaxed-simd");
}
