/** Float32 Softmax on the GPU (shaders/fsoftmax.wgsl). Golden: runLayer's softmax case. */
import type { SoftmaxLayer } from '../../ir/layers.js';
import { normalizeAxis, numel } from '../../ir/shape.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface FloatSoftmaxVariant {
  readonly kernel: 'fsoftmax';
}

export const floatSoftmaxKernel: KernelSource<FloatSoftmaxVariant> = gridKernel(['fsoftmax.wgsl'], 'main');

export function planFloatSoftmax(layer: SoftmaxLayer, x: readonly number[], maxWorkgroups: number): KernelPlan<FloatSoftmaxVariant> & { outShape: number[] } {
  const axis = normalizeAxis(layer.axis, x.length, layer.name);
  const outer = numel(x.slice(0, axis));
  const [len, inner] = layer.coerce2d ? [numel(x.slice(axis)), 1] : [x[axis]!, numel(x.slice(axis + 1))];
  const invocations = outer * inner;
  return {
    variant: { kernel: 'fsoftmax' },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: { params: { invocations, len, inner } },
    buffers: { x: { role: 'input', tensor: layer.inputs[0]! }, y: { role: 'output', tensor: layer.outputs[0]!, bytes: numel(x) * 4 } },
    outShape: [...x],
  };
}
