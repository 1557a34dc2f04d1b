import type { ConvLayer } from '../../ir/layers.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import { resolvePads2d } from '../../ir/window.js';
import { requantize } from '../../quant/fixed-point.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import { im2col, windowGeometry, type WindowGeometry } from '../kernels/im2col.js';
import type { Tensor } from '../tensor.js';
import { exactMatmul } from './exact-matmul.js';

/** Output columns handled at once: bounds the im2col scratch. */
const COLS = 256;

/** The integer weights as float64 for the exact product, converted once per layer. */
const weightCache = new WeakMap<Int32Array, Float64Array>();
function weightsF64(w: Int32Array): Float64Array {
  let f = weightCache.get(w);
  if (!f) weightCache.set(w, (f = Float64Array.from(w)));
  return f;
}

/**
 * The int32 accumulators of a convolution or dense layer, exactly as the
 * shaders form them (docs/quantization.md):
 *   acc[c] = bias[c] + sum_k w[c,k] * (q_in[k] - Z_in),
 * padding contributing 0 (it is the real zero, q = Z_in).
 * Layout: NCHW for convolutions, [..., units] for dense layers.
 * Tensors hold integers in Float32Array (exact: |q| < 2^24).
 */
export function intAccumulate(q: Pick<QMatmulLayer, 'kind' | 'layer' | 'weightShape' | 'weights' | 'bias'>, x: Tensor, zeroIn: number): { shape: number[]; acc: Float64Array } {
  const w = weightsF64(q.weights);
  const m = q.weightShape[0]!;
  if (q.kind === 'dense') {
    const k = q.weightShape[1]!;
    const rows = x.data.length / k;
    const xs = new Float64Array(x.data.length);
    for (let i = 0; i < xs.length; i++) xs[i] = x.data[i]! - zeroIn;
    // acc^T (m x rows) = W (m x k) * x^T: x is already "B transposed" (rows x k).
    const accT = new Float64Array(m * rows);
    exactMatmul(m, rows, k, w, 0, xs, accT);
    const acc = new Float64Array(rows * m);
    for (let c = 0; c < m; c++) for (let r = 0; r < rows; r++) acc[r * m + c] = accT[c * rows + r]! + q.bias[c]!;
    return { shape: [...x.shape.slice(0, -1), m], acc };
  }
  const layer = q.layer as ConvLayer;
  const [n, cIn, inH, inW] = x.shape as [number, number, number, number];
  const [, cg, kH, kW] = q.weightShape as [number, number, number, number];
  const shape = inferLayerShapes(layer, [x.shape, q.weightShape])[0] as number[];
  const [, , outH, outW] = shape as [number, number, number, number];
  const g = windowGeometry(cg, inH, inW, kH, kW, { ...layer, pads: resolvePads2d(inH, inW, [kH, kW], layer) }, outH, outW);
  const centered = new Float32Array(x.data.length);
  for (let i = 0; i < centered.length; i++) centered[i] = x.data[i]! - zeroIn;
  const group = layer.group;
  const mg = m / group;
  const k = cg * kH * kW;
  const plane = outH * outW;
  const acc = new Float64Array(n * m * plane);
  if (cg === 1) {
    depthwiseAccumulate(centered, n, cIn, w, q.bias, mg, g, acc);
    return { shape, acc };
  }
  const cols = Math.min(COLS, plane);
  const col = new Float32Array(k * cols);
  const colT = new Float64Array(k * cols);
  const tile = new Float64Array(mg * cols);
  for (let b = 0; b < n; b++) {
    for (let gi = 0; gi < group; gi++) {
      const xOff = (b * cIn + gi * cg) * inH * inW;
      for (let c0 = 0; c0 < plane; c0 += COLS) {
        const nc = Math.min(COLS, plane - c0);
        im2col(centered, xOff, g, c0, nc, col);
        // Columns as rows (nc x k) so that the product reads both operands along k.
        for (let p = 0; p < k; p++) for (let j = 0; j < nc; j++) colT[j * k + p] = col[p * nc + j]!;
        exactMatmul(mg, nc, k, w, gi * mg * k, colT, tile);
        for (let r = 0; r < mg; r++) {
          const c = gi * mg + r;
          const dst = (b * m + c) * plane + c0;
          const bias = q.bias[c]!;
          for (let j = 0; j < nc; j++) acc[dst + j] = tile[r * nc + j]! + bias;
        }
      }
    }
  }
  return { shape, acc };
}

/**
 * Depthwise convolution (one input channel per group, `mult` outputs each):
 * a direct loop over taps, which im2col would turn into products of one row.
 */
function depthwiseAccumulate(x: Float32Array, n: number, c: number, w: Float64Array, bias: Int32Array, mult: number, g: WindowGeometry, acc: Float64Array): void {
  const { inH, inW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW } = g;
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const xp = (b * c + ci) * inH * inW;
      for (let r = 0; r < mult; r++) {
        const co = ci * mult + r;
        const wp = co * kH * kW;
        const ap = (b * c * mult + co) * outH * outW;
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++) {
            let s = bias[co]!;
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * strideH - padTop + ky * dilationH;
              if (iy < 0 || iy >= inH) continue;
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * strideW - padLeft + kx * dilationW;
                if (ix >= 0 && ix < inW) s += w[wp + ky * kW + kx]! * x[xp + iy * inW + ix]!;
              }
            }
            acc[ap + oy * outW + ox] = s;
          }
        }
      }
    }
  }
}

/** A convolution or dense layer: accumulate, then out = clamp(Z_out + MBQM(acc, m0[c], shift[c]), lo, hi). */
export function intMatmulLayer(q: QMatmulLayer, x: Tensor, inP: QParams, outP: QParams): Tensor {
  const { shape, acc } = intAccumulate(q, x, inP.zeroPoint);
  const m = q.weightShape[0]!;
  // Channel stride: NCHW planes for convolutions, the last axis for dense layers.
  const inner = q.kind === 'dense' ? 1 : shape.slice(2).reduce((a, b) => a * b, 1);
  const { m0, shift } = q.requant;
  const { zeroPoint, lo, hi } = outP;
  const out = new Float32Array(acc.length);
  // Walk channel runs so each run uses one multiplier without an index division per element.
  const runs = acc.length / inner;
  for (let r = 0; r < runs; r++) {
    const c = r % m;
    const mc = m0[c]!;
    const sc = shift[c]!;
    for (let i = r * inner, end = i + inner; i < end; i++) out[i] = requantize(acc[i]!, mc, sc, zeroPoint, lo, hi);
  }
  return { shape, data: out };
}
