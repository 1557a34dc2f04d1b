/**
 * Float32 Concat along any axis, any number of inputs, on the GPU: one
 * dispatch of shaders/fcopy.wgsl per input, into slices of one output.
 * Golden: the CPU float executor's concat.
 */
import { ShapeError } from '../../errors.js';
import type { ConcatLayer } from '../../ir/layers.js';
import { normalizeAxis, numel } from '../../ir/shape.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface FloatCopyVariant {
  readonly kernel: 'fcopy';
}

export const floatCopyKernel: KernelSource<FloatCopyVariant> = gridKernel(['fcopy.wgsl'], 'main');

export interface FloatConcatPlan {
  /** One copy per input, each writing its slice of the output. */
  readonly copies: KernelPlan<FloatCopyVariant>[];
  readonly outShape: number[];
}

export function planFloatConcat(layer: ConcatLayer, shapes: readonly (readonly number[])[], maxWorkgroups: number): FloatConcatPlan {
  const where = `concat '${layer.name}'`;
  const rank = shapes[0]!.length;
  const axis = normalizeAxis(layer.axis, rank, layer.name);
  for (const s of shapes) {
    if (s.length !== rank || s.some((d, i) => i !== axis && d !== shapes[0]![i])) throw new ShapeError(`${where}: inputs [${shapes.map((x) => x.join('x')).join('], [')}] differ outside axis ${axis}`);
  }
  const outLen = shapes.reduce((a, s) => a + s[axis]!, 0);
  const outShape = shapes[0]!.map((d, i) => (i === axis ? outLen : d));
  const inner = numel(shapes[0]!.slice(axis + 1));
  const bytes = numel(outShape) * 4;
  let begin = 0;
  const copies = shapes.map((s, k): KernelPlan<FloatCopyVariant> => {
    const invocations = numel(s);
    const plan: KernelPlan<FloatCopyVariant> = {
      variant: { kernel: 'fcopy' },
      dispatch: dispatch1d(invocations, maxWorkgroups),
      uniforms: { params: { invocations, len: s[axis]!, inner, out_len: outLen, begin } },
      buffers: { x: { role: 'input', tensor: layer.inputs[k]! }, y: { role: 'output', tensor: layer.outputs[0]!, bytes } },
    };
    begin += s[axis]!;
    return plan;
  });
  return { copies, outShape };
}
