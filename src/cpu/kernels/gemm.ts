/**
 * Single-precision matrix multiply, C = A * B (+ C), the engine under the
 * CPU convolution, dense and matmul layers.
 *
 * Structure (the classic Goto/BLIS scheme, sized for what V8 compiles well):
 *
 *  - B is copied, a KC x NC block at a time, into `packB` as NR-column panels
 *    laid out k-major, and A, an MC x KC block at a time, into `packA` as
 *    MR-row panels. After packing, the innermost loop reads both operands
 *    strictly sequentially, whatever the caller's layout (B transposed or not,
 *    leading dimensions, offsets), and tails are zero padded so the inner loop
 *    never needs an edge case.
 *  - The packed copies are Float64Array: a load is then a plain `movsd`
 *    instead of a load plus float->double conversion, and the accumulators
 *    (JS numbers, i.e. doubles) add up more precisely than float32 would.
 *  - The pack buffers are module-level constants of a fixed power-of-two
 *    size. TurboFan then embeds their address and length in the code (no map
 *    check, no reload of the backing store per access), and masking an index
 *    with `size - 1` (a no-op, the index is always in range) replaces the
 *    overflow check and sign extension of `i + k`. Together this measured
 *    20-30% faster than passing the buffers as arguments.
 *  - The micro-kernel keeps a 4x4 tile of C in 16 local variables for a whole
 *    KC run. 4x4 (and 3x4) measured best: larger tiles (4x8, 6x8, 8x8) spill
 *    accumulators to the stack, x64 only has 16 xmm registers.
 *
 * Very thin products (fewer than MR rows or NR columns, e.g. a dense layer on
 * one sample) skip packing: there is no reuse for it to pay back.
 */

import { Float64Scratch } from './scratch.js';

export { Float32Scratch, Float64Scratch } from './scratch.js';

/** Rows of the C tile held in registers. */
const MR = 4;
/** Columns of the C tile held in registers. */
const NR = 4;
/** Depth of one packed block: a KC x NR panel of B (8 KiB) stays in L1 while it sweeps the A block. */
const KC = 256;
/** Rows of A packed at once: MC x KC doubles (256 KiB) live in L2. */
const MC = 128;
/** Columns of B packed at once: KC x NC doubles (2 MiB), reused across all row blocks. */
const NC = 1024;

const PACK_A_SIZE = MC * KC; // a power of two: see the module comment
const PACK_B_SIZE = KC * NC;
const A_MASK = PACK_A_SIZE - 1;
const B_MASK = PACK_B_SIZE - 1;

const packA = new Float64Array(PACK_A_SIZE);
const packB = new Float64Array(PACK_B_SIZE);
/** Landing place for tiles that stick out of C; copied into C cell by cell. */
const edgeTile = new Float32Array(MR * NR);
/** Row accumulator of the unpacked path. */
const rowScratch = new Float64Scratch();

/**
 * C (m x n, row-major, leading dimension ldc) = A * B, plus the old C when
 * `accumulate`.
 *
 * A is m x k row-major (leading dimension lda). B is k x n row-major, or when
 * `bTransposed` it is stored as its transpose, n x k row-major (the ONNX
 * Gemm transB / dense-weights layout); ldb is the row stride of what is
 * stored. Offsets are element offsets into the arrays. C must not overlap
 * A or B. Accumulation is in double within each depth block of KC, float32
 * between blocks.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  b: Float32Array,
  bOffset: number,
  ldb: number,
  bTransposed: boolean,
  c: Float32Array,
  cOffset: number,
  ldc: number,
  accumulate: boolean,
): void {
  checkDims(m, n, k);
  if (m === 0 || n === 0) return;
  checkMatrix('C', c, cOffset, m, n, ldc);
  // Every path below only adds onto C (see microKernel for why), so start from zero.
  if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
  if (k === 0) return;
  checkMatrix('A', a, aOffset, m, k, lda);
  if (bTransposed) checkMatrix('B', b, bOffset, n, k, ldb);
  else checkMatrix('B', b, bOffset, k, n, ldb);

  if (m < MR || n < NR) {
    gemmUnpacked(m, n, k, a, aOffset, lda, b, bOffset, ldb, bTransposed, c, cOffset, ldc);
    return;
  }

  // Equal depth blocks (576 -> 3 x 192 rather than 256 + 256 + 64), so no
  // block is a short one whose fixed per-tile cost (C read-modify-write,
  // call) weighs on few multiply-adds.
  const kStep = Math.ceil(k / Math.ceil(k / KC));
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kStep) {
      const kc = Math.min(kStep, k - pc);
      if (bTransposed) packRowPanels(b, bOffset + jc * ldb + pc, ldb, nc, kc, packB, NR);
      else packBRows(b, bOffset + pc * ldb + jc, ldb, kc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packRowPanels(a, aOffset + ic * lda + pc, lda, mc, kc, packA, MR);
        macroKernel(mc, nc, kc, c, cOffset + ic * ldc + jc, ldc);
      }
    }
  }
}

function checkDims(m: number, n: number, k: number): void {
  if (!(Number.isInteger(m) && Number.isInteger(n) && Number.isInteger(k)) || m < 0 || n < 0 || k < 0) {
    throw new RangeError(`gemm: bad sizes m=${m} n=${n} k=${k}`);
  }
}

/** Out-of-range typed-array reads yield NaN silently; fail loudly instead. */
function checkMatrix(name: string, arr: Float32Array, off: number, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(off) || off < 0 || !Number.isInteger(ld) || (rows > 1 && ld < cols)) {
    throw new RangeError(`gemm: bad layout for ${name}: offset ${off}, leading dimension ${ld}, ${rows}x${cols}`);
  }
  const end = off + (rows - 1) * ld + cols;
  if (end > arr.length) {
    throw new RangeError(`gemm: ${name} (${rows}x${cols}, offset ${off}, ld ${ld}) needs ${end} elements, has ${arr.length}`);
  }
}

/**
 * `count` rows of kc elements (row stride ld, from src[off]) -> panels of
 * `width` rows, each k-major and zero padded to whole panels:
 * dst[panel*width*kc + p*width + i]. Packs A (MR-row panels into packA) and B
 * stored transposed (its rows are B's columns: NR-column panels into packB).
 * The destination is an argument here, unlike in the micro-kernel: packing
 * is a small share of the work, and one packer for both measured no slower.
 */
function packRowPanels(src: Float32Array, off: number, ld: number, count: number, kc: number, dst: Float64Array, width: number): void {
  let panel = 0;
  for (let ir = 0; ir < count; ir += width) {
    const rows = Math.min(width, count - ir);
    for (let i = 0; i < width; i++) {
      let d = panel + i;
      if (i < rows) {
        const s = off + (ir + i) * ld;
        for (let p = 0; p < kc; p++) {
          dst[d] = src[s + p]!;
          d += width;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          dst[d] = 0;
          d += width;
        }
      }
    }
    panel += width * kc;
  }
}

/** B block (kc x nc at bOff, row-major) -> NR-column panels, each k-major: packB[panel*NR*kc + p*NR + j]. */
function packBRows(b: Float32Array, bOff: number, ldb: number, kc: number, nc: number): void {
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    let s = bOff + jr;
    if (cols === NR) {
      for (let p = 0; p < kc; p++) {
        packB[d] = b[s]!;
        packB[d + 1] = b[s + 1]!;
        packB[d + 2] = b[s + 2]!;
        packB[d + 3] = b[s + 3]!;
        d += NR;
        s += ldb;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) packB[d + j] = j < cols ? b[s + j]! : 0;
        d += NR;
        s += ldb;
      }
    }
  }
}

/** Sweep the packed blocks tile by tile; the B panel stays in L1 across the inner loop over A panels. */
function macroKernel(mc: number, nc: number, kc: number, c: Float32Array, cBase: number, ldc: number): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const bIdx = jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      const aIdx = ir * kc;
      const cIdx = cBase + ir * ldc + jr;
      if (mr === MR && nr === NR) {
        microKernel(kc, aIdx, bIdx, c, cIdx, ldc);
      } else {
        edgeTile.fill(0);
        microKernel(kc, aIdx, bIdx, edgeTile, 0, NR);
        for (let i = 0; i < mr; i++) {
          for (let j = 0; j < nr; j++) {
            const at = cIdx + i * ldc + j;
            c[at] = c[at]! + edgeTile[i * NR + j]!;
          }
        }
      }
    }
  }
}

/**
 * Adds one MR x NR tile of products over a depth of kc, from packed panels at
 * aIdx/bIdx, onto C. Written out by hand: V8 keeps the 16 named locals in
 * registers, which it would not do for an array of accumulators. There is
 * deliberately no "overwrite C" variant behind a flag: a branch that has not
 * run by the time TurboFan compiles the kernel deoptimizes it later, and on
 * the on-stack-replaced loop that repeated (measured: 40% slower for good).
 */
function microKernel(kc: number, aIdx: number, bIdx: number, c: Float32Array, cIdx: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let ai = aIdx;
  let bi = bIdx;
  for (let p = 0; p < kc; p++) {
    const a0 = packA[ai & A_MASK]!;
    const a1 = packA[(ai + 1) & A_MASK]!;
    const a2 = packA[(ai + 2) & A_MASK]!;
    const a3 = packA[(ai + 3) & A_MASK]!;
    const b0 = packB[bi & B_MASK]!;
    c00 += a0 * b0;
    c10 += a1 * b0;
    c20 += a2 * b0;
    c30 += a3 * b0;
    const b1 = packB[(bi + 1) & B_MASK]!;
    c01 += a0 * b1;
    c11 += a1 * b1;
    c21 += a2 * b1;
    c31 += a3 * b1;
    const b2 = packB[(bi + 2) & B_MASK]!;
    c02 += a0 * b2;
    c12 += a1 * b2;
    c22 += a2 * b2;
    c32 += a3 * b2;
    const b3 = packB[(bi + 3) & B_MASK]!;
    c03 += a0 * b3;
    c13 += a1 * b3;
    c23 += a2 * b3;
    c33 += a3 * b3;
    ai = (ai + MR) | 0;
    bi = (bi + NR) | 0;
  }
  const r0 = cIdx;
  const r1 = r0 + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  c[r0] = c[r0]! + c00; c[r0 + 1] = c[r0 + 1]! + c01; c[r0 + 2] = c[r0 + 2]! + c02; c[r0 + 3] = c[r0 + 3]! + c03;
  c[r1] = c[r1]! + c10; c[r1 + 1] = c[r1 + 1]! + c11; c[r1 + 2] = c[r1 + 2]! + c12; c[r1 + 3] = c[r1 + 3]! + c13;
  c[r2] = c[r2]! + c20; c[r2 + 1] = c[r2 + 1]! + c21; c[r2 + 2] = c[r2 + 2]! + c22; c[r2 + 3] = c[r2 + 3]! + c23;
  c[r3] = c[r3]! + c30; c[r3 + 1] = c[r3 + 1]! + c31; c[r3 + 2] = c[r3 + 2]! + c32; c[r3 + 3] = c[r3 + 3]! + c33;
}

/**
 * Thin products: with fewer than MR rows (or NR columns) nothing is reused
 * enough to pay for packing, so stream the operands directly.
 */
function gemmUnpacked(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  bTransposed: boolean,
  c: Float32Array,
  cOff: number,
  ldc: number,
): void {
  if (bTransposed) {
    // Both operands contiguous along k: one dot product per output.
    for (let i = 0; i < m; i++) {
      const aRow = aOff + i * lda;
      const cRow = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        const s = dot(a, aRow, b, bOff + j * ldb, k);
        c[cRow + j] = c[cRow + j]! + s;
      }
    }
  } else if (n < 8) {
    // A few columns of row-major B: the strided reads touch only a few cache lines per row.
    for (let i = 0; i < m; i++) {
      const aRow = aOff + i * lda;
      const cRow = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        let s = 0;
        let bi = bOff + j;
        for (let p = 0; p < k; p++) {
          s += a[aRow + p]! * b[bi]!;
          bi += ldb;
        }
        c[cRow + j] = c[cRow + j]! + s;
      }
    }
  } else {
    // Few rows, many columns: scale-and-add whole rows of B (contiguous) into a double row.
    const acc = rowScratch.get(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0, 0, n);
      const aRow = aOff + i * lda;
      for (let p = 0; p < k; p++) {
        const av = a[aRow + p]!;
        const bRow = bOff + p * ldb;
        for (let j = 0; j < n; j++) acc[j] = acc[j]! + av * b[bRow + j]!;
      }
      const cRow = cOff + i * ldc;
      for (let j = 0; j < n; j++) c[cRow + j] = c[cRow + j]! + acc[j]!;
    }
  }
}

/** Dot product of x[xi..xi+k) and y[yi..yi+k); four partial sums break the add dependency chain. */
function dot(x: Float32Array, xi: number, y: Float32Array, yi: number, k: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = 0;
  for (; p + 3 < k; p += 4) {
    s0 += x[xi + p]! * y[yi + p]!;
    s1 += x[xi + p + 1]! * y[yi + p + 1]!;
    s2 += x[xi + p + 2]! * y[yi + p + 2]!;
    s3 += x[xi + p + 3]! * y[yi + p + 3]!;
  }
  for (; p < k; p++) s0 += x[xi + p]! * y[yi + p]!;
  return s0 + s1 + (s2 + s3);
}
