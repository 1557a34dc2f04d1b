import { resolveAxisPads } from '../../ir/window.js';
import type { ConvLayer } from '../../ir/layers.js';
import { requantize } from '../../quant/fixed-point.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import { im2col, type WindowGeometry } from '../kernels/im2col.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import type { Tensor } from '../tensor.js';
import { igemm } from './igemm.js';

/** Columns handled at once: bounds the im2col scratch (K x COLS float32). */
const COLS = 1024;

/**
 * Integer convolution or dense layer, exactly as the shaders compute it (eq. numbers in docs/quantization.md):
 * acc[c] = bias[c] + sum_k w[c,k] * (q_in[k] - Z_in), padding contributing 0 (it is the real zero, q = Z_in);
 * out = clamp(Z_out + MBQM(acc, m0[c], shift[c]), lo, hi).
 * Tensors hold integers in Float32Array (exact: |q| < 2^24).
 */
export function intMatmulLayer(q: QMatmulLayer, x: Tensor, inP: QParams, outP: QParams): Tensor {
  const w = Float64Array.from(q.weights);
  const [m] = q.weightShape as [number];
  const centered = new Float32Array(x.data.length);
  for (let i = 0; i < centered.length; i++) centered[i] = x.data[i]! - inP.zeroPoint;
  if (q.kind === 'dense') {
    const k = q.weightShape[1]!;
    const rows = x.data.length / k;
    const out = new Float32Array(rows * m);
    // acc^T (m x rows) = W (m x k) * x^T (k x rows).
    const xt = new Float32Array(k * rows);
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) xt[j * rows + r] = centered[r * k + j]!;
    const acc = new Float64Array(m * rows);
    igemm(m, rows, k, w, 0, xt, acc);
    for (let c = 0; c < m; c++) {
      for (let r = 0; r < rows; r++) out[r * m + c] = epilogue(acc[c * rows + r]! + q.bias[c]!, q, c, outP);
    }
    return { shape: [...x.shape.slice(0, -1), m], data: out };
  }
  const layer = q.layer as ConvLayer;
  const [n, cIn, inH, inW] = x.shape as [number, number, number, number];
  const [, cg, kH, kW] = q.weightShape as [number, number, number, number];
  const outShape = inferLayerShapes(layer, [x.shape, q.weightShape]) [0] as number[];
  const [, , outH, outW] = outShape as [number, number, number, number];
  const [pt, pb] = resolveAxisPads(inH, kH, layer.strides[0], layer.dilations[0], layer.autoPad, [layer.pads[0], layer.pads[2]]);
  const [pl] = resolveAxisPads(inW, kW, layer.strides[1], layer.dilations[1], layer.autoPad, [layer.pads[1], layer.pads[3]]);
  void pb;
  const g: WindowGeometry = {
    channels: cg, inH, inW, kH, kW,
    strideH: layer.strides[0], strideW: layer.strides[1],
    dilationH: layer.dilations[0], dilationW: layer.dilations[1],
    padTop: pt, padLeft: pl, outH, outW,
  };
  const group = layer.group;
  const mg = m / group;
  const k = cg * kH * kW;
  const plane = outH * outW;
  const out = new Float32Array(n * m * plane);
  const col = new Float32Array(k * Math.min(COLS, plane));
  const acc = new Float64Array(mg * Math.min(COLS, plane));
  for (let b = 0; b < n; b++) {
    for (let gi = 0; gi < group; gi++) {
      const xOff = (b * cIn + gi * cg) * inH * inW;
      for (let c0 = 0; c0 < plane; c0 += COLS) {
        const nc = Math.min(COLS, plane - c0);
        im2col(centered, xOff, g, c0, nc, col);
        acc.fill(0, 0, mg * nc);
        igemm(mg, nc, k, w, gi * mg * k, col, acc);
        for (let r = 0; r < mg; r++) {
          const c = gi * mg + r;
          const dst = (b * m + c) * plane + c0;
          for (let j = 0; j < nc; j++) out[dst + j] = epilogue(acc[r * nc + j]! + q.bias[c]!, q, c, outP);
        }
      }
    }
  }
  return { shape: outShape, data: out };
}

function epilogue(acc: number, q: QMatmulLayer, c: number, outP: QParams): number {
  return requantize(acc, q.requant.m0[c]!, q.requant.shift[c]!, outP.zeroPoint, outP.lo, outP.hi);
}
