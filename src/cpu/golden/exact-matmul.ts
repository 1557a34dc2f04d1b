/**
 * Exact matrix product in float64 for the golden model (not an integer GEMM:
 * the integers ride in doubles, where every sum here is exact):
 *   acc (m x n) = W (m x k) * B^T, with B given transposed (n x k, row-major),
 * so both operands are read along k contiguously. Operands hold integers
 * (narrow weights, zero-point-corrected activations); every partial sum stays
 * far below 2^53, so float64 arithmetic is exact and equals int32
 * accumulation whenever that does not overflow (quantization refuses configs
 * where it could). A 4 x 4 tile of the result lives in local variables.
 */
export function exactMatmul(m: number, n: number, k: number, w: Float64Array, wOff: number, bt: Float64Array, acc: Float64Array): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const w0 = wOff + i * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const a0 = w[w0 + p]!, a1 = w[w1 + p]!, a2 = w[w2 + p]!, a3 = w[w3 + p]!;
        const v0 = bt[b0 + p]!, v1 = bt[b1 + p]!, v2 = bt[b2 + p]!, v3 = bt[b3 + p]!;
        c00 += a0 * v0; c01 += a0 * v1; c02 += a0 * v2; c03 += a0 * v3;
        c10 += a1 * v0; c11 += a1 * v1; c12 += a1 * v2; c13 += a1 * v3;
        c20 += a2 * v0; c21 += a2 * v1; c22 += a2 * v2; c23 += a2 * v3;
        c30 += a3 * v0; c31 += a3 * v1; c32 += a3 * v2; c33 += a3 * v3;
      }
      const r0 = i * n + j;
      acc[r0] = c00; acc[r0 + 1] = c01; acc[r0 + 2] = c02; acc[r0 + 3] = c03;
      const r1 = r0 + n;
      acc[r1] = c10; acc[r1 + 1] = c11; acc[r1 + 2] = c12; acc[r1 + 3] = c13;
      const r2 = r1 + n;
      acc[r2] = c20; acc[r2 + 1] = c21; acc[r2 + 2] = c22; acc[r2 + 3] = c23;
      const r3 = r2 + n;
      acc[r3] = c30; acc[r3 + 1] = c31; acc[r3 + 2] = c32; acc[r3 + 3] = c33;
    }
    for (; j < n; j++) for (let r = 0; r < 4; r++) acc[(i + r) * n + j] = dot(w, wOff + (i + r) * k, bt, j * k, k);
  }
  for (; i < m; i++) for (let j = 0; j < n; j++) acc[i * n + j] = dot(w, wOff + i * k, bt, j * k, k);
}

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[ao + p]! * b[bo + p]!;
  return s;
}
