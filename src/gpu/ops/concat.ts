/**
 * Concat along channels on the GPU (shaders/concat.wgsl): up to 4 inputs per
 * dispatch, each requantized to the output's parameters. Golden: the 'concat'
 * case of runQuantized. Other axes and more than 4 inputs are refused.
 */
import { ShapeError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QConcatLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneOffset, packedWords, type ActShape, refuse } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface ConcatVariant {
  readonly kernel: 'concat';
}

export const MAX_CONCAT_INPUTS = 4;

export const concatKernel: KernelSource<ConcatVariant> = gridKernel(['requant.wgsl', 'lanes8.wgsl', 'concat.wgsl'], 'main');

export interface ConcatPlan extends KernelPlan<ConcatVariant> {
  readonly outShape: ActShape;
}

/** Why the concat kernel cannot run the layer over tensors of `rank`, or []. */
export function concatProblems(layer: Pick<QConcatLayer, 'axis' | 'inputs'>, rank: number): string[] {
  const problems: string[] = [];
  if ((layer.axis < 0 ? layer.axis + rank : layer.axis) !== 1) problems.push(`axis ${layer.axis} of rank ${rank}; only the channel axis is supported`);
  if (layer.inputs.length < 1 || layer.inputs.length > MAX_CONCAT_INPUTS) problems.push(`${layer.inputs.length} inputs; 1 to ${MAX_CONCAT_INPUTS} are supported`);
  return problems;
}

/** `rank` is the NCHW rank of the tensors (the axis is normalized against it). */
export function planConcat(layer: QConcatLayer, inP: readonly QParams[], outP: QParams, shapes: readonly ActShape[], rank: number, maxWorkgroups: number): ConcatPlan {
  const where = `concat '${layer.name}'`;
  refuse(where, concatProblems(layer, rank));
  const k = layer.inputs.length;
  const s0 = shapes[0]!;
  if (shapes.some((s) => s.n !== s0.n || s.h !== s0.h || s.w !== s0.w)) throw new ShapeError(`${where}: inputs differ outside the channel axis`);
  const begin: number[] = [];
  let c = 0;
  for (const s of shapes) {
    begin.push(c);
    c += s.c;
  }
  const pad = (xs: number[], fill: number): number[] => [...xs, ...Array<number>(MAX_CONCAT_INPUTS - xs.length).fill(fill)];
  const outShape: ActShape = { ...s0, c };
  const words = packedWords(outShape);
  const buffers: ConcatPlan['buffers'] = Object.fromEntries([
    ...Array.from({ length: MAX_CONCAT_INPUTS }, (_, j) => [`x${j}`, { role: 'input' as const, tensor: layer.inputs[j < k ? j : 0]! }]),
    ['y', { role: 'output' as const, tensor: layer.outputs[0]!, bytes: words * 4 }],
  ]);
  return {
    variant: { kernel: 'concat' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: {
      params: {
        words, c,
        ch_begin: pad(begin, c),
        ch_count: pad(shapes.map((s) => s.c), 0),
        in_off: pad(inP.map(laneOffset), 0),
        in_zero_point: pad(inP.map((p) => p.zeroPoint), 0),
        m0: pad(layer.inputRequant.map((r) => r.m0[0]!), 0),
        shift: pad(layer.inputRequant.map((r) => r.shift[0]!), 0),
        out_zero_point: outP.zeroPoint, out_lo: outP.lo, out_hi: outP.hi, out_off: laneOffset(outP),
      },
    },
    buffers,
    outShape,
  };
}
