/**
 * im2col and its adjoint col2im: the bridge between a sliding-window
 * convolution and a matrix product.
 *
 * The column matrix of one image (one group of channels) has one row per
 * kernel tap (ci, kh, kw), K = channels * kH * kW rows, and one column per
 * output pixel (oh, ow), row-major over the output. Then
 *     conv output (M x P) = weights (M x K) * columns (K x P)
 * with the weights used in their ONNX layout as is and the product landing
 * directly in NCHW.
 *
 * Both functions work on a range of columns [col0, col0 + ncols) so the
 * caller can bound the scratch memory and keep it cache-resident; the
 * columns are then stored with leading dimension ncols.
 *
 * Per (tap, output row) the valid output columns form one interval (the
 * padding only cuts off the two ends), so each row segment is three tight
 * loops, zeros / strided copy / zeros, with no per-element bounds tests.
 */

import { endInside, firstInside, type Window2dParams } from '../../ir/window.js';

export interface WindowGeometry {
  /** Channels of the (group of the) input plane stack. */
  channels: number;
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/**
 * The geometry of window `p` (kernel kH x kW) sliding over `channels` planes
 * of inH x inW into outH x outW outputs. A transposed convolution passes the
 * forward window it is the adjoint of: its output as `in`, its input as `out`.
 */
export function windowGeometry(channels: number, inH: number, inW: number, kH: number, kW: number, p: Window2dParams, outH: number, outW: number): WindowGeometry {
  return {
    channels, inH, inW, kH, kW,
    strideH: p.strides[0], strideW: p.strides[1],
    dilationH: p.dilations[0], dilationW: p.dilations[1],
    padTop: p.pads[0], padLeft: p.pads[1],
    outH, outW,
  };
}

/**
 * Bound on a column-matrix scratch (elements): 256 Ki floats = 1 MiB, so a
 * chunk is still in L2/L3 when the GEMM packs it right after it was written.
 */
const COLUMN_CHUNK_ELEMENTS = 1 << 18;

/**
 * Columns per chunk of a column matrix with `depth` rows and `pixels`
 * columns: within the scratch bound, a multiple of 4 (the GEMM tile width)
 * unless everything fits.
 */
export function columnChunk(depth: number, pixels: number): number {
  const chunk = Math.max(1, Math.floor(COLUMN_CHUNK_ELEMENTS / depth));
  if (chunk >= pixels) return pixels;
  return chunk > 4 ? chunk - (chunk % 4) : chunk;
}

/**
 * Write columns [col0, col0 + ncols) of the column matrix of the planes
 * x[xOff ...] (channels x inH x inW) into dst[0 .. K * ncols).
 */
export function im2col(x: Float32Array, xOff: number, g: WindowGeometry, col0: number, ncols: number, dst: Float32Array): void {
  const { channels, inH, inW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, outW } = g;
  const plane = inH * inW;
  const ohFirst = Math.floor(col0 / outW);
  const owFirst = col0 - ohFirst * outW;
  let d = 0;
  for (let ci = 0; ci < channels; ci++) {
    const xPlane = xOff + ci * plane;
    for (let kh = 0; kh < kH; kh++) {
      const ihOff = kh * dilationH - padTop;
      for (let kw = 0; kw < kW; kw++) {
        const iwOff = kw * dilationW - padLeft;
        const owLo = firstInside(iwOff, strideW);
        const owHi = endInside(iwOff, strideW, inW);
        let oh = ohFirst;
        let ow0 = owFirst;
        let left = ncols;
        while (left > 0) {
          const owEnd = Math.min(outW, ow0 + left);
          const ih = oh * strideH + ihOff;
          if (ih < 0 || ih >= inH) {
            for (let ow = ow0; ow < owEnd; ow++) dst[d++] = 0;
          } else {
            const lo = Math.min(Math.max(owLo, ow0), owEnd);
            const hi = Math.max(Math.min(owHi, owEnd), lo);
            for (let ow = ow0; ow < lo; ow++) dst[d++] = 0;
            let s = xPlane + ih * inW + lo * strideW + iwOff;
            if (strideW === 1) {
              for (let ow = lo; ow < hi; ow++) dst[d++] = x[s++]!;
            } else {
              for (let ow = lo; ow < hi; ow++) {
                dst[d++] = x[s]!;
                s += strideW;
              }
            }
            for (let ow = hi; ow < owEnd; ow++) dst[d++] = 0;
          }
          left -= owEnd - ow0;
          oh++;
          ow0 = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: add every element of the columns [col0, col0 + ncols)
 * (stored in col[0 .. K * ncols)) onto the input position its tap reads,
 * y[yOff ...] (channels x inH x inW). Taps that fall into the padding are
 * dropped. This is what a transposed convolution scatters.
 */
export function col2imAdd(col: Float32Array, g: WindowGeometry, col0: number, ncols: number, y: Float32Array, yOff: number): void {
  const { channels, inH, inW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, outW } = g;
  const plane = inH * inW;
  const ohFirst = Math.floor(col0 / outW);
  const owFirst = col0 - ohFirst * outW;
  let d = 0;
  for (let ci = 0; ci < channels; ci++) {
    const yPlane = yOff + ci * plane;
    for (let kh = 0; kh < kH; kh++) {
      const ihOff = kh * dilationH - padTop;
      for (let kw = 0; kw < kW; kw++) {
        const iwOff = kw * dilationW - padLeft;
        const owLo = firstInside(iwOff, strideW);
        const owHi = endInside(iwOff, strideW, inW);
        let oh = ohFirst;
        let ow0 = owFirst;
        let left = ncols;
        while (left > 0) {
          const owEnd = Math.min(outW, ow0 + left);
          const ih = oh * strideH + ihOff;
          if (ih >= 0 && ih < inH) {
            const lo = Math.min(Math.max(owLo, ow0), owEnd);
            const hi = Math.max(Math.min(owHi, owEnd), lo);
            let s = yPlane + ih * inW + lo * strideW + iwOff;
            let q = d + (lo - ow0);
            for (let ow = lo; ow < hi; ow++) {
              y[s] = y[s]! + col[q++]!;
              s += strideW;
            }
          }
          d += owEnd - ow0;
          left -= owEnd - ow0;
          oh++;
          ow0 = 0;
        }
      }
    }
  }
}
