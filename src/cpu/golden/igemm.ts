/**
 * Exact integer matrix product for the golden model: acc (m x n) += W (m x k) * B (k x n).
 * Operands hold integers (8-bit-ish weights, zero-point-corrected activations);
 * products and sums stay far below 2^53, so float64 arithmetic is exact and
 * the result equals int32 accumulation whenever that does not overflow
 * (which quantization checks up front). Rows of W are taken four at a time so
 * each loaded column value feeds four accumulators.
 */
export function igemm(m: number, n: number, k: number, w: Float64Array, wOff: number, b: Float32Array, acc: Float64Array): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const r0 = wOff + i * k;
    const a0 = i * n;
    for (let p = 0; p < k; p++) {
      const w0 = w[r0 + p]!;
      const w1 = w[r0 + k + p]!;
      const w2 = w[r0 + 2 * k + p]!;
      const w3 = w[r0 + 3 * k + p]!;
      if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) {
        const v = b[bp + j]!;
        acc[a0 + j] += w0 * v;
        acc[a0 + n + j] += w1 * v;
        acc[a0 + 2 * n + j] += w2 * v;
        acc[a0 + 3 * n + j] += w3 * v;
      }
    }
  }
  for (; i < m; i++) {
    const r = wOff + i * k;
    for (let p = 0; p < k; p++) {
      const wv = w[r + p]!;
      if (wv === 0) continue;
      const bp = p * n;
      const a = i * n;
      for (let j = 0; j < n; j++) acc[a + j] += wv * b[bp + j]!;
    }
  }
}
