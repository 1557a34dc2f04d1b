/**
 * 2-D convolution, ONNX Conv semantics, NCHW, float32.
 *
 * Strategy by shape:
 *  - depthwise (group == input channels): a direct loop, see depthwise-conv2d.ts;
 *  - 1x1, stride 1, no padding: the input planes already are the K x P
 *    column matrix, so each (image, group) is a single GEMM on x in place;
 *  - everything else: im2col into scratch, a chunk of output pixels at a
 *    time, then GEMM. Orientation: output (M x P) = weights (M x K) *
 *    columns (K x P); it writes NCHW directly, uses the weights as stored,
 *    and puts the long dimension (pixels) along the GEMM's n, where the
 *    packed B panels are reused across all output channels.
 */

import { windowOutputSize2d, type Window2dParams } from '../../ir/window.js';
import { dims4, expectLength, nonNegativeInts, positiveInts } from './check.js';
import { depthwiseConv2d } from './depthwise-conv2d.js';
import { gemm } from './gemm.js';
import { columnChunk, im2col, windowGeometry } from './im2col.js';
import { Float32Scratch } from './scratch.js';

/** Strides, dilations and pads (already resolved from auto_pad: top, left, bottom, right), and the group count. */
export interface Conv2dParams extends Window2dParams {
  group: number;
}

const columns = new Float32Scratch();

/** [outH, outW] of a kH x kW convolution (ir/window.ts: 0 where the window does not fit). */
export function conv2dOutputSize(inH: number, inW: number, kH: number, kW: number, p: Conv2dParams): [number, number] {
  return windowOutputSize2d(inH, inW, [kH, kW], p);
}

/**
 * x: [n, c, h, w]; w: [m, c / group, kH, kW] (ONNX layout); bias: [m] or
 * undefined. Returns y: [n, m, outH, outW].
 */
export function conv2d(
  x: Float32Array,
  xShape: readonly number[],
  w: Float32Array,
  wShape: readonly number[],
  bias: Float32Array | undefined,
  p: Conv2dParams,
): Float32Array {
  const [batch, inC, inH, inW] = dims4(xShape, 'input shape', 'conv2d');
  const [outC, groupC, kH, kW] = dims4(wShape, 'weight shape', 'conv2d');
  positiveInts([...p.strides, ...p.dilations, p.group], 'strides, dilations and group', 'conv2d');
  nonNegativeInts(p.pads, 'pads', 'conv2d');
  const group = p.group;
  if (groupC * group !== inC) {
    throw new RangeError(`conv2d: input has ${inC} channels, weights expect ${groupC} x group ${group}`);
  }
  if (outC % group !== 0) throw new RangeError(`conv2d: ${outC} output channels do not split into ${group} groups`);
  if (kH < 1 || kW < 1) throw new RangeError(`conv2d: empty kernel ${kH}x${kW}`);
  expectLength(x, batch * inC * inH * inW, 'input', 'conv2d');
  expectLength(w, outC * groupC * kH * kW, 'weights', 'conv2d');
  if (bias !== undefined) expectLength(bias, outC, 'bias', 'conv2d');

  const [outH, outW] = conv2dOutputSize(inH, inW, kH, kW, p);
  if (outH < 1 || outW < 1) {
    throw new RangeError(`conv2d: a ${kH}x${kW} window (dilations ${p.dilations}) does not fit the padded ${inH}x${inW} input`);
  }
  const y = new Float32Array(batch * outC * outH * outW);
  if (y.length === 0) return y;

  const geometry = windowGeometry(groupC, inH, inW, kH, kW, p, outH, outW);

  if (group === inC && group > 1) {
    depthwiseConv2d(x, batch, { ...geometry, channels: inC }, w, outC / group, bias, y);
    return y;
  }

  const pixels = outH * outW;
  const groupM = outC / group;
  const depth = groupC * kH * kW;
  const inPlane = inH * inW;
  // With a bias, y starts as the bias and the GEMM accumulates onto it: one pass fewer than adding it afterwards.
  if (bias !== undefined) fillChannels(y, bias, batch, outC, pixels);
  const accumulate = bias !== undefined;
  const pointwise =
    kH === 1 && kW === 1 && p.strides[0] === 1 && p.strides[1] === 1 && p.pads.every((v) => v === 0);

  if (pointwise) {
    for (let n = 0; n < batch; n++) {
      for (let g = 0; g < group; g++) {
        const xOff = (n * inC + g * groupC) * inPlane;
        const yOff = (n * outC + g * groupM) * pixels;
        gemm(groupM, pixels, groupC, w, g * groupM * groupC, groupC, x, xOff, pixels, false, y, yOff, pixels, accumulate);
      }
    }
    return y;
  }

  const chunk = columnChunk(depth, pixels);
  const col = columns.get(depth * chunk);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * inC + g * groupC) * inPlane;
      const yOff = (n * outC + g * groupM) * pixels;
      for (let c0 = 0; c0 < pixels; c0 += chunk) {
        const nc = Math.min(chunk, pixels - c0);
        im2col(x, xOff, geometry, c0, nc, col);
        gemm(groupM, nc, depth, w, g * groupM * depth, depth, col, 0, nc, false, y, yOff + c0, pixels, accumulate);
      }
    }
  }
  return y;
}

/** Sets each plane of y ([batch, channels, plane]) to its channel's value. */
export function fillChannels(y: Float32Array, values: Float32Array, batch: number, channels: number, plane: number): void {
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) y.fill(values[c]!, (n * channels + c) * plane, (n * channels + c + 1) * plane);
  }
}
