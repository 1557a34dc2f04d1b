import { describe, expect, it } from 'vitest';
import { gemm } from '../../src/cpu/kernels/gemm.js';
import { conv2d, conv2dOutputSize, type Conv2dParams } from '../../src/cpu/kernels/conv2d.js';
import { convTranspose2d, convTranspose2dOutputSize, type ConvTranspose2dParams } from '../../src/cpu/kernels/conv-transpose2d.js';
import { avgPool2d, globalAvgPool, globalMaxPool, maxPool2d, pool2dOutputSize, type Pool2dParams } from '../../src/cpu/kernels/pool2d.js';
import { Float32Scratch, Float64Scratch, Int32Scratch } from '../../src/cpu/kernels/scratch.js';
import { mulberry32 } from '../helpers/random.js';

// ---------------------------------------------------------------------------
// Seeded data: mulberry32, so a failure reproduces exactly.


function randomArray(rng: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng() * 2 - 1;
  return a;
}

const prod = (s: readonly number[]): number => s.reduce((p, q) => p * q, 1);

/** max |actual - ref| <= 1e-5 * max |ref| (elementwise, over the whole tensor). */
function expectClose(actual: Float32Array, ref: Float64Array, label = ''): void {
  expect(actual.length, `${label} length`).toBe(ref.length);
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  const tol = 1e-5 * Math.max(maxRef, 1e-30);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(actual[i]! - ref[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  if (!(worst <= tol)) {
    expect.fail(`${label}: |err| ${worst} at ${at} (got ${actual[at]}, want ${ref[at]}) exceeds ${tol}`);
  }
}

// ---------------------------------------------------------------------------
// Naive float64 references, written straight from the definitions.

function refGemm(
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, lda: number,
  b: Float32Array, bOff: number, ldb: number, bT: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aOff + i * lda + p]! * (bT ? b[bOff + j * ldb + p]! : b[bOff + p * ldb + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

function refConv2d(
  x: Float32Array, xs: readonly number[], w: Float32Array, ws: readonly number[], bias: Float32Array | undefined, p: Conv2dParams,
): { y: Float64Array; shape: number[] } {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [M, Cg, KH, KW] = ws as [number, number, number, number];
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  const [pt, pl, pb, pr] = p.pads;
  const OH = Math.floor((H + pt + pb - (dh * (KH - 1) + 1)) / sh) + 1;
  const OW = Math.floor((W + pl + pr - (dw * (KW - 1) + 1)) / sw) + 1;
  const Mg = M / p.group;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias[m]! : 0;
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                s += x[((n * C + ci) * H + ih) * W + iw]! * w[((m * Cg + c) * KH + kh) * KW + kw]!;
              }
            }
          }
          y[((n * M + m) * OH + oh) * OW + ow] = s;
        }
      }
    }
  }
  return { y, shape: [N, M, OH, OW] };
}

function refConvTranspose2d(
  x: Float32Array, xs: readonly number[], w: Float32Array, ws: readonly number[], bias: Float32Array | undefined, p: ConvTranspose2dParams,
): { y: Float64Array; shape: number[] } {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [, Mg, KH, KW] = ws as [number, number, number, number];
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations;
  const [pt, pl, pb, pr] = p.pads;
  const OH = sh * (H - 1) + p.outputPadding[0] + (KH - 1) * dh + 1 - pt - pb;
  const OW = sw * (W - 1) + p.outputPadding[1] + (KW - 1) * dw + 1 - pl - pr;
  const M = Mg * p.group;
  const Cg = C / p.group;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const o = (n * M + m) * OH * OW;
      for (let i = 0; i < OH * OW; i++) y[o + i] = bias ? bias[m]! : 0;
    }
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const v = x[((n * C + c) * H + ih) * W + iw]!;
          for (let mi = 0; mi < Mg; mi++) {
            const m = g * Mg + mi;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh - pt + kh * dh;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw - pl + kw * dw;
                if (ow < 0 || ow >= OW) continue;
                y[((n * M + m) * OH + oh) * OW + ow]! += v * w[((c * Mg + mi) * KH + kh) * KW + kw]!;
              }
            }
          }
        }
      }
    }
  }
  return { y, shape: [N, M, OH, OW] };
}

/** Pool output size straight from the ONNX/onnxruntime formula. */
function refPoolAxis(input: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const v = (input + pb + pe - (d * (k - 1) + 1)) / s + 1;
  let out = ceil ? Math.ceil(v) : Math.floor(v);
  if (ceil && (out - 1) * s >= input + pb) out--;
  return out;
}

function refPool(x: Float32Array, xs: readonly number[], p: Pool2dParams, kind: 'max' | 'avg'): { y: Float64Array; shape: number[] } {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [kh_, kw_] = p.kernel;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilations ?? [1, 1];
  const [pt, pl, pb, pr] = p.pads;
  const OH = refPoolAxis(H, kh_, sh, dh, pt, pb, p.ceilMode ?? false);
  const OW = refPoolAxis(W, kw_, sw, dw, pl, pr, p.ceilMode ?? false);
  const y = new Float64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let mx = -Infinity;
        let sum = 0;
        let inside = 0;
        let inPadded = 0;
        for (let kh = 0; kh < kh_; kh++) {
          for (let kw = 0; kw < kw_; kw++) {
            const ih = oh * sh - pt + kh * dh;
            const iw = ow * sw - pl + kw * dw;
            // Inside the explicitly padded extent (ceil mode can overhang it).
            if (ih < H + pb && iw < W + pr) inPadded++;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = x[(nc * H + ih) * W + iw]!;
            mx = Math.max(mx, v);
            sum += v;
            inside++;
          }
        }
        y[(nc * OH + oh) * OW + ow] = kind === 'max' ? mx : sum / (p.countIncludePad ? inPadded : inside);
      }
    }
  }
  return { y, shape: [N, C, OH, OW] };
}

// ---------------------------------------------------------------------------

describe('gemm', () => {
  // [label, m, n, k]: tiny, exact tile multiples, tails in every dimension, past each block size (KC=256, MC=128, NC=1024), thin shapes.
  const sizes: Array<[string, number, number, number]> = [
    ['1x1x1', 1, 1, 1],
    ['one tile 4x4x4', 4, 4, 4],
    ['odd 3x5x7', 3, 5, 7],
    ['tails 5x9x13', 5, 9, 13],
    ['k past KC 6x10x300', 6, 10, 300],
    ['m past MC 133x17x40', 133, 17, 40],
    ['n past NC 9x1030x21', 9, 1030, 21],
    ['all blocks 131x1027x259', 131, 1027, 259],
    ['few rows 2x50x9', 2, 50, 9],
    ['few cols 9x2x17', 9, 2, 17],
    ['row vector 1x300x70', 1, 300, 70],
    ['k = 0', 5, 6, 0],
  ];
  for (const [label, m, n, k] of sizes) {
    for (const bT of [false, true]) {
      for (const accumulate of [false, true]) {
        it(`${label}, B ${bT ? 'transposed' : 'row-major'}, accumulate ${accumulate}`, () => {
          const rng = mulberry32(m * 7919 + n * 104729 + k * 31 + (bT ? 1 : 0));
          const a = randomArray(rng, m * k);
          const b = randomArray(rng, k * n);
          const c0 = randomArray(rng, m * n);
          const c = Float32Array.from(c0);
          gemm(m, n, k, a, 0, k, b, 0, bT ? k : n, bT, c, 0, n, accumulate);
          const ref = refGemm(m, n, k, a, 0, k, b, 0, bT ? k : n, bT);
          if (accumulate) for (let i = 0; i < ref.length; i++) ref[i]! += c0[i]!;
          expectClose(c, ref, label);
        });
      }
    }
  }

  it('sub-matrices: offsets and leading dimensions larger than the width; cells outside C untouched', () => {
    const rng = mulberry32(42);
    const [m, n, k] = [7, 11, 13];
    const [lda, ldb, ldc] = [k + 3, n + 5, n + 2];
    const [aOff, bOff, cOff] = [5, 9, 4];
    for (const bT of [false, true]) {
      const ldbUsed = bT ? k + 4 : ldb;
      const a = randomArray(rng, aOff + m * lda);
      const b = randomArray(rng, bOff + (bT ? n : k) * ldbUsed);
      const c = randomArray(rng, cOff + m * ldc + 3);
      const before = Float32Array.from(c);
      gemm(m, n, k, a, aOff, lda, b, bOff, ldbUsed, bT, c, cOff, ldc, false);
      const ref = refGemm(m, n, k, a, aOff, lda, b, bOff, ldbUsed, bT);
      const got = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) got[i * n + j] = c[cOff + i * ldc + j]!;
      expectClose(got, ref, `bT=${bT}`);
      for (let idx = 0; idx < c.length; idx++) {
        const r = Math.floor((idx - cOff) / ldc);
        const col = idx - cOff - r * ldc;
        const inside = idx >= cOff && r < m && col < n;
        if (!inside) expect(c[idx]).toBe(before[idx]);
      }
    }
  });

  it('rejects operands too short for their layout', () => {
    const a = new Float32Array(6);
    expect(() => gemm(2, 2, 4, a, 0, 4, new Float32Array(8), 0, 2, false, new Float32Array(4), 0, 2, false)).toThrow(RangeError);
    expect(() => gemm(2, 2, 3, a, 0, 3, new Float32Array(6), 0, 2, false, new Float32Array(3), 0, 2, false)).toThrow(RangeError);
  });
});

describe('conv2d', () => {
  interface ConvCase {
    label: string;
    x: [number, number, number, number];
    w: [number, number, number, number];
    p: Conv2dParams;
    bias?: boolean;
  }
  const P = (strides: [number, number], dilations: [number, number], pads: [number, number, number, number], group = 1): Conv2dParams => ({
    strides,
    dilations,
    pads,
    group,
  });
  const cases: ConvCase[] = [
    { label: '3x3 pad 1, odd sizes', x: [1, 3, 7, 9], w: [5, 3, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: '3x3 valid, batch 2', x: [2, 4, 11, 13], w: [6, 4, 3, 3], p: P([1, 1], [1, 1], [0, 0, 0, 0]) },
    { label: 'batch 3 with bias', x: [3, 5, 6, 5], w: [7, 5, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: 'groups 2', x: [1, 4, 8, 7], w: [6, 2, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1], 2), bias: true },
    { label: 'groups 4', x: [2, 8, 6, 6], w: [8, 2, 3, 3], p: P([1, 1], [1, 1], [1, 0, 1, 0], 4) },
    { label: 'groups 2, 2 outputs per group (thin GEMM)', x: [1, 4, 5, 6], w: [4, 2, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1], 2) },
    { label: 'depthwise 3x3 pad 1', x: [1, 6, 9, 8], w: [6, 1, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1], 6), bias: true },
    { label: 'depthwise 3x3 stride 2, batch 3', x: [3, 5, 10, 9], w: [5, 1, 3, 3], p: P([2, 2], [1, 1], [1, 1, 1, 1], 5) },
    { label: 'depthwise multiplier 2, stride (2,1)', x: [1, 4, 9, 7], w: [8, 1, 3, 3], p: P([2, 1], [1, 1], [1, 1, 1, 1], 4), bias: true },
    { label: 'depthwise 5x5 dilation 2, asymmetric pads', x: [2, 3, 12, 11], w: [3, 1, 5, 5], p: P([1, 1], [2, 2], [3, 1, 2, 4], 3) },
    { label: 'depthwise 3x3 dilation (2,1), no pad', x: [1, 3, 9, 8], w: [3, 1, 3, 3], p: P([1, 1], [2, 1], [0, 0, 0, 0], 3) },
    { label: 'depthwise kernel bigger than input', x: [1, 2, 3, 2], w: [2, 1, 5, 5], p: P([1, 1], [1, 1], [2, 2, 2, 2], 2) },
    { label: 'depthwise 7x3 stride (1,2)', x: [1, 3, 10, 12], w: [3, 1, 7, 3], p: P([1, 2], [1, 1], [3, 1, 3, 1], 3), bias: true },
    { label: 'dilation 2', x: [1, 3, 10, 9], w: [4, 3, 3, 3], p: P([1, 1], [2, 2], [2, 2, 2, 2]) },
    { label: 'dilation (2,3), 3x2 kernel', x: [1, 2, 11, 13], w: [3, 2, 3, 2], p: P([1, 1], [2, 3], [1, 0, 2, 1]) },
    { label: 'stride (2,1)', x: [1, 3, 9, 8], w: [5, 3, 3, 3], p: P([2, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: 'stride 2 on even input', x: [2, 4, 8, 8], w: [6, 4, 3, 3], p: P([2, 2], [1, 1], [1, 1, 1, 1]) },
    { label: 'asymmetric pads', x: [1, 3, 7, 6], w: [4, 3, 3, 3], p: P([1, 1], [1, 1], [0, 1, 2, 3]) },
    { label: '1x1 pointwise (GEMM on the input)', x: [2, 6, 5, 7], w: [9, 6, 1, 1], p: P([1, 1], [1, 1], [0, 0, 0, 0]), bias: true },
    { label: '1x1 pointwise groups 3', x: [1, 6, 4, 5], w: [9, 2, 1, 1], p: P([1, 1], [1, 1], [0, 0, 0, 0], 3) },
    { label: '1x1 stride 2', x: [1, 5, 7, 9], w: [4, 5, 1, 1], p: P([2, 2], [1, 1], [0, 0, 0, 0]) },
    { label: '1x1 with padding', x: [1, 3, 4, 4], w: [5, 3, 1, 1], p: P([1, 1], [1, 1], [1, 2, 0, 1]), bias: true },
    { label: 'kernel bigger than input', x: [1, 2, 3, 3], w: [3, 2, 5, 5], p: P([1, 1], [1, 1], [2, 2, 2, 2]) },
    { label: '1x1 spatial input, 3x3 pad 1', x: [2, 8, 1, 1], w: [6, 8, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: 'non-square 1x5 kernel', x: [1, 3, 6, 10], w: [5, 3, 1, 5], p: P([1, 1], [1, 1], [0, 2, 0, 2]) },
    { label: 'large 5x5 stride 3', x: [1, 3, 17, 16], w: [8, 3, 5, 5], p: P([3, 3], [1, 1], [2, 2, 2, 2]) },
    { label: 'column chunking (K*P beyond the scratch bound)', x: [1, 64, 30, 31], w: [10, 64, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: 'single input channel, group 1 (not depthwise)', x: [1, 1, 9, 9], w: [6, 1, 3, 3], p: P([1, 1], [1, 1], [1, 1, 1, 1]) },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const rng = mulberry32(prod(c.x) * 31 + prod(c.w));
      const x = randomArray(rng, prod(c.x));
      const w = randomArray(rng, prod(c.w));
      const bias = c.bias ? randomArray(rng, c.w[0]) : undefined;
      const y = conv2d(x, c.x, w, c.w, bias, c.p);
      const ref = refConv2d(x, c.x, w, c.w, bias, c.p);
      expect(conv2dOutputSize(c.x[2], c.x[3], c.w[2], c.w[3], c.p)).toEqual(ref.shape.slice(2));
      expectClose(y, ref.y, c.label);
    });
  }

  it('repeated calls reuse scratch without leaking state between shapes', () => {
    const rng = mulberry32(7);
    const big = { x: [1, 64, 30, 31] as const, w: [10, 64, 3, 3] as const };
    const small = { x: [1, 3, 5, 5] as const, w: [2, 3, 3, 3] as const };
    const p = P([1, 1], [1, 1], [1, 1, 1, 1]);
    const xs = randomArray(rng, prod(small.x));
    const ws = randomArray(rng, prod(small.w));
    const first = conv2d(xs, small.x, ws, small.w, undefined, p);
    conv2d(randomArray(rng, prod(big.x)), big.x, randomArray(rng, prod(big.w)), big.w, undefined, p);
    expect(conv2d(xs, small.x, ws, small.w, undefined, p)).toEqual(first);
  });

  it('rejects inconsistent shapes', () => {
    const p = P([1, 1], [1, 1], [0, 0, 0, 0]);
    expect(() => conv2d(new Float32Array(16), [1, 1, 4, 4], new Float32Array(18), [2, 1, 3, 3], undefined, { ...p, group: 2 })).toThrow(RangeError);
    expect(() => conv2d(new Float32Array(15), [1, 1, 4, 4], new Float32Array(9), [1, 1, 3, 3], undefined, p)).toThrow(RangeError);
    expect(() => conv2d(new Float32Array(4), [1, 1, 2, 2], new Float32Array(9), [1, 1, 3, 3], undefined, p)).toThrow(RangeError);
    expect(() => conv2d(new Float32Array(16), [1, 1, 4, 4], new Float32Array(9), [1, 1, 3, 3], new Float32Array(2), p)).toThrow(RangeError);
  });
});

describe('convTranspose2d', () => {
  interface TCase {
    label: string;
    x: [number, number, number, number];
    w: [number, number, number, number];
    p: ConvTranspose2dParams;
    bias?: boolean;
  }
  const T = (
    strides: [number, number],
    dilations: [number, number],
    pads: [number, number, number, number],
    group = 1,
    outputPadding: [number, number] = [0, 0],
  ): ConvTranspose2dParams => ({ strides, dilations, pads, group, outputPadding });
  const cases: TCase[] = [
    { label: '3x3 stride 1 pad 1', x: [1, 3, 5, 6], w: [3, 4, 3, 3], p: T([1, 1], [1, 1], [1, 1, 1, 1]), bias: true },
    { label: '4x4 stride 2 pad 1 (2x upsampling)', x: [2, 4, 5, 5], w: [4, 3, 4, 4], p: T([2, 2], [1, 1], [1, 1, 1, 1]) },
    { label: '3x3 stride 2 pad 1 output padding 1', x: [1, 3, 4, 5], w: [3, 5, 3, 3], p: T([2, 2], [1, 1], [1, 1, 1, 1], 1, [1, 1]), bias: true },
    { label: 'groups 2', x: [1, 4, 4, 3], w: [4, 3, 3, 3], p: T([1, 1], [1, 1], [0, 0, 0, 0], 2), bias: true },
    { label: 'depthwise (group = channels)', x: [2, 3, 4, 4], w: [3, 1, 3, 3], p: T([2, 2], [1, 1], [1, 1, 1, 1], 3) },
    { label: 'dilation 2', x: [1, 2, 5, 4], w: [2, 3, 3, 3], p: T([1, 1], [2, 2], [1, 1, 1, 1]) },
    { label: 'stride (2,1), asymmetric pads, output padding (1,0)', x: [1, 3, 4, 5], w: [3, 2, 3, 3], p: T([2, 1], [1, 1], [0, 1, 2, 0], 1, [1, 0]) },
    { label: 'batch 3, 1x1', x: [3, 5, 3, 4], w: [5, 6, 1, 1], p: T([1, 1], [1, 1], [0, 0, 0, 0]), bias: true },
    { label: 'kernel bigger than stride, no pads', x: [1, 2, 3, 3], w: [2, 2, 5, 5], p: T([2, 2], [1, 1], [0, 0, 0, 0]) },
    { label: 'column chunking', x: [1, 8, 40, 41], w: [8, 64, 2, 2], p: T([2, 2], [1, 1], [0, 0, 0, 0]), bias: true },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const rng = mulberry32(prod(c.x) * 17 + prod(c.w));
      const x = randomArray(rng, prod(c.x));
      const w = randomArray(rng, prod(c.w));
      const bias = c.bias ? randomArray(rng, c.w[1] * c.p.group) : undefined;
      const y = convTranspose2d(x, c.x, w, c.w, bias, c.p);
      const ref = refConvTranspose2d(x, c.x, w, c.w, bias, c.p);
      expect(convTranspose2dOutputSize(c.x[2], c.x[3], c.w[2], c.w[3], c.p)).toEqual(ref.shape.slice(2));
      expectClose(y, ref.y, c.label);
    });
  }

  it('is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>', () => {
    const rng = mulberry32(99);
    const xs = [2, 4, 9, 8];
    const ws = [6, 2, 3, 3];
    const p = { strides: [2, 1] as [number, number], dilations: [1, 2] as [number, number], pads: [1, 2, 0, 1] as [number, number, number, number], group: 2 };
    const x = randomArray(rng, prod(xs));
    const w = randomArray(rng, prod(ws));
    const [oh, ow] = conv2dOutputSize(9, 8, 3, 3, p);
    const y = randomArray(rng, 2 * 6 * oh * ow);
    const cx = conv2d(x, xs, w, ws, undefined, p);
    // ConvTranspose weights [C_in_of_T = 6, M/g = 2, ...] are the conv weights read as [m, c/g, ...].
    // The output padding recovers the rows/columns that the stride skipped.
    const fullH = p.strides[0] * (oh - 1) + 2 * p.dilations[0] + 1 - p.pads[0] - p.pads[2];
    const fullW = p.strides[1] * (ow - 1) + 2 * p.dilations[1] + 1 - p.pads[1] - p.pads[3];
    const tx = convTranspose2d(y, [2, 6, oh, ow], w, ws, undefined, { ...p, outputPadding: [9 - fullH, 8 - fullW] });
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < cx.length; i++) lhs += cx[i]! * y[i]!;
    for (let i = 0; i < tx.length; i++) rhs += x[i]! * tx[i]!;
    expect(tx.length).toBe(x.length);
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.abs(lhs) + 1e-4);
  });
});

describe('pool2d', () => {
  interface PoolCase {
    label: string;
    x: [number, number, number, number];
    p: Pool2dParams;
  }
  const Q = (
    kernel: [number, number],
    strides: [number, number],
    pads: [number, number, number, number],
    ceilMode = false,
    dilations: [number, number] = [1, 1],
  ): Pool2dParams => ({ kernel, strides, pads, ceilMode, dilations });
  const cases: PoolCase[] = [
    { label: '2x2 stride 2', x: [1, 3, 8, 8], p: Q([2, 2], [2, 2], [0, 0, 0, 0]) },
    { label: '2x2 stride 2, odd input (floor)', x: [2, 2, 7, 9], p: Q([2, 2], [2, 2], [0, 0, 0, 0]) },
    { label: '2x2 stride 2, odd input, ceil', x: [2, 2, 7, 9], p: Q([2, 2], [2, 2], [0, 0, 0, 0], true) },
    { label: '3x3 stride 2 pad 1 (ResNet stem)', x: [1, 4, 12, 11], p: Q([3, 3], [2, 2], [1, 1, 1, 1]) },
    { label: '3x3 stride 2 pad 1, ceil', x: [1, 4, 12, 11], p: Q([3, 3], [2, 2], [1, 1, 1, 1], true) },
    { label: 'ceil: last window dropped (would start in end padding)', x: [1, 1, 6, 6], p: Q([2, 2], [2, 2], [0, 0, 1, 1], true) },
    { label: 'ceil with asymmetric pads', x: [1, 2, 9, 10], p: Q([3, 2], [2, 3], [1, 0, 2, 1], true) },
    { label: 'ceil, window overhanging the end padding', x: [1, 2, 5, 5], p: Q([3, 3], [3, 3], [1, 1, 1, 1], true) },
    { label: 'stride (2,1), asymmetric pads', x: [3, 2, 7, 6], p: Q([3, 3], [2, 1], [0, 1, 2, 1]) },
    { label: 'dilation 2', x: [1, 3, 10, 9], p: Q([3, 3], [1, 1], [2, 2, 2, 2], false, [2, 2]) },
    { label: 'dilation (2,1), ceil', x: [1, 2, 11, 8], p: Q([2, 3], [2, 2], [1, 0, 0, 1], true, [2, 1]) },
    { label: 'kernel as big as the padded input', x: [1, 2, 3, 3], p: Q([5, 5], [1, 1], [1, 1, 1, 1]) },
    { label: '1x1 spatial, 3x3 pad 1', x: [2, 3, 1, 1], p: Q([3, 3], [1, 1], [1, 1, 1, 1]) },
    { label: '3x3 stride 1, no padding (overlapping windows)', x: [1, 5, 6, 7], p: Q([3, 3], [1, 1], [0, 0, 0, 0]) },
  ];
  for (const c of cases) {
    it(`max: ${c.label}`, () => {
      const rng = mulberry32(prod(c.x) * 13 + c.p.kernel[0]);
      const x = randomArray(rng, prod(c.x));
      const ref = refPool(x, c.x, c.p, 'max');
      expect(pool2dOutputSize(c.x[2], c.x[3], c.p)).toEqual(ref.shape.slice(2));
      expectClose(maxPool2d(x, c.x, c.p), ref.y, c.label);
    });
    for (const countIncludePad of [false, true]) {
      it(`avg (count_include_pad ${countIncludePad ? 1 : 0}): ${c.label}`, () => {
        const rng = mulberry32(prod(c.x) * 11 + c.p.kernel[1]);
        const x = randomArray(rng, prod(c.x));
        const p = { ...c.p, countIncludePad };
        const ref = refPool(x, c.x, p, 'avg');
        expectClose(avgPool2d(x, c.x, p), ref.y, c.label);
      });
    }
  }

  it('output sizes match known ONNX / PyTorch values', () => {
    // [input, kernel, stride, padBegin, padEnd, ceil, expected]
    const known: Array<[number, number, number, number, number, boolean, number]> = [
      [7, 2, 2, 0, 0, false, 3],
      [7, 2, 2, 0, 0, true, 4],
      [112, 3, 2, 1, 1, false, 56],
      [6, 2, 2, 0, 1, true, 3], // ceil(5/2)+1 = 4, but the 4th window would start at 6 = in + padBegin: dropped
      [5, 3, 3, 1, 1, true, 2], // ceil(4/3)+1 = 3, third window would start at 6 - 1 = 5 >= 5: dropped
      [4, 3, 2, 1, 1, true, 3], // last window starts at 3 (inside): kept
    ];
    for (const [input, k, s, pb, pe, ceil, want] of known) {
      const [oh] = pool2dOutputSize(input, 1, { kernel: [k, 1], strides: [s, 1], pads: [pb, 0, pe, 0], ceilMode: ceil });
      expect(oh, `in ${input} k ${k} s ${s} pads ${pb},${pe} ceil ${ceil}`).toBe(want);
    }
  });

  it('avg count_include_pad=1 ignores the ceil-mode overhang beyond the explicit pads', () => {
    // 1x1x3x3 of ones, kernel 2, stride 2, ceil: windows at 0 and 2; the second hangs over the edge with no pads.
    const x = new Float32Array(9).fill(1);
    const p: Pool2dParams = { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: true };
    expect(Array.from(avgPool2d(x, [1, 1, 3, 3], p))).toEqual([1, 1, 1, 1]);
    // With one explicit pad at the start, the padded zero counts: (0 + 1 + ...)/4 in the corner.
    const p2: Pool2dParams = { kernel: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], ceilMode: false, countIncludePad: true };
    expect(Array.from(avgPool2d(x, [1, 1, 3, 3], p2))).toEqual([0.25, 0.5, 0.5, 1]);
  });

  it('global pools', () => {
    const rng = mulberry32(5);
    const shape = [3, 4, 5, 7];
    const x = randomArray(rng, prod(shape));
    const avg = new Float64Array(12);
    const max = new Float64Array(12).fill(-Infinity);
    for (let pl = 0; pl < 12; pl++) {
      for (let i = 0; i < 35; i++) {
        avg[pl]! += x[pl * 35 + i]! / 35;
        max[pl] = Math.max(max[pl]!, x[pl * 35 + i]!);
      }
    }
    expectClose(globalAvgPool(x, shape), avg, 'globalAvgPool');
    expectClose(globalMaxPool(x, shape), max, 'globalMaxPool');
  });

  it('a max over nothing but -Infinity and NaN is the lowest float, as in onnxruntime and shaders/fpool.wgsl', () => {
    const lowest = -3.4028234663852886e38;
    expect(Array.from(globalMaxPool(new Float32Array([-Infinity, NaN, -Infinity, 2]), [1, 2, 2, 1]))).toEqual([lowest, 2]);
  });
});

describe('scratch buffers', () => {
  for (const [name, make] of [['Float32Scratch', () => new Float32Scratch()], ['Float64Scratch', () => new Float64Scratch()], ['Int32Scratch', () => new Int32Scratch()]] as const) {
    it(`${name} grows on demand and hands the same memory back`, () => {
      const s = make();
      const a = s.get(100);
      expect(a.length).toBeGreaterThanOrEqual(100);
      expect(s.get(50)).toBe(a);
      const b = s.getZeroed(1000);
      expect(b.length).toBeGreaterThanOrEqual(1000);
      expect(b.subarray(0, 1000).every((v) => v === 0)).toBe(true);
      s.release();
      expect(s.get(0).length).toBe(0);
    });
  }
});
