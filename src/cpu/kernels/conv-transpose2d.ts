/**
 * 2-D transposed convolution, ONNX ConvTranspose semantics, NCHW, float32.
 *
 * A transposed convolution is the adjoint of the forward convolution whose
 * input is our output: every input pixel scatters weight-scaled copies of
 * itself over a kH x kW patch. Per image and group that is
 *     columns (K x P) = W_g^T (K x Cg) * x_g (Cg x P),   K = Mg * kH * kW,
 * followed by col2im, which adds each column entry onto the output position
 * of its tap (dropping those that land in the cropped padding). The GEMM
 * does all the arithmetic; col2im only moves data.
 */

import { transposedAxisSize, type Window2dParams } from '../../ir/window.js';
import { dims4, expectLength, nonNegativeInts, positiveInts } from './check.js';
import { gemm } from './gemm.js';
import { fillChannels } from './conv2d.js';
import { col2imAdd, columnChunk, windowGeometry } from './im2col.js';
import { Float32Scratch } from './scratch.js';

/** Strides, dilations and pads (cropped from the full output: top, left, bottom, right), and more. */
export interface ConvTranspose2dParams extends Window2dParams {
  group: number;
  /** Extra rows/columns at the bottom/right of the output: [h, w]. */
  outputPadding: readonly [number, number];
}

const columns = new Float32Scratch();
const transposedWeights = new Float32Scratch();

/** Per axis: stride * (in - 1) + outputPadding + ((k - 1) * dilation + 1) - padBegin - padEnd (ir/window.ts). */
export function convTranspose2dOutputSize(inH: number, inW: number, kH: number, kW: number, p: ConvTranspose2dParams): [number, number] {
  return [
    transposedAxisSize(inH, kH, p.strides[0], p.dilations[0], p.pads[0], p.pads[2], p.outputPadding[0]),
    transposedAxisSize(inW, kW, p.strides[1], p.dilations[1], p.pads[1], p.pads[3], p.outputPadding[1]),
  ];
}

/**
 * x: [n, c, h, w]; w: [c, m / group, kH, kW] (ONNX layout); bias: [m] or
 * undefined. Returns y: [n, m, outH, outW].
 */
export function convTranspose2d(
  x: Float32Array,
  xShape: readonly number[],
  w: Float32Array,
  wShape: readonly number[],
  bias: Float32Array | undefined,
  p: ConvTranspose2dParams,
): Float32Array {
  const [batch, inC, inH, inW] = dims4(xShape, 'input shape', 'convTranspose2d');
  const [wC, groupM, kH, kW] = dims4(wShape, 'weight shape', 'convTranspose2d');
  positiveInts([...p.strides, ...p.dilations, p.group], 'strides, dilations and group', 'convTranspose2d');
  nonNegativeInts([...p.pads, ...p.outputPadding], 'pads and output padding', 'convTranspose2d');
  const group = p.group;
  if (wC !== inC) throw new RangeError(`convTranspose2d: input has ${inC} channels, weights have ${wC}`);
  if (inC % group !== 0) throw new RangeError(`convTranspose2d: ${inC} input channels do not split into ${group} groups`);
  if (kH < 1 || kW < 1) throw new RangeError(`convTranspose2d: empty kernel ${kH}x${kW}`);
  const outC = groupM * group;
  expectLength(x, batch * inC * inH * inW, 'input', 'convTranspose2d');
  expectLength(w, inC * groupM * kH * kW, 'weights', 'convTranspose2d');
  if (bias !== undefined) expectLength(bias, outC, 'bias', 'convTranspose2d');

  const [outH, outW] = convTranspose2dOutputSize(inH, inW, kH, kW, p);
  if (outH < 1 || outW < 1) throw new RangeError(`convTranspose2d: pads leave an empty ${outH}x${outW} output`);
  const outPlane = outH * outW;
  const y = new Float32Array(batch * outC * outPlane);
  if (bias !== undefined) fillChannels(y, bias, batch, outC, outPlane);
  const pixels = inH * inW;
  if (y.length === 0 || pixels === 0) return y;

  const groupC = inC / group;
  const depth = groupM * kH * kW; // rows of the column matrix
  // The forward convolution this one is the adjoint of: its input is our output.
  const geometry = windowGeometry(groupM, outH, outW, kH, kW, p, inH, inW);

  const chunk = columnChunk(depth, pixels);
  const col = columns.get(depth * chunk);
  const wt = transposedWeights.get(depth * groupC);

  for (let g = 0; g < group; g++) {
    // W_g is groupC x depth row-major; the GEMM wants its transpose as the (row-major) A operand.
    const wBase = g * groupC * depth;
    for (let c = 0; c < groupC; c++) {
      const src = wBase + c * depth;
      for (let r = 0; r < depth; r++) wt[r * groupC + c] = w[src + r]!;
    }
    for (let n = 0; n < batch; n++) {
      const xOff = (n * inC + g * groupC) * pixels;
      const yOff = (n * outC + g * groupM) * outPlane;
      for (let c0 = 0; c0 < pixels; c0 += chunk) {
        const nc = Math.min(chunk, pixels - c0);
        gemm(depth, nc, groupC, wt, 0, groupC, x, xOff + c0, pixels, false, col, 0, nc, false);
        col2imAdd(col, geometry, c0, nc, y, yOff);
      }
    }
  }
  return y;
}
