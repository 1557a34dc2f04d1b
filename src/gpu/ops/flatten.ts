/**
 * Flatten of packed integer lanes on the GPU (shaders/flatten.wgsl): NHWC
 * words of [N, C, H, W] to the words of [N, C*H*W] in ONNX's element order.
 * Where H = W = 1 the two layouts are the same words and no kernel runs
 * (src/runtime decides that); golden: the float executor's flatten.
 */
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d, type ActShape } from './layout.js';
import { smallKernel, type SmallPlan } from './small-plan.js';

export interface FlattenVariant {
  readonly kernel: 'flatten';
}

export const flattenKernel: KernelSource<FlattenVariant> = smallKernel(['lanes8.wgsl', 'flatten.wgsl'], 'main');

export function planFlatten(input: string, output: string, s: ActShape, maxWorkgroups: number): SmallPlan<FlattenVariant> {
  const words = s.n * Math.ceil((s.c * s.h * s.w) / 4);
  return {
    variant: { kernel: 'flatten' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { params: { words, c: s.c, hw: s.h * s.w } },
    buffers: { x: { role: 'input', tensor: input }, y: { role: 'output', tensor: output, bytes: words * 4 } },
  };
}
