/** Lookup-table activations on the GPU (shaders/lut.wgsl; golden: the 'lut' case of runQuantized, eq. 21). */
import type { QParams } from '../../quant/qparams.js';
import type { QLutLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneOffset, packedWords, type ActShape, refuse } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface LutVariant {
  readonly kernel: 'lut';
}

export const lutKernel: KernelSource<LutVariant> = gridKernel(['lanes8.wgsl', 'lut.wgsl'], 'main');

/** Why the lut kernel cannot run the layer: a table that does not cover the input's codes. */
export function lutProblems(layer: Pick<QLutLayer, 'table'>, inP: QParams): string[] {
  return layer.table.length === inP.hi - inP.lo + 1 ? [] : [`a table of ${layer.table.length} entries for input codes [${inP.lo}, ${inP.hi}]`];
}

export function planLut(layer: QLutLayer, inP: QParams, outP: QParams, s: ActShape, maxWorkgroups: number): KernelPlan<LutVariant> {
  refuse(`lut '${layer.name}'`, lutProblems(layer, inP));
  const words = packedWords(s);
  return {
    variant: { kernel: 'lut' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { params: { words, c: s.c, in_off: laneOffset(inP), in_lo: inP.lo, out_off: laneOffset(outP) } },
    buffers: {
      x: { role: 'input', tensor: layer.inputs[0]! },
      table: { role: 'constant', data: layer.table },
      y: { role: 'output', tensor: layer.outputs[0]!, bytes: words * 4 },
    },
  };
}
