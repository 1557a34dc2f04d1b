/**
 * 2-D max and average pooling with ONNX (MaxPool / AveragePool) semantics,
 * plus the global variants. NCHW, float32, batched.
 *
 * Windows start at o * stride - padBegin (in input coordinates). ceil_mode
 * only adds a last, partial window per axis; a window that would start
 * beyond the input and its begin padding is dropped, as onnxruntime and
 * PyTorch do. (The ONNX Python reference instead pads such a ceil-mode
 * overhang on both sides, which shifts all windows when the overhang is >= 2;
 * we follow the runtimes.)
 *
 * Per output position, the taps that hit the input form one interval per
 * axis, computed up front, so the inner loops run without bounds tests.
 */

import { endInside, firstInside, windowOutputSize2d } from '../../ir/window.js';
import { dims4, expectLength, nonNegativeInts, positiveInts } from './check.js';

export interface Pool2dParams {
  kernel: readonly [number, number];
  strides: readonly [number, number];
  /** Explicit pads: top, left, bottom, right. */
  pads: readonly [number, number, number, number];
  /** Default [1, 1]. */
  dilations?: readonly [number, number];
  /** Default false. */
  ceilMode?: boolean;
  /** Average pool only: whether padding counts in the divisor. Default false. */
  countIncludePad?: boolean;
}

/** What an empty max window (all taps in the padding) yields: onnxruntime's initial value. */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** [outH, outW] of a pooling window over an inH x inW input (ir/window.ts: 0 where the window does not fit). */
export function pool2dOutputSize(inH: number, inW: number, p: Pool2dParams): [number, number] {
  return windowOutputSize2d(inH, inW, p.kernel, { strides: p.strides, dilations: p.dilations ?? [1, 1], pads: p.pads }, p.ceilMode ?? false);
}

/**
 * Valid taps of every output position along one axis:
 * lo[o] .. hi[o] (exclusive) are the kernel indices whose input index is in
 * [0, input); padded[o] counts the taps inside [-padBegin, input + padEnd),
 * the divisor of count_include_pad.
 */
interface AxisTaps {
  start: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  padded: Int32Array;
}

function axisTaps(out: number, input: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number): AxisTaps {
  const start = new Int32Array(out);
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const padded = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const s = o * stride - padBegin;
    start[o] = s;
    lo[o] = Math.min(firstInside(s, dilation), kernel);
    hi[o] = Math.max(lo[o]!, Math.min(kernel, endInside(s, dilation, input)));
    padded[o] = Math.min(kernel, endInside(s, dilation, input + padEnd));
  }
  return { start, lo, hi, padded };
}

interface PoolSetup {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  dH: number;
  dW: number;
  rows: AxisTaps;
  cols: AxisTaps;
}

function setup(x: Float32Array, xShape: readonly number[], p: Pool2dParams, kernel: string): PoolSetup {
  const [n, c, inH, inW] = dims4(xShape, 'input shape', kernel);
  const [dH, dW] = p.dilations ?? [1, 1];
  positiveInts([...p.kernel, ...p.strides, dH, dW], 'kernel, strides and dilations', kernel);
  nonNegativeInts(p.pads, 'pads', kernel);
  expectLength(x, n * c * inH * inW, 'input', kernel);
  const [outH, outW] = pool2dOutputSize(inH, inW, p);
  if (outH < 1 || outW < 1) {
    throw new RangeError(`${kernel}: a ${p.kernel[0]}x${p.kernel[1]} window does not fit the padded ${inH}x${inW} input`);
  }
  return {
    planes: n * c,
    inH,
    inW,
    outH,
    outW,
    dH,
    dW,
    rows: axisTaps(outH, inH, p.kernel[0], p.strides[0], dH, p.pads[0], p.pads[2]),
    cols: axisTaps(outW, inW, p.kernel[1], p.strides[1], dW, p.pads[1], p.pads[3]),
  };
}

/** ONNX MaxPool. Padding never wins; NaN inputs are skipped (as in onnxruntime). */
export function maxPool2d(x: Float32Array, xShape: readonly number[], p: Pool2dParams): Float32Array {
  const { planes, inH, inW, outH, outW, dH, dW, rows, cols } = setup(x, xShape, p, 'maxPool2d');
  const y = new Float32Array(planes * outH * outW);
  let yi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const xPlane = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const rowStart = rows.start[oh]!;
      const khLo = rows.lo[oh]!;
      const khHi = rows.hi[oh]!;
      for (let ow = 0; ow < outW; ow++) {
        const colStart = cols.start[ow]!;
        const kwLo = cols.lo[ow]!;
        const kwHi = cols.hi[ow]!;
        let m = LOWEST_FLOAT32;
        for (let kh = khLo; kh < khHi; kh++) {
          const xRow = xPlane + (rowStart + kh * dH) * inW + colStart;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const v = x[xRow + kw * dW]!;
            if (v > m) m = v;
          }
        }
        y[yi++] = m;
      }
    }
  }
  return y;
}

/**
 * ONNX AveragePool. count_include_pad = false divides by the number of
 * taps inside the input (an empty window gives NaN, 0/0, as onnxruntime);
 * true divides by the taps inside the explicitly padded input, so the part
 * of a ceil-mode window hanging past the end padding does not count.
 */
export function avgPool2d(x: Float32Array, xShape: readonly number[], p: Pool2dParams): Float32Array {
  const { planes, inH, inW, outH, outW, dH, dW, rows, cols } = setup(x, xShape, p, 'avgPool2d');
  const includePad = p.countIncludePad ?? false;
  const y = new Float32Array(planes * outH * outW);
  let yi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const xPlane = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const rowStart = rows.start[oh]!;
      const khLo = rows.lo[oh]!;
      const khHi = rows.hi[oh]!;
      for (let ow = 0; ow < outW; ow++) {
        const colStart = cols.start[ow]!;
        const kwLo = cols.lo[ow]!;
        const kwHi = cols.hi[ow]!;
        let s = 0;
        for (let kh = khLo; kh < khHi; kh++) {
          const xRow = xPlane + (rowStart + kh * dH) * inW + colStart;
          for (let kw = kwLo; kw < kwHi; kw++) s += x[xRow + kw * dW]!;
        }
        const count = includePad ? rows.padded[oh]! * cols.padded[ow]! : (khHi - khLo) * (kwHi - kwLo);
        y[yi++] = s / count;
      }
    }
  }
  return y;
}

/** ONNX GlobalAveragePool over the spatial axes of [n, c, ...]: returns n * c values ([n, c, 1, 1]). */
export function globalAvgPool(x: Float32Array, xShape: readonly number[]): Float32Array {
  const { planes, size } = globalSetup(x, xShape, 'globalAvgPool');
  const y = new Float32Array(planes);
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * size;
    let s = 0;
    for (let i = 0; i < size; i++) s += x[base + i]!;
    y[pl] = s / size;
  }
  return y;
}

/** ONNX GlobalMaxPool over the spatial axes of [n, c, ...]: returns n * c values ([n, c, 1, 1]). */
export function globalMaxPool(x: Float32Array, xShape: readonly number[]): Float32Array {
  const { planes, size } = globalSetup(x, xShape, 'globalMaxPool');
  const y = new Float32Array(planes);
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * size;
    let m = LOWEST_FLOAT32;
    for (let i = 0; i < size; i++) {
      const v = x[base + i]!;
      if (v > m) m = v;
    }
    y[pl] = m;
  }
  return y;
}

function globalSetup(x: Float32Array, xShape: readonly number[], kernel: string): { planes: number; size: number } {
  if (xShape.length < 2 || !xShape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${kernel}: expected a shape [n, c, ...], got [${xShape.join(', ')}]`);
  }
  const planes = xShape[0]! * xShape[1]!;
  const size = xShape.slice(2).reduce((a, b) => a * b, 1);
  expectLength(x, planes * size, 'input', kernel);
  return { planes, size };
}
