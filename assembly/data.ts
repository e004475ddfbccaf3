// Turning a batch of uint8 pixels into network input, as torchvision's ToTensor then Normalize:
// x = (u / 255 − mean) / std, each operation rounded to f32 in that order.
//
// A pixel has only 256 values, so the 256 results are computed once into a table (with exactly
// those roundings) and a batch is a table lookup per pixel: the same numbers as computing each
// one, without two divisions per pixel.

/**
 * table[u] = (u / 255 − mean) / std in f32, for u = 0..255; then, at table + 1024, table[u] − table[0]
 * (what sparse.ts multiplies by).
 */
export function pixelTable(table: usize, mean: f32, std: f32): void {
  for (let u = 0; u < 256; u++) {
    const x: f32 = <f32>u / 255;
    store<f32>(table + (<usize>u << 2), (x - mean) / std);
  }
  const zero = load<f32>(table);
  for (let u = 0; u < 256; u++) store<f32>(table + 1024 + (<usize>u << 2), load<f32>(table + (<usize>u << 2)) - zero);
}

/** dst[i] = table[src[i]] for n pixels. */
export function lookupPixels(dst: usize, src: usize, n: i32, table: usize): void {
  let i = 0;
  // Four pixels per iteration: one 32-bit load instead of four byte loads.
  for (; i + 4 <= n; i += 4) {
    const quad = load<u32>(src + <usize>i);
    const d = dst + (<usize>i << 2);
    store<f32>(d, load<f32>(table + ((quad & 0xff) << 2)));
    store<f32>(d, load<f32>(table + (((quad >>> 8) & 0xff) << 2)), 4);
    store<f32>(d, load<f32>(table + (((quad >>> 16) & 0xff) << 2)), 8);
    store<f32>(d, load<f32>(table + ((quad >>> 24) << 2)), 12);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(table + (<usize>load<u8>(src + <usize>i) << 2)));
}
