/**
 * Depthwise convolution on the GPU (shaders/depthwise.wgsl): a conv layer with
 * one input channel per group. Golden: depthwiseAccumulate + intMatmulLayer
 * (src/cpu/golden/int-conv.ts). The weights are the layer's packed rows.
 */
import type { ConvLayer } from '../../ir/layers.js';
import { resolveAxisPads, windowOutputSize } from '../../ir/window.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d, laneOffset, packedWords, type ActShape } from './layout.js';
import { smallKernel, type SmallPlan } from './small-plan.js';

export interface DepthwiseVariant {
  readonly kernel: 'depthwise';
  readonly laneBits: 2 | 4 | 8 | 16;
}

export const depthwiseKernel: KernelSource<DepthwiseVariant> = smallKernel(['requant.wgsl', 'lanes8.wgsl', 'depthwise.wgsl'], 'main', (v) => ({ LANE_BITS: v.laneBits }));

export interface DepthwisePlan extends SmallPlan<DepthwiseVariant> {
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
    throw new RangeError(`${where}: not depthwise (weights [${layer.weightShape.join(', ')}], group ${d.group}, ${s.c} input channels)`);
  }
  const [sh, sw] = d.strides;
  const [dh, dw] = d.dilations;
  const [pt, pb] = resolveAxisPads(s.h, kh, sh, dh, d.autoPad, [d.pads[0], d.pads[2]]);
  const [pl, pr] = resolveAxisPads(s.w, kw, sw, dw, d.autoPad, [d.pads[1], d.pads[3]]);
  const oh = windowOutputSize(s.h, kh, sh, dh, 'NOTSET', [pt, pb]) as number;
  const ow = windowOutputSize(s.w, kw, sw, dw, 'NOTSET', [pl, pr]) as number;
  const outShape: ActShape = { n: s.n, c: m, h: oh, w: ow };
  const words = packedWords(outShape);
  const packed = layer.packedWeights;
  return {
    variant: { kernel: 'depthwise', laneBits: packed.laneBits },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: {
      params: {
        words, h: s.h, w: s.w, c_in: s.c, oh, ow, c_out: m, mult: m / s.c,
        kh, kw, sh, sw, dh, dw, pad_top: pt, pad_left: pl, k_words: packed.wordsPerRow,
        in_off: laneOffset(inP), in_zero_point: inP.zeroPoint,
        out_zero_point: outP.zeroPoint, out_lo: outP.lo, out_hi: outP.hi, out_off: laneOffset(outP),
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
