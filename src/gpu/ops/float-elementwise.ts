/**
 * Float32 Add, Sub, Mul, Div with broadcasting, and activation layers, on the
 * GPU (shaders/fbinary.wgsl). Golden: runLayer's binary and activation cases.
 */
import { GpuUnsupportedError } from '../../errors.js';
import type { ActivationLayer, BinaryLayer } from '../../ir/layers.js';
import type { KernelSource } from '../pipeline-cache.js';
import { activationCode } from './float-activation.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';
import { broadcastShapes, numel } from '../../ir/shape.js';

export interface FloatBinaryVariant {
  readonly kernel: 'fbinary';
  readonly op: 'add' | 'sub' | 'mul' | 'div' | 'activation';
  readonly act: number;
}

const OPS = { add: 0, sub: 1, mul: 2, div: 3, activation: 4 } as const;

export const floatBinaryKernel: KernelSource<FloatBinaryVariant> = gridKernel(['activation_f32.wgsl', 'fbinary.wgsl'], 'main', (v) => ({ OP: OPS[v.op], ACT: v.act }));

export interface FloatBinaryPlan extends KernelPlan<FloatBinaryVariant> {
  readonly outShape: number[];
}

/** A shape of rank <= 4 as 4D, ones on the left. */
export function as4d(s: readonly number[]): [number, number, number, number] {
  return [...Array<number>(4 - s.length).fill(1), ...s] as [number, number, number, number];
}

export function planFloatBinary(layer: BinaryLayer | ActivationLayer, a: readonly number[], b: readonly number[] | undefined, maxWorkgroups: number): FloatBinaryPlan {
  const where = `${layer.op} '${layer.name}'`;
  const unary = layer.op === 'activation';
  const outShape = unary ? [...a] : (broadcastShapes(a, b!, where) as number[]);
  if (outShape.length > 4) throw new GpuUnsupportedError(`${where}: rank ${outShape.length}; the GPU kernels take at most 4`);
  const act = activationCode(unary ? layer.fn : layer.activation);
  const invocations = numel(outShape);
  return {
    variant: { kernel: 'fbinary', op: layer.op, act: act.act },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: {
      params: {
        invocations,
        out_shape: as4d(outShape),
        a_shape: as4d(a.length < outShape.length ? [...Array<number>(outShape.length - a.length).fill(1), ...a] : a),
        b_shape: as4d(unary ? outShape : b!.length < outShape.length ? [...Array<number>(outShape.length - b!.length).fill(1), ...b!] : b!),
        act_a: act.act_a,
        act_b: act.act_b,
      },
    },
    buffers: {
      a: { role: 'input', tensor: layer.inputs[0]! },
      b: { role: 'input', tensor: layer.inputs[unary ? 0 : 1]! },
      y: { role: 'output', tensor: layer.outputs[0]!, bytes: invocations * 4 },
    },
    outShape,
  };
}
