import type { AutoPad, ConvLayer } from './layers.js';
import type { Dim } from './shape.js';

/**
 * Size arithmetic of sliding windows (convolution and pooling) along one
 * spatial axis, on known sizes or on symbols (which yield readable expressions
 * such as `ceil(H/2)`; the run-time shapes are always recomputed from numbers).
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
      const total = Math.max(0, (out - 1) * stride + effectiveKernel(kernel, dilation) - input);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    }
  }
}

/** Output size of a window along one axis: floor or ceil of (in + pads - k_eff) / s, plus one. */
export function windowOutputSize(
  input: Dim,
  kernel: number,
  stride: number,
  dilation: number,
  autoPad: AutoPad,
  explicit: [number, number],
  ceilMode = false,
): Dim {
  const k = effectiveKernel(kernel, dilation);
  if (typeof input === 'string') {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return stride === 1 ? input : `ceil(${input}/${stride})`;
    const delta = (autoPad === 'VALID' ? 0 : explicit[0] + explicit[1]) - k;
    if (stride === 1) return delta + 1 === 0 ? input : `${input}${signed(delta + 1)}`;
    return `${ceilMode ? 'ceil' : 'floor'}((${input}${signed(delta)})/${stride})+1`;
  }
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  const [b, e] = autoPad === 'VALID' ? [0, 0] : explicit;
  const span = input + b + e - k;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // A last window that would start inside the end padding is dropped (ONNX and PyTorch agree).
  if ((out - 1) * stride >= input + b) out--;
  return out;
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

/** Resolves the window of a convolution or pool (kernel [kh, kw]) over an h x w input. */
export function resolveWindow2d(h: number, w: number, kernel: readonly [number, number], window: Pick<ConvLayer, 'strides' | 'dilations' | 'pads' | 'autoPad'>, ceilMode = false): Window2d {
  const [kh, kw] = kernel;
  const [sh, sw] = window.strides;
  const [dh, dw] = window.dilations;
  const [padTop, padBottom] = resolveAxisPads(h, kh, sh, dh, window.autoPad, [window.pads[0], window.pads[2]]);
  const [padLeft, padRight] = resolveAxisPads(w, kw, sw, dw, window.autoPad, [window.pads[1], window.pads[3]]);
  return {
    padTop,
    padBottom,
    padLeft,
    padRight,
    outH: windowOutputSize(h, kh, sh, dh, 'NOTSET', [padTop, padBottom], ceilMode) as number,
    outW: windowOutputSize(w, kw, sw, dw, 'NOTSET', [padLeft, padRight], ceilMode) as number,
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
