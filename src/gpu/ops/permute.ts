/**
 * Data movement on the GPU: transposes and the reshapes that change the
 * packed words (shaders/permute.wgsl on integer lanes, shaders/fpermute.wgsl
 * on float32). Both are one gather through a map from output coordinates to
 * the input's flat index. Golden: the float executor's transpose, flatten
 * and reshape (a reshape keeps the element order).
 */
import { stridesOf } from '../../ir/shape.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d, packedWords } from './layout.js';
import { smallKernel, type SmallPlan } from './small-plan.js';

export interface PermuteVariant {
  readonly kernel: 'permute';
}
export interface FloatPermuteVariant {
  readonly kernel: 'fpermute';
}

export const permuteKernel: KernelSource<PermuteVariant> = smallKernel(['lanes8.wgsl', 'permute.wgsl'], 'main');
export const floatPermuteKernel: KernelSource<FloatPermuteVariant> = smallKernel(['fpermute.wgsl'], 'main');

type Vec4 = [number, number, number, number];

/** A shape of rank <= 4 padded with 1 on the right: the packed layout's view (layout.ts, actShape). */
function padRight(s: readonly number[], where: string): Vec4 {
  if (s.length > 4) throw new RangeError(`${where}: rank ${s.length}; the GPU kernels take at most 4`);
  return [...s, ...Array<number>(4 - s.length).fill(1)] as Vec4;
}

/** The map of a transpose: output axis i reads input axis perm[i]. */
export function transposeMap(inShape: readonly number[], perm: readonly number[], where: string): Vec4 {
  const st = stridesOf(padRight(inShape, where));
  const full = [...perm, ...[0, 1, 2, 3].slice(perm.length)];
  return full.map((a) => st[a]!) as Vec4;
}

/** The map of a reshape: the output's own strides (the element order is kept). */
export function reshapeMap(outShape: readonly number[], where: string): Vec4 {
  return stridesOf(padRight(outShape, where)) as Vec4;
}

export function planPermute(input: string, output: string, inShape: readonly number[], outShape: readonly number[], map: Vec4, maxWorkgroups: number): SmallPlan<PermuteVariant> {
  const where = `permute '${output}'`;
  const o = padRight(outShape, where);
  const words = packedWords({ n: o[0], c: o[1], h: o[2], w: o[3] });
  return {
    variant: { kernel: 'permute' },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { params: { words, out_shape: o, in_shape: padRight(inShape, where), map } },
    buffers: { x: { role: 'input', tensor: input }, y: { role: 'output', tensor: output, bytes: words * 4 } },
  };
}

export function planFloatPermute(input: string, output: string, outShape: readonly number[], map: Vec4, maxWorkgroups: number): SmallPlan<FloatPermuteVariant> {
  const o = padRight(outShape, `transpose '${output}'`);
  const invocations = o[0] * o[1] * o[2] * o[3];
  return {
    variant: { kernel: 'fpermute' },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: { params: { invocations, out_shape: o, map } },
    buffers: { x: { role: 'input', tensor: input }, y: { role: 'output', tensor: output, bytes: invocations * 4 } },
  };
}
