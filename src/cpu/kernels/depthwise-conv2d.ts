/**
 * Depthwise convolution (group == input channels, optional channel
 * multiplier), computed directly.
 *
 * As a GEMM it would be a 1-row product per channel: all packing overhead,
 * no reuse. A direct loop does kH*kW multiply-adds per output with the input
 * rows streaming through L1. The output plane splits into an interior, where
 * every tap is inside the image and the loop runs with no bounds tests, and a
 * border (at most a few rows and columns) that checks each tap. The very
 * common 3x3 case gets its taps in registers.
 */

import { endInside, firstInside } from '../../ir/window.js';
import type { WindowGeometry } from './im2col.js';

/**
 * y[n, m] for m = ci * multiplier + q reads only x[n, ci], with the weights
 * w[m, 0, :, :]. `g.channels` is the number of input channels; y is written
 * completely (bias included).
 */
export function depthwiseConv2d(
  x: Float32Array,
  batch: number,
  g: WindowGeometry,
  w: Float32Array,
  multiplier: number,
  bias: Float32Array | undefined,
  y: Float32Array,
): void {
  const { channels, inH, inW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW } = g;
  const outC = channels * multiplier;
  // Interior: output rows/cols whose whole window lies inside the input, i.e. whose first tap
  // (offset -pad) and last tap (offset (k - 1) * dilation - pad) both do.
  const ohLo = Math.min(outH, firstInside(-padTop, strideH));
  const ohHi = Math.max(ohLo, Math.min(outH, endInside((kH - 1) * dilationH - padTop, strideH, inH)));
  const owLo = Math.min(outW, firstInside(-padLeft, strideW));
  const owHi = Math.max(owLo, Math.min(outW, endInside((kW - 1) * dilationW - padLeft, strideW, inW)));
  const taps3x3 = kH === 3 && kW === 3;

  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outC; m++) {
      const ci = Math.floor(m / multiplier);
      const xPlane = (n * channels + ci) * inH * inW;
      const yPlane = (n * outC + m) * outH * outW;
      const wOff = m * kH * kW;
      const b = bias === undefined ? 0 : bias[m]!;
      for (let oh = 0; oh < outH; oh++) {
        const ih0 = oh * strideH - padTop;
        const yRow = yPlane + oh * outW;
        if (oh < ohLo || oh >= ohHi) {
          borderRun(x, xPlane, inH, inW, w, wOff, kH, kW, dilationH, dilationW, ih0, strideW, padLeft, b, y, yRow, 0, outW);
          continue;
        }
        borderRun(x, xPlane, inH, inW, w, wOff, kH, kW, dilationH, dilationW, ih0, strideW, padLeft, b, y, yRow, 0, owLo);
        const xStart = xPlane + ih0 * inW + owLo * strideW - padLeft;
        if (taps3x3 && strideW === 1 && dilationW === 1) interiorRun3x3Unit(x, xStart, inW * dilationH, w, wOff, b, y, yRow + owLo, owHi - owLo);
        else if (taps3x3) interiorRun3x3(x, xStart, inW * dilationH, dilationW, strideW, w, wOff, b, y, yRow + owLo, owHi - owLo);
        else interiorRun(x, xStart, inW * dilationH, dilationW, strideW, kH, kW, w, wOff, b, y, yRow + owLo, owHi - owLo);
        borderRun(x, xPlane, inH, inW, w, wOff, kH, kW, dilationH, dilationW, ih0, strideW, padLeft, b, y, yRow, owHi, outW);
      }
    }
  }
}

/** Outputs [owFrom, owTo) of one output row, testing every tap against the image bounds. */
function borderRun(
  x: Float32Array,
  xPlane: number,
  inH: number,
  inW: number,
  w: Float32Array,
  wOff: number,
  kH: number,
  kW: number,
  dH: number,
  dW: number,
  ih0: number,
  sW: number,
  padLeft: number,
  b: number,
  y: Float32Array,
  yRow: number,
  owFrom: number,
  owTo: number,
): void {
  for (let ow = owFrom; ow < owTo; ow++) {
    const iw0 = ow * sW - padLeft;
    let s = b;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      if (ih < 0 || ih >= inH) continue;
      const xRow = xPlane + ih * inW;
      const wRow = wOff + kh * kW;
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw >= 0 && iw < inW) s += w[wRow + kw]! * x[xRow + iw]!;
      }
    }
    y[yRow + ow] = s;
  }
}

/** `count` interior outputs, any kernel size; xStart is the input index of the first output's first tap. */
function interiorRun(
  x: Float32Array,
  xStart: number,
  rowStep: number,
  dW: number,
  sW: number,
  kH: number,
  kW: number,
  w: Float32Array,
  wOff: number,
  b: number,
  y: Float32Array,
  yStart: number,
  count: number,
): void {
  let xi = xStart;
  for (let o = 0; o < count; o++) {
    let s = b;
    let xr = xi;
    let wi = wOff;
    for (let kh = 0; kh < kH; kh++) {
      let xc = xr;
      for (let kw = 0; kw < kW; kw++) {
        s += w[wi++]! * x[xc]!;
        xc += dW;
      }
      xr += rowStep;
    }
    y[yStart + o] = s;
    xi += sW;
  }
}

/** `count` interior outputs of a 3x3 window: the nine taps stay in registers. */
function interiorRun3x3(
  x: Float32Array,
  xStart: number,
  rowStep: number,
  dW: number,
  sW: number,
  w: Float32Array,
  wOff: number,
  b: number,
  y: Float32Array,
  yStart: number,
  count: number,
): void {
  const w00 = w[wOff]!, w01 = w[wOff + 1]!, w02 = w[wOff + 2]!;
  const w10 = w[wOff + 3]!, w11 = w[wOff + 4]!, w12 = w[wOff + 5]!;
  const w20 = w[wOff + 6]!, w21 = w[wOff + 7]!, w22 = w[wOff + 8]!;
  const dW2 = 2 * dW;
  let r0 = xStart;
  let r1 = xStart + rowStep;
  let r2 = r1 + rowStep;
  for (let o = 0; o < count; o++) {
    const s0 = w00 * x[r0]! + w01 * x[r0 + dW]! + w02 * x[r0 + dW2]!;
    const s1 = w10 * x[r1]! + w11 * x[r1 + dW]! + w12 * x[r1 + dW2]!;
    const s2 = w20 * x[r2]! + w21 * x[r2 + dW]! + w22 * x[r2 + dW2]!;
    y[yStart + o] = b + s0 + s1 + s2;
    r0 += sW;
    r1 += sW;
    r2 += sW;
  }
}

/**
 * 3x3, unit stride and dilation along the row (the MobileNet case): the
 * window slides by one column, so each output loads only the three new
 * input values and shifts the other six along in registers.
 */
function interiorRun3x3Unit(
  x: Float32Array,
  xStart: number,
  rowStep: number,
  w: Float32Array,
  wOff: number,
  b: number,
  y: Float32Array,
  yStart: number,
  count: number,
): void {
  if (count <= 0) return;
  const w00 = w[wOff]!, w01 = w[wOff + 1]!, w02 = w[wOff + 2]!;
  const w10 = w[wOff + 3]!, w11 = w[wOff + 4]!, w12 = w[wOff + 5]!;
  const w20 = w[wOff + 6]!, w21 = w[wOff + 7]!, w22 = w[wOff + 8]!;
  let r0 = xStart;
  let r1 = xStart + rowStep;
  let r2 = r1 + rowStep;
  let a0 = x[r0]!, a1 = x[r0 + 1]!;
  let b0 = x[r1]!, b1 = x[r1 + 1]!;
  let c0 = x[r2]!, c1 = x[r2 + 1]!;
  r0 += 2;
  r1 += 2;
  r2 += 2;
  for (let o = 0; o < count; o++) {
    const a2 = x[r0++]!;
    const b2 = x[r1++]!;
    const c2 = x[r2++]!;
    y[yStart + o] = b + (w00 * a0 + w01 * a1 + w02 * a2) + (w10 * b0 + w11 * b1 + w12 * b2) + (w20 * c0 + w21 * c1 + w22 * c2);
    a0 = a1;
    a1 = a2;
    b0 = b1;
    b1 = b2;
    c0 = c1;
    c1 = c2;
  }
}
