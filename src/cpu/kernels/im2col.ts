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
 * These segments do not depend on the channel: both functions compute them
 * once per call (columnSegments) and replay them for every channel.
 */

import { endInside, firstInside, type Window2dParams } from '../../ir/window.js';
import { Int32Scratch } from './scratch.js';

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

/** The row segments of the last columnSegments call (one computation at a time: the kernels are synchronous). */
const segments = new Int32Scratch();

/**
 * The row segments of columns [col0, col0 + ncols) of the column matrix,
 * which are the same for every channel: per tap (kh, kw), in row order, and
 * per output row those columns span, four numbers: the output columns whose
 * tap falls into the padding before, those whose tap lands in the input, those
 * in the padding after, and the input offset (within a channel's plane) of the
 * first tap that lands. A whole row in the padding is all "before".
 */
function columnSegments(g: WindowGeometry, col0: number, ncols: number): Int32Array {
  const { inH, inW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, outW } = g;
  const ohFirst = Math.floor(col0 / outW);
  const owFirst = col0 - ohFirst * outW;
  const rows = Math.floor((col0 + ncols - 1) / outW) - ohFirst + 1;
  const seg = segments.get(kH * kW * rows * 4);
  let t = 0;
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
          seg[t] = owEnd - ow0;
          seg[t + 1] = 0;
          seg[t + 2] = 0;
          seg[t + 3] = 0;
        } else {
          const lo = Math.min(Math.max(owLo, ow0), owEnd);
          const hi = Math.max(Math.min(owHi, owEnd), lo);
          seg[t] = lo - ow0;
          seg[t + 1] = hi - lo;
          seg[t + 2] = owEnd - hi;
          seg[t + 3] = ih * inW + lo * strideW + iwOff;
        }
        t += 4;
        left -= owEnd - ow0;
        oh++;
        ow0 = 0;
      }
    }
  }
  return seg.subarray(0, t);
}

/**
 * Write columns [col0, col0 + ncols) of the column matrix of the planes
 * x[xOff ...] (channels x inH x inW) into dst[0 .. K * ncols).
 */
export function im2col(x: Float32Array, xOff: number, g: WindowGeometry, col0: number, ncols: number, dst: Float32Array): void {
  const seg = columnSegments(g, col0, ncols);
  const n = seg.length;
  const strideW = g.strideW;
  const plane = g.inH * g.inW;
  let d = 0;
  for (let ci = 0; ci < g.channels; ci++) {
    const xPlane = xOff + ci * plane;
    for (let t = 0; t < n; t += 4) {
      for (let end = d + seg[t]!; d < end; ) dst[d++] = 0;
      const inside = seg[t + 1]!;
      let s = xPlane + seg[t + 3]!;
      if (strideW === 1) {
        for (let end = d + inside; d < end; ) dst[d++] = x[s++]!;
      } else {
        for (let end = d + inside; d < end; s += strideW) dst[d++] = x[s]!;
      }
      for (let end = d + seg[t + 2]!; d < end; ) dst[d++] = 0;
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
  const seg = columnSegments(g, col0, ncols);
  const n = seg.length;
  const strideW = g.strideW;
  const plane = g.inH * g.inW;
  let d = 0;
  for (let ci = 0; ci < g.channels; ci++) {
    const yPlane = yOff + ci * plane;
    for (let t = 0; t < n; t += 4) {
      d += seg[t]!;
      let s = yPlane + seg[t + 3]!;
      for (let end = d + seg[t + 1]!; d < end; s += strideW) y[s] = y[s]! + col[d++]!;
      d += seg[t + 2]!;
    }
  }
}
