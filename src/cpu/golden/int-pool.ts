import type { PoolLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { Tensor } from '../tensor.js';

/** Integer division rounding half away from zero: sign(s) * floor((2|s| + d) / 2d), integers only. */
export function roundingDivide(s: number, d: number): number {
  const q = Math.floor((2 * Math.abs(s) + d) / (2 * d));
  return s < 0 ? -q : q;
}

/**
 * Integer average pool with the input's parameters: out = Z + round(sum(q - Z) / count),
 * rounding half away from zero; `count` follows ONNX (the window clipped to the
 * padded input with count_include_pad, the real elements without).
 */
export function intAvgPool(x: Tensor, layer: PoolLayer, zeroPoint: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.strides;
  // Undilated, as the integer average pool defines it.
  const { padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, outH: oh, outW: ow } = resolveWindow2d(h, w, layer.kernel, { ...layer, dilations: [1, 1] }, layer.ceilMode);
  const out = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let y = 0; y < oh; y++) {
      const y0 = y * sh - pt;
      for (let xx = 0; xx < ow; xx++) {
        const x0 = xx * sw - pl;
        let sum = 0;
        let count = 0;
        for (let i = Math.max(0, y0); i < Math.min(h, y0 + kh); i++) {
          for (let j = Math.max(0, x0); j < Math.min(w, x0 + kw); j++) {
            sum += x.data[base + i * w + j]! - zeroPoint;
            count++;
          }
        }
        if (layer.countIncludePad) {
          count = (Math.min(y0 + kh, h + pb) - Math.max(y0, -pt)) * (Math.min(x0 + kw, w + pr) - Math.max(x0, -pl));
        }
        out[(p * oh + y) * ow + xx] = zeroPoint + roundingDivide(sum, count);
      }
    }
  }
  return { shape: [n, c, oh, ow], data: out };
}

/** Integer global average pool: Z + round(sum(q - Z) / (H*W)) per channel. */
export function intGlobalAvgPool(x: Tensor, zeroPoint: number): Tensor {
  const [n, c] = x.shape as [number, number];
  const inner = x.data.length / (n * c);
  const out = new Float32Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let sum = 0;
    for (let i = 0; i < inner; i++) sum += x.data[p * inner + i]! - zeroPoint;
    out[p] = zeroPoint + roundingDivide(sum, inner);
  }
  return { shape: [n, c, ...x.shape.slice(2).map(() => 1)], data: out };
}
