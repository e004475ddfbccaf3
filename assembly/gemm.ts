// Matrix products for dense layers, over row-major f32 buffers addressed by byte pointers.
//
// Every product a dense layer needs is written as C[m, n] = Σ_k A(m, k) · B[k, n] with B row-major
// [K, N]: the micro-kernel broadcasts one scalar of A and multiplies it into a vector of B, so the
// inner loop needs no horizontal sums. A is addressed through element strides (strideM, strideK),
// which lets the same kernel read A as it is (dZ·W for dX) or transposed (dZᵀ·X for dW) without
// a copy. The forward pass X·Wᵀ transposes W into a scratch panel first (see transpose below).

// @ts-ignore: decorator
@inline
function accumulate(c: v128, a: f32, b: v128): v128 {
  return f32x4.add(c, f32x4.mul(f32x4.splat(a), b));
}

/**
 * C[M, N] = A(M, K) · B[K, N] (+ bias[N] on every row when bias != 0). C is overwritten.
 * A(m, k) lives at A + 4 * (m * strideM + k * strideK).
 */
export function gemmBroadcast(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize, M: i32, N: i32, K: i32,
): void {
  const rowBytesB = <usize>N << 2;
  const sm = <usize>strideM << 2;
  const sk = <usize>strideK << 2;
  const zero = f32x4.splat(0);
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const a0 = A + <usize>m * sm;
    const a1 = a0 + sm;
    const a2 = a1 + sm;
    const a3 = a2 + sm;
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let c00 = zero, c01 = zero, c10 = zero, c11 = zero;
      let c20 = zero, c21 = zero, c30 = zero, c31 = zero;
      if (bias != 0) {
        c00 = v128.load(bias + (<usize>n << 2));
        c01 = v128.load(bias + (<usize>n << 2), 16);
        c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
      }
      let pb = B + (<usize>n << 2);
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const x0 = load<f32>(a0 + ka);
        const x1 = load<f32>(a1 + ka);
        const x2 = load<f32>(a2 + ka);
        const x3 = load<f32>(a3 + ka);
        c00 = accumulate(c00, x0, b0); c01 = accumulate(c01, x0, b1);
        c10 = accumulate(c10, x1, b0); c11 = accumulate(c11, x1, b1);
        c20 = accumulate(c20, x2, b0); c21 = accumulate(c21, x2, b1);
        c30 = accumulate(c30, x3, b0); c31 = accumulate(c31, x3, b1);
        pb += rowBytesB;
        ka += sk;
      }
      const pc = C + ((<usize>m * <usize>N + <usize>n) << 2);
      v128.store(pc, c00); v128.store(pc, c01, 16);
      v128.store(pc + rowBytesB, c10); v128.store(pc + rowBytesB, c11, 16);
      v128.store(pc + 2 * rowBytesB, c20); v128.store(pc + 2 * rowBytesB, c21, 16);
      v128.store(pc + 3 * rowBytesB, c30); v128.store(pc + 3 * rowBytesB, c31, 16);
    }
    for (; n + 4 <= N; n += 4) {
      let c0 = zero, c1 = zero, c2 = zero, c3 = zero;
      if (bias != 0) {
        c0 = v128.load(bias + (<usize>n << 2));
        c1 = c0; c2 = c0; c3 = c0;
      }
      let pb = B + (<usize>n << 2);
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        c0 = accumulate(c0, load<f32>(a0 + ka), b0);
        c1 = accumulate(c1, load<f32>(a1 + ka), b0);
        c2 = accumulate(c2, load<f32>(a2 + ka), b0);
        c3 = accumulate(c3, load<f32>(a3 + ka), b0);
        pb += rowBytesB;
        ka += sk;
      }
      const pc = C + ((<usize>m * <usize>N + <usize>n) << 2);
      v128.store(pc, c0);
      v128.store(pc + rowBytesB, c1);
      v128.store(pc + 2 * rowBytesB, c2);
      v128.store(pc + 3 * rowBytesB, c3);
    }
    if (n < N) gemmScalarBlock(C, A, strideM, strideK, B, bias, m, m + 4, n, N, N, K);
  }
  if (m < M) gemmRowsTail(C, A, strideM, strideK, B, bias, m, M, N, K);
}

/** Rows [m0, M) one at a time, vectorised over n. */
function gemmRowsTail(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize, m0: i32, M: i32, N: i32, K: i32,
): void {
  const rowBytesB = <usize>N << 2;
  const sk = <usize>strideK << 2;
  for (let m = m0; m < M; m++) {
    const a = A + ((<usize>m * <usize>strideM) << 2);
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      let c = bias != 0 ? v128.load(bias + (<usize>n << 2)) : f32x4.splat(0);
      let pb = B + (<usize>n << 2);
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        c = accumulate(c, load<f32>(a + ka), v128.load(pb));
        pb += rowBytesB;
        ka += sk;
      }
      v128.store(C + ((<usize>m * <usize>N + <usize>n) << 2), c);
    }
    if (n < N) gemmScalarBlock(C, A, strideM, strideK, B, bias, m, m + 1, n, N, N, K);
  }
}

/** The scalar edge: rows [m0, m1), columns [n0, n1). */
function gemmScalarBlock(
  C: usize, A: usize, strideM: i32, strideK: i32, B: usize, bias: usize,
  m0: i32, m1: i32, n0: i32, n1: i32, N: i32, K: i32,
): void {
  for (let m = m0; m < m1; m++) {
    for (let n = n0; n < n1; n++) {
      let sum: f32 = bias != 0 ? load<f32>(bias + (<usize>n << 2)) : 0;
      for (let k = 0; k < K; k++) {
        sum += load<f32>(A + ((<usize>m * <usize>strideM + <usize>k * <usize>strideK) << 2))
          * load<f32>(B + ((<usize>k * <usize>N + <usize>n) << 2));
      }
      store<f32>(C + ((<usize>m * <usize>N + <usize>n) << 2), sum);
    }
  }
}

/** T[cols, rows] = S[rows, cols]ᵀ, in 4×4 blocks where the shape allows. */
export function transpose(T: usize, S: usize, rows: i32, cols: i32): void {
  const rowBytesS = <usize>cols << 2;
  const rowBytesT = <usize>rows << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const s = S + ((<usize>r * <usize>cols + <usize>c) << 2);
      const r0 = v128.load(s);
      const r1 = v128.load(s + rowBytesS);
      const r2 = v128.load(s + 2 * rowBytesS);
      const r3 = v128.load(s + 3 * rowBytesS);
      const t01lo = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t01hi = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t23lo = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t23hi = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const t = T + ((<usize>c * <usize>rows + <usize>r) << 2);
      v128.store(t, v128.shuffle<f32>(t01lo, t23lo, 0, 1, 4, 5));
      v128.store(t + rowBytesT, v128.shuffle<f32>(t01lo, t23lo, 2, 3, 6, 7));
      v128.store(t + 2 * rowBytesT, v128.shuffle<f32>(t01hi, t23hi, 0, 1, 4, 5));
      v128.store(t + 3 * rowBytesT, v128.shuffle<f32>(t01hi, t23hi, 2, 3, 6, 7));
    }
    for (; c < cols; c++) {
      for (let i = r; i < r + 4; i++) {
        store<f32>(T + ((<usize>c * <usize>rows + <usize>i) << 2), load<f32>(S + ((<usize>i * <usize>cols + <usize>c) << 2)));
      }
    }
  }
  for (; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(T + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(S + ((<usize>r * <usize>cols + <usize>c) << 2)));
    }
  }
}
