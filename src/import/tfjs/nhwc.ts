import { ModelFormatError } from '../../errors.js';
import type { Dim, Shape } from '../../ir/shape.js';

/**
 * TF.js models are channels-last (NHWC); the IR is NCHW. The importers keep
 * one rule: a rank-4 tensor of the TF model is held in the IR transposed to
 * NCHW, any other rank is held as TF has it. These helpers translate shapes,
 * axes and weights across that rule.
 */

/** IR axis i holds TF axis NCHW_FROM_NHWC[i]. */
export const NCHW_FROM_NHWC = [0, 3, 1, 2] as const;
/** TF axis i is IR axis NHWC_FROM_NCHW[i]; also the perm that turns NCHW back into NHWC. */
export const NHWC_FROM_NCHW = [0, 2, 3, 1] as const;

/** Whether a tensor of this TF rank is held transposed in the IR. */
export function isImageRank(rank: number): boolean {
  return rank === 4;
}

/** The IR shape of a tensor whose TF shape is `tf`. */
export function irShape<T extends Dim>(tf: readonly T[]): T[] {
  return isImageRank(tf.length) ? NCHW_FROM_NHWC.map((a) => tf[a]!) : [...tf];
}

/** The TF shape of a tensor held in the IR as `ir`. */
export function tfShape(ir: Shape): Dim[] {
  return isImageRank(ir.length) ? NHWC_FROM_NCHW.map((a) => ir[a]!) : [...ir];
}

/** The IR axis that holds TF axis `axis` (negative counts from the end) of a tensor of that rank. */
export function irAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ModelFormatError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return isImageRank(rank) ? NHWC_FROM_NCHW[a]! : a;
}

/** A perm of TF axes (TF Transpose) expressed on the IR tensors, for inputs and outputs of the same rank. */
export function irPerm(tfPerm: readonly number[]): number[] {
  if (!isImageRank(tfPerm.length)) return [...tfPerm];
  // out_ir[i] = out_tf[NCHW_FROM_NHWC[i]] = in_tf[tfPerm[...]] = in_ir[NHWC_FROM_NCHW[...]].
  return NCHW_FROM_NHWC.map((a) => NHWC_FROM_NCHW[tfPerm[a]!]!);
}

/** Reorder the data of a row-major tensor: output axis i is input axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { shape: number[]; data: Float32Array } {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const stride = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(perm.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < idx.length; k++) src += idx[k]! * stride[k]!;
    out[o] = data[src]!;
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** Conv kernel HWIO [kH, kW, C/group, M] to OIHW [M, C/group, kH, kW]. */
export function convKernelToOihw(data: Float32Array, hwio: readonly number[]): { shape: number[]; data: Float32Array } {
  return permute(data, hwio, [3, 2, 0, 1]);
}

/**
 * Depthwise kernel [kH, kW, C, M] (M = depth multiplier) to a grouped conv
 * weight [C*M, 1, kH, kW] with group C. TF numbers the outputs c*M + m, which
 * is the order of a grouped convolution's output channels.
 */
export function depthwiseKernelToOihw(data: Float32Array, hwcm: readonly number[]): { shape: number[]; data: Float32Array } {
  const [kh, kw, c, m] = hwcm as [number, number, number, number];
  const p = permute(data, hwcm, [2, 3, 0, 1]);
  return { shape: [c * m, 1, kh, kw], data: p.data };
}

/** Dense kernel [K, units] (TF MatMul's B) to the IR's [units, K]. */
export function denseKernelToIr(data: Float32Array, kUnits: readonly number[]): { shape: number[]; data: Float32Array } {
  return permute(data, kUnits, [1, 0]);
}

/**
 * A constant operand of a broadcasting op with a tensor of TF rank `rank`:
 * TF aligns trailing axes, so pad the constant to that rank with leading 1s
 * and then hold it as the IR holds that rank.
 */
export function broadcastConstantToIr(data: Float32Array, shape: readonly number[], rank: number): { shape: number[]; data: Float32Array } {
  if (shape.length > rank || !isImageRank(rank)) return { shape: [...shape], data };
  const full = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  return permute(data, full, NCHW_FROM_NHWC);
}

/**
 * Whether moving axes by `perm` leaves the data order unchanged (only axes of
 * size 1 move relative to the others): then a transpose is a reshape.
 */
export function isOrderPreserving(shape: Shape, perm: readonly number[]): boolean {
  const kept = perm.filter((p) => shape[p] !== 1);
  return kept.every((p, i) => i === 0 || p > kept[i - 1]!);
}
