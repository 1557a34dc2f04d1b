/**
 * Integer convolution layers with seeded random weights, for timing kernels
 * (the dot-path choice, bench/): the times do not depend on the values, so
 * no model or calibration is needed.
 */
import type { ConvLayer } from '../ir/layers.js';
import { seededRandom } from '../util/seeded-input.js';

export { seededRandom };
import { activationRange, weightRange, type QParams } from '../quant/qparams.js';
import type { QMatmulLayer } from '../quant/quantized-graph.js';

export interface SyntheticConv {
  readonly name: string;
  /** Input and output channels. */
  readonly c: number;
  readonly m: number;
  /** Square kernel size and stride; padding keeps the size ("same") at stride 1. */
  readonly k: number;
  readonly stride: number;
  readonly depthwise?: boolean;
}


export function syntheticActivation(scheme: 'symmetric' | 'affine'): QParams {
  return { scale: 0.05, zeroPoint: scheme === 'affine' ? 10 : 0, bits: 8, scheme, ...activationRange(8, scheme) };
}

export function syntheticConv(s: SyntheticConv, weightBits: number, seed = 7): QMatmulLayer {
  const rnd = seededRandom(seed);
  const cg = s.depthwise ? 1 : s.c;
  const kk = cg * s.k * s.k;
  const q = weightRange(weightBits);
  const weights = Int32Array.from({ length: s.m * kk }, () => Math.floor(rnd() * (2 * q + 1)) - q);
  const pad = (s.k - 1) >> 1;
  const conv: ConvLayer = { name: s.name, op: 'conv', inputs: ['x', 'w'], outputs: ['y'], strides: [s.stride, s.stride], dilations: [1, 1], pads: [pad, pad, pad, pad], autoPad: 'NOTSET', group: s.depthwise ? s.c : 1 };
  return {
    kind: 'conv', name: s.name, inputs: ['x'], outputs: ['y'], layer: conv, weightShape: [s.m, cg, s.k, s.k], weights, weightBits,
    weightScales: new Float32Array(s.m).fill(0.01),
    bias: Int32Array.from({ length: s.m }, () => Math.floor(rnd() * 2000) - 1000),
    requant: { m0: new Int32Array(s.m).fill(1 << 30), shift: new Int32Array(s.m).fill(-8) },
  };
}
