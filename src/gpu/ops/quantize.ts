/**
 * The network's boundary on the GPU (shaders/quantize.wgsl): a float NCHW
 * tensor to packed lanes (golden: quantizeValue, eq. 4-5), and packed lanes
 * back to float NCHW (golden: dequantizeValue, eq. 1).
 */
import type { QParams } from '../../quant/qparams.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d, laneOffset, packedWords, type ActShape } from './layout.js';
import { smallKernel, type SmallPlan } from './small-plan.js';

export interface QuantizeVariant {
  readonly kernel: 'quantize';
}
export interface DequantizeVariant {
  readonly kernel: 'dequantize';
}

export const quantizeKernel: KernelSource<QuantizeVariant> = smallKernel(['lanes8.wgsl', 'quantize.wgsl'], 'quantize_main');
export const dequantizeKernel: KernelSource<DequantizeVariant> = smallKernel(['lanes8.wgsl', 'quantize.wgsl'], 'dequantize_main');

export interface BoundaryTensors {
  /** The float tensor (NCHW f32). */
  readonly real: string;
  /** The integer tensor (packed lanes). */
  readonly lanes: string;
}

function checkParams(p: QParams, where: string): void {
  const off = laneOffset(p);
  if (p.bits > 8 || p.lo - off < -128 || p.hi - off > 127) throw new RangeError(`${where}: ${p.bits}-bit ${p.scheme} codes [${p.lo}, ${p.hi}] do not fit 8-bit lanes`);
}

export function planQuantize(t: BoundaryTensors, p: QParams, s: ActShape, maxWorkgroups: number): SmallPlan<QuantizeVariant> {
  checkParams(p, `quantize '${t.lanes}'`);
  const words = packedWords(s);
  return {
    variant: { kernel: 'quantize' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { qp: { ...s, words, scale: Math.fround(p.scale), zero_point: p.zeroPoint, off: laneOffset(p), lo: p.lo, hi: p.hi } },
    buffers: { real_in: { role: 'input', tensor: t.real }, lanes_out: { role: 'output', tensor: t.lanes, bytes: words * 4 } },
  };
}

export function planDequantize(t: BoundaryTensors, p: QParams, s: ActShape, maxWorkgroups: number): SmallPlan<DequantizeVariant> {
  checkParams(p, `dequantize '${t.lanes}'`);
  const words = packedWords(s);
  return {
    variant: { kernel: 'dequantize' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { dp: { ...s, words, scale: Math.fround(p.scale), zero_point: p.zeroPoint, off: laneOffset(p) } },
    buffers: { lanes_in: { role: 'input', tensor: t.lanes }, real_out: { role: 'output', tensor: t.real, bytes: s.n * s.c * s.h * s.w * 4 } },
  };
}
