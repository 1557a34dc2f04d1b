/**
 * The network's boundary on the GPU (shaders/quantize.wgsl): a float NCHW
 * tensor to packed lanes (golden: quantizeValue, eq. 4-5), and packed lanes
 * back to float NCHW (golden: dequantizeValue, eq. 1).
 */
import { stridesOf } from '../../ir/shape.js';
import type { QParams } from '../../quant/qparams.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneFitProblems, laneOffset, packedWords, type ActShape, refuse } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { windowPieces, withRanges, type BindingLimits } from './pieces.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface QuantizeVariant {
  readonly kernel: 'quantize';
}
export interface DequantizeVariant {
  readonly kernel: 'dequantize';
}

export const quantizeKernel: KernelSource<QuantizeVariant> = gridKernel(['lanes8.wgsl', 'quotient.wgsl', 'quantize.wgsl'], 'quantize_main');
export const dequantizeKernel: KernelSource<DequantizeVariant> = gridKernel(['lanes8.wgsl', 'quotient.wgsl', 'quantize.wgsl'], 'dequantize_main');

/** A convolution window over the input: which input pixels each output position's lanes hold. */
export interface QuantizeWindow {
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilH: number;
  readonly dilW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly outH: number;
  readonly outW: number;
}

/** The 1x1 window: each position holds its own pixel's channels (the plain boundary). */
export function plainWindow(s: ActShape): QuantizeWindow {
  return { kH: 1, kW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0, outH: s.h, outW: s.w };
}

export interface BoundaryTensors {
  /** The float tensor (NCHW f32). */
  readonly real: string;
  /** The integer tensor (packed lanes). */
  readonly lanes: string;
}


/** Element strides of the float input's N, C, H and W axes in memory. */
export type InputStrides = readonly [number, number, number, number];

/**
 * Quantize a float tensor seen as NCHW of shape `s` (contiguous by default, or
 * through `strides`) to packed lanes, through a convolution window (im2col,
 * src/gpu/ops/im2col.ts) or the 1x1 window of the plain boundary (the
 * default): the output is [n, kH * kW * c, outH, outW].
 */
export function planQuantize(
  t: BoundaryTensors,
  p: QParams,
  s: ActShape,
  maxWorkgroups: number,
  window: QuantizeWindow = plainWindow(s),
  strides: InputStrides = stridesOf([s.n, s.c, s.h, s.w]) as [number, number, number, number],
): KernelPlan<QuantizeVariant> {
  refuse(`quantize '${t.lanes}'`, laneFitProblems(p, 'its output'));
  const lanes = window.kH * window.kW * s.c;
  const words = packedWords({ n: s.n, c: lanes, h: window.outH, w: window.outW });
  return {
    variant: { kernel: 'quantize' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: {
      qp: {
        ...s,
        stride_n: strides[0],
        stride_c: strides[1],
        stride_y: strides[2],
        stride_x: strides[3],
        out_h: window.outH,
        out_w: window.outW,
        lanes,
        words,
        win_h: window.kH,
        win_w: window.kW,
        stride_h: window.strideH,
        stride_w: window.strideW,
        dil_h: window.dilH,
        dil_w: window.dilW,
        pad_top: window.padTop,
        pad_left: window.padLeft,
        scale: Math.fround(p.scale),
        zero_point: p.zeroPoint,
        off: laneOffset(p),
        lo: p.lo,
        hi: p.hi,
        first: 0,
        in_base: 0,
        out_base: 0,
      },
    },
    buffers: { real_in: { role: 'input', tensor: t.real }, lanes_out: { role: 'output', tensor: t.lanes, bytes: words * 4 } },
  };
}

export function planDequantize(t: BoundaryTensors, p: QParams, s: ActShape, maxWorkgroups: number): KernelPlan<DequantizeVariant> {
  refuse(`dequantize '${t.lanes}'`, laneFitProblems(p, 'its input'));
  const words = packedWords(s);
  return {
    variant: { kernel: 'dequantize' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { dp: { ...s, words, scale: Math.fround(p.scale), zero_point: p.zeroPoint, off: laneOffset(p) } },
    buffers: { lanes_in: { role: 'input', tensor: t.lanes }, real_out: { role: 'output', tensor: t.real, bytes: s.n * s.c * s.h * s.w * 4 } },
  };
}

/**
 * A plain quantize step (no window, no strides) of a one-channel tensor in
 * pieces of positions where its input or output passes a binding: there each
 * output word holds one input element, so a run of positions reads a run of
 * elements (pieces.ts). Other quantize steps read each position's channels
 * from planes apart: the whole plan, which the builder refuses past the
 * limit, naming it.
 */
export function quantizePieces(plan: KernelPlan<QuantizeVariant>, s: ActShape, limits: BindingLimits, maxWorkgroups: number): KernelPlan<QuantizeVariant>[] {
  if (s.c !== 1) return [plan];
  const pieces = windowPieces({ positions: s.n * s.h * s.w, outH: s.h, outW: s.w, outWords: 1, inH: s.h, inW: s.w, inWords: 1, kH: 1, strideH: 1, dilH: 1, padTop: 0 }, limits);
  if (pieces === undefined) return [plan];
  return pieces.map((p) => {
    const qp = { ...plan.uniforms['qp'], words: p.end - p.first, first: p.first, in_base: p.input.base, out_base: p.output.base };
    return withRanges({ ...plan, dispatch: dispatch1d(p.end - p.first, maxWorkgroups), uniforms: { qp } }, { real_in: p.input.range, lanes_out: p.output.range });
  });
}
