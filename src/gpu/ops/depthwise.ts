/**
 * Depthwise convolution on the GPU (shaders/depthwise.wgsl): a conv layer with
 * one input channel per group. Golden: depthwiseAccumulate + intMatmulLayer
 * (src/cpu/golden/int-conv.ts). The weights are repacked per output word:
 * each tap's 4 channels as 4 lanes (packDepthwiseWeights).
 */
import { GpuUnsupportedError } from '../../errors.js';
import type { ConvLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneFitProblems, laneOffset, packDepthwiseWeights, packedWords, refuse, type ActShape } from '../../quant/lanes.js';
import { convProblems } from './conv.js';
import { dispatch1d } from './dispatch.js';
import { gridWindow, windowPieces, withRanges, type BindingLimits } from './pieces.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface DepthwiseVariant {
  readonly kernel: 'depthwise';
  readonly wLaneBits: 2 | 4 | 8;
  /** One output channel per input channel: the 4 lanes of an output word read one input word. */
  readonly mult1: boolean;
  /** Output pixels of a row per invocation (1..4): each tap's weights loaded once for all of them. */
  readonly cols: 1 | 2 | 3 | 4;
}

export const depthwiseKernel: KernelSource<DepthwiseVariant> = gridKernel(['requant.wgsl', 'lanes8.wgsl', 'dot4_unpacked.wgsl', 'weight_lanes.wgsl', 'depthwise.wgsl'], 'main', (v) => ({
  W_LANE_BITS: v.wLaneBits,
  MULT1: v.mult1 ? 1 : 0,
  COLS: v.cols,
}));

export interface DepthwisePlan extends KernelPlan<DepthwiseVariant> {
  readonly outShape: ActShape;
}

/** Whether a layer is a depthwise convolution (one input channel per group), the one this kernel runs. */
export function isDepthwise(layer: QMatmulLayer): boolean {
  return layer.kind === 'conv' && layer.weightShape[1] === 1 && (layer.layer as ConvLayer).group > 1;
}

export function planDepthwise(layer: QMatmulLayer, inP: QParams, outP: QParams, s: ActShape, maxWorkgroups: number): DepthwisePlan {
  const where = `depthwise conv '${layer.name}'`;
  const d = layer.layer as ConvLayer;
  const [m, cg, kh, kw] = layer.weightShape as [number, number, number, number];
  if (layer.kind !== 'conv' || cg !== 1 || d.group !== s.c || m % s.c !== 0) {
    throw new GpuUnsupportedError(`${where}: not depthwise (weights [${layer.weightShape.join(', ')}], group ${d.group}, ${s.c} input channels)`);
  }
  const [sh, sw] = d.strides;
  const [dh, dw] = d.dilations;
  const { padTop: pt, padLeft: pl, outH: oh, outW: ow } = resolveWindow2d(s.h, s.w, [kh, kw], d);
  const outShape: ActShape = { n: s.n, c: m, h: oh, w: ow };
  const words = packedWords(outShape);
  refuse(where, [...laneFitProblems(inP, 'its input'), ...convProblems(layer, outP, { dot4I8Packed: false })]);
  const packed = packDepthwiseWeights(layer.weights, m, kh, kw, layer.weightBits);
  const cols = Math.min(4, ow) as 1 | 2 | 3 | 4;
  const invocations = s.n * oh * Math.ceil(ow / cols) * Math.ceil(m / 4);
  return {
    variant: { kernel: 'depthwise', wLaneBits: packed.laneBits as 2 | 4 | 8, mult1: m === s.c, cols },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: {
      params: {
        invocations, h: s.h, w: s.w, c_in: s.c, oh, ow, c_out: m, mult: m / s.c,
        kh, kw, sh, sw, dh, dw, pad_top: pt, pad_left: pl, w_words_per_row: packed.wordsPerRow,
        in_off: laneOffset(inP), in_zero_point: inP.zeroPoint,
        out_zero_point: outP.zeroPoint, out_lo: outP.lo, out_hi: outP.hi, out_off: laneOffset(outP),
        first: 0, in_base: 0, out_base: 0,
      },
    },
    buffers: {
      x: { role: 'input', tensor: layer.inputs[0]! },
      weights: { role: 'constant', data: packed.data },
      bias: { role: 'constant', data: layer.bias },
      m0: { role: 'constant', data: layer.requant.m0 },
      shift: { role: 'constant', data: layer.requant.shift },
      y: { role: 'output', tensor: layer.outputs[0]!, bytes: words * 4 },
    },
    outShape,
  };
}

/**
 * The layer in pieces of whole output rows (an invocation computes up to 4
 * pixels of a row) where its input or output passes a binding, each binding
 * the input rows its windows read (pieces.ts, windowPieces); the whole plan
 * where they fit, or where not even one row does (the builder refuses it,
 * the limit named).
 */
export function depthwisePieces(plan: DepthwisePlan, s: ActShape, limits: BindingLimits, maxWorkgroups: number): DepthwisePlan[] {
  const geometry = gridWindow(plan.uniforms['params'], s, Math.ceil(s.c / 4), Math.ceil(plan.outShape.c / 4));
  const pieces = windowPieces(geometry, limits, true);
  if (pieces === undefined) return [plan];
  const itemsPerRow = Math.ceil(geometry.outW / plan.variant.cols) * geometry.outWords;
  return pieces.map((p) => {
    const [row0, row1] = [p.first / geometry.outW, p.end / geometry.outW];
    const invocations = (row1 - row0) * itemsPerRow;
    const params = { ...plan.uniforms['params'], invocations, first: row0 * itemsPerRow, in_base: p.input.base, out_base: p.output.base };
    return withRanges({ ...plan, dispatch: dispatch1d(invocations, maxWorkgroups), uniforms: { params } }, { x: p.input.range, y: p.output.range });
  });
}
