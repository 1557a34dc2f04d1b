/**
 * Data movement on the GPU: transposes, the reshapes that change the packed
 * words, and constant pads (shaders/permute.wgsl on integer lanes,
 * shaders/fpermute.wgsl on float32). All are one gather through a map from
 * output coordinates to the input's flat index; a pad shifts the coordinates
 * by its begins and fills those outside the input. Golden: the float
 * executor's transpose, flatten, reshape and pad, run on the codes.
 */
import { GpuUnsupportedError } from '../../errors.js';
import { stridesOf } from '../../ir/shape.js';
import type { KernelSource } from '../pipeline-cache.js';
import { packedWords } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface PermuteVariant {
  readonly kernel: 'permute';
}
export interface FloatPermuteVariant {
  readonly kernel: 'fpermute';
}

export const permuteKernel: KernelSource<PermuteVariant> = gridKernel(['lanes8.wgsl', 'permute.wgsl'], 'main');
export const floatPermuteKernel: KernelSource<FloatPermuteVariant> = gridKernel(['fpermute.wgsl'], 'main');

type Vec4 = [number, number, number, number];

/** A shape of rank <= 4 padded with 1 on the right: the packed layout's view (src/quant/lanes.ts, actShape). */
function padRight(s: readonly number[], where: string): Vec4 {
  if (s.length > 4) throw new GpuUnsupportedError(`${where}: rank ${s.length}; the GPU kernels take at most 4`);
  return [...s, ...Array<number>(4 - s.length).fill(1)] as Vec4;
}

/** The map of a transpose: output axis i reads input axis perm[i] (ONNX: no perm reverses the axes). */
export function transposeMap(inShape: readonly number[], perm: readonly number[], where: string): Vec4 {
  const st = stridesOf(padRight(inShape, where));
  const order = perm.length === 0 ? inShape.map((_, i) => inShape.length - 1 - i) : perm;
  const full = [...order, ...[0, 1, 2, 3].slice(order.length)];
  return full.map((a) => st[a]!) as Vec4;
}

/** The map of a reshape: the output's own strides (the element order is kept). */
export function reshapeMap(outShape: readonly number[], where: string): Vec4 {
  return stridesOf(padRight(outShape, where)) as Vec4;
}

/**
 * The window of a pad (ONNX layout: every axis's begin, then every end;
 * negative values crop): output coordinate o reads input coordinate
 * o - begin through the input's own strides, and a coordinate outside the
 * input reads the fill code.
 */
export function padMap(inShape: readonly number[], pads: readonly number[], where: string): { strides: Vec4; begin: Vec4 } {
  const rank = inShape.length;
  const begin = [0, 1, 2, 3].map((axis) => (axis < rank ? pads[axis]! : 0)) as Vec4;
  return { strides: stridesOf(padRight(inShape, where)) as Vec4, begin };
}

/** A gather that can leave the input (a pad): output coordinates are shifted by `begin` first, and those outside the input read `fill` (a lane value, q - off). */
export interface PermuteWindow {
  readonly begin: Vec4;
  readonly fill: number;
}

/**
 * One gather of packed lanes: a transpose or reshape (`map` from output
 * coordinates to the input's flat index), or with `window` a pad.
 */
export function planPermute(input: string, output: string, inShape: readonly number[], outShape: readonly number[], map: Vec4, maxWorkgroups: number, window?: PermuteWindow): KernelPlan<PermuteVariant> {
  const where = `permute '${output}'`;
  const o = padRight(outShape, where);
  const i = padRight(inShape, where);
  const words = packedWords({ n: o[0], c: o[1], h: o[2], w: o[3] });
  return {
    variant: { kernel: 'permute' },
    dispatch: dispatch1d(words, maxWorkgroups),
    // Without a window every output coordinate is inside: its source extent is the output's own.
    uniforms: { params: { words, out_shape: o, in_shape: i, map, begin: window?.begin ?? [0, 0, 0, 0], extent: window === undefined ? o : i, fill: window?.fill ?? 0 } },
    buffers: { x: { role: 'input', tensor: input }, y: { role: 'output', tensor: output, bytes: words * 4 } },
  };
}

export function planFloatPermute(input: string, output: string, outShape: readonly number[], map: Vec4, maxWorkgroups: number): KernelPlan<FloatPermuteVariant> {
  const o = padRight(outShape, `transpose '${output}'`);
  const invocations = o[0] * o[1] * o[2] * o[3];
  return {
    variant: { kernel: 'fpermute' },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: { params: { invocations, out_shape: o, map } },
    buffers: { x: { role: 'input', tensor: input }, y: { role: 'output', tensor: output, bytes: invocations * 4 } },
  };
}
