import type { AutoPad, ConvLayer } from './layers.js';
import type { Dim } from './shape.js';

/**
 * Size arithmetic of sliding windows (convolution and pooling) along one
 * spatial axis, on known sizes or on symbols (which yield readable expressions
 * such as `ceil(H/2)`; the run-time shapes are always recomputed from numbers).
 * The one definition of these sizes: shape inference, the GPU planners and the
 * CPU kernels (float and golden) all take them from here.
 */

export function effectiveKernel(kernel: number, dilation: number): number {
  return (kernel - 1) * dilation + 1;
}

/** Pads [begin, end] of one axis, resolving ONNX `auto_pad`. Needs a known input size for SAME. */
export function resolveAxisPads(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  autoPad: AutoPad,
  explicit: [number, number],
): [number, number] {
  switch (autoPad) {
    case 'NOTSET':
      return explicit;
    case 'VALID':
      return [0, 0];
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      const out = Math.ceil(input / stride);
      return splitSamePads(Math.max(0, (out - 1) * stride + effectiveKernel(kernel, dilation) - input), autoPad);
    }
  }
}

/** SAME padding's split of `total` pads into [begin, end]: the odd one at the end (UPPER) or the beginning (LOWER). */
export function splitSamePads(total: number, autoPad: 'SAME_UPPER' | 'SAME_LOWER'): [number, number] {
  const small = Math.floor(total / 2);
  return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
}

/** Output size of a window along one axis, known or symbolic, with `auto_pad` resolved; numbers go through windowAxisSize. */
export function windowOutputSize(
  input: Dim,
  kernel: number,
  stride: number,
  dilation: number,
  autoPad: AutoPad,
  explicit: [number, number],
  ceilMode = false,
): Dim {
  if (typeof input === 'string') {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return stride === 1 ? input : `ceil(${input}/${stride})`;
    const delta = (autoPad === 'VALID' ? 0 : explicit[0] + explicit[1]) - effectiveKernel(kernel, dilation);
    if (stride === 1) return delta + 1 === 0 ? input : `${input}${signed(delta + 1)}`;
    return `${ceilMode ? 'ceil' : 'floor'}((${input}${signed(delta)})/${stride})+1`;
  }
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (autoPad === 'VALID') return windowAxisSize(input, kernel, stride, dilation, 0, 0, ceilMode);
  return windowAxisSize(input, kernel, stride, dilation, explicit[0], explicit[1], ceilMode);
}

/**
 * Output size of a window along one axis of known size, its pads already
 * resolved: floor (or with `ceilMode` ceil) of (input + pads - k_eff) / stride,
 * plus one; 0 when the window does not fit the padded input at all. The path
 * the kernels take on every run: numbers only, no auto_pad, no allocation.
 */
export function windowAxisSize(input: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceilMode = false): number {
  const span = input + padBegin + padEnd - effectiveKernel(kernel, dilation);
  if (span < 0) return 0;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // A last window that would start inside the end padding is dropped (ONNX and PyTorch agree).
  if ((out - 1) * stride >= input + padBegin) out--;
  return out;
}

/**
 * Output size along one axis of a transposed convolution (the adjoint of the
 * window above): stride * (input - 1) + outputPadding + k_eff - pads.
 */
export function transposedAxisSize(input: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, outputPadding: number): number {
  return stride * (input - 1) + outputPadding + effectiveKernel(kernel, dilation) - padBegin - padEnd;
}

/** The numbers of a 2-D window with its pads resolved, as the CPU kernels take them. */
export interface Window2dParams {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** Explicit pads: top, left, bottom, right. */
  readonly pads: readonly [number, number, number, number];
}

/** [outH, outW] of a kernel [kh, kw] sliding over an h x w input (see windowAxisSize). */
export function windowOutputSize2d(h: number, w: number, kernel: readonly [number, number], p: Window2dParams, ceilMode = false): [number, number] {
  return [
    windowAxisSize(h, kernel[0], p.strides[0], p.dilations[0], p.pads[0], p.pads[2], ceilMode),
    windowAxisSize(w, kernel[1], p.strides[1], p.dilations[1], p.pads[1], p.pads[3], ceilMode),
  ];
}

/**
 * The first i >= 0 whose position offset + i * step is >= 0: along an axis,
 * the first output whose tap lands inside the input (step = stride), or the
 * first tap of a window starting at `offset` that does (step = dilation).
 */
export function firstInside(offset: number, step: number): number {
  return offset >= 0 ? 0 : Math.ceil(-offset / step);
}

/** One past the last i >= 0 whose position offset + i * step is < size; 0 when none is. */
export function endInside(offset: number, step: number, size: number): number {
  const last = size - 1 - offset;
  return last < 0 ? 0 : Math.floor(last / step) + 1;
}

/** A 2-D window on a known input: its pads with `auto_pad` resolved, and its output size. */
export interface Window2d {
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly outH: number;
  readonly outW: number;
}

/** The pads [top, left, bottom, right] of a convolution or pool (kernel [kh, kw]) over an h x w input, `auto_pad` resolved. */
export function resolvePads2d(h: number, w: number, kernel: readonly [number, number], window: Pick<ConvLayer, 'strides' | 'dilations' | 'pads' | 'autoPad'>): [number, number, number, number] {
  const [top, bottom] = resolveAxisPads(h, kernel[0], window.strides[0], window.dilations[0], window.autoPad, [window.pads[0], window.pads[2]]);
  const [left, right] = resolveAxisPads(w, kernel[1], window.strides[1], window.dilations[1], window.autoPad, [window.pads[1], window.pads[3]]);
  return [top, left, bottom, right];
}

/** Resolves the window of a convolution or pool (kernel [kh, kw]) over an h x w input. */
export function resolveWindow2d(h: number, w: number, kernel: readonly [number, number], window: Pick<ConvLayer, 'strides' | 'dilations' | 'pads' | 'autoPad'>, ceilMode = false): Window2d {
  const [kh, kw] = kernel;
  const [sh, sw] = window.strides;
  const [dh, dw] = window.dilations;
  const [padTop, padLeft, padBottom, padRight] = resolvePads2d(h, w, kernel, window);
  return {
    padTop,
    padBottom,
    padLeft,
    padRight,
    outH: windowAxisSize(h, kh, sh, dh, padTop, padBottom, ceilMode),
    outW: windowAxisSize(w, kw, sw, dw, padLeft, padRight, ceilMode),
  };
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : `${n}`;
}

/** Scale a possibly symbolic size by an integer factor, for labels and shapes. */
export function scaleDim(d: Dim, factor: number, add = 0): Dim {
  if (typeof d === 'number') return d * factor + add;
  const scaled = factor === 1 ? d : `${factor}*${d}`;
  return add === 0 ? scaled : `${scaled}${signed(add)}`;
}
