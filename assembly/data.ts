// Turning a batch of uint8 pixels into network input, as torchvision's ToTensor then Normalize:
// x = (u / 255 − mean) / std, each operation rounded to f32 in that order.

export function normalizePixels(dst: usize, src: usize, n: i32, mean: f32, std: f32): void {
  const d255 = f32x4.splat(255);
  const vMean = f32x4.splat(mean);
  const vStd = f32x4.splat(std);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const bytes = v128.load32_zero(src + <usize>i);
    const ints = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes));
    const x = f32x4.div(f32x4.convert_i32x4_u(ints), d255);
    v128.store(dst + (<usize>i << 2), f32x4.div(f32x4.sub(x, vMean), vStd));
  }
  for (; i < n; i++) {
    const x: f32 = <f32>load<u8>(src + <usize>i) / 255;
    store<f32>(dst + (<usize>i << 2), (x - mean) / std);
  }
}
