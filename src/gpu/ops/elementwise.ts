/**
 * Add, Sub and Mul of two integer tensors on the GPU (shaders/elementwise.wgsl),
 * with broadcasting of size-1 dimensions (equal ranks, NCHW). Golden: the
 * 'add' | 'sub' | 'mul' case of runQuantized (TFLite's scheme).
 */
import { ShapeError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QBinaryLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneOffset, packedWords, type ActShape } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { flatRuns, type BindingLimits } from './pieces.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface BinaryVariant {
  readonly kernel: 'elementwise';
  readonly op: 'add' | 'sub' | 'mul';
}

const OPS = { add: 0, sub: 1, mul: 2 } as const;

export const binaryKernel: KernelSource<BinaryVariant> = gridKernel(['requant.wgsl', 'lanes8.wgsl', 'elementwise.wgsl'], 'main', (v) => ({ OP: OPS[v.op] }));

export interface BinaryPlan extends KernelPlan<BinaryVariant> {
  readonly outShape: ActShape;
}

/** The broadcast shape of two 4D shapes (each dimension equal, or 1 on one side). */
export function broadcastShape(a: ActShape, b: ActShape, where: string): ActShape {
  const dim = (x: number, y: number): number => {
    if (x === y || y === 1) return x;
    if (x === 1) return y;
    throw new ShapeError(`${where}: shapes [${a.n}, ${a.c}, ${a.h}, ${a.w}] and [${b.n}, ${b.c}, ${b.h}, ${b.w}] do not broadcast`);
  };
  return { n: dim(a.n, b.n), c: dim(a.c, b.c), h: dim(a.h, b.h), w: dim(a.w, b.w) };
}

export function planBinary(layer: QBinaryLayer, pa: QParams, pb: QParams, po: QParams, sa: ActShape, sb: ActShape, maxWorkgroups: number): BinaryPlan {
  const out = broadcastShape(sa, sb, `${layer.kind} '${layer.name}'`);
  const words = packedWords(out);
  const [ra, rb] = layer.inputRequant;
  const ro = layer.outputRequant;
  return {
    variant: { kernel: 'elementwise', op: layer.kind },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: {
      params: {
        words, ...out,
        a_shape: [sa.n, sa.c, sa.h, sa.w],
        b_shape: [sb.n, sb.c, sb.h, sb.w],
        a_off: laneOffset(pa), a_zero_point: pa.zeroPoint,
        b_off: laneOffset(pb), b_zero_point: pb.zeroPoint,
        left_shift: layer.leftShift,
        a_m0: ra.m0[0]!, a_shift: ra.shift[0]!,
        b_m0: rb.m0[0]!, b_shift: rb.shift[0]!,
        out_m0: ro.m0[0]!, out_shift: ro.shift[0]!,
        out_zero_point: po.zeroPoint, out_lo: po.lo, out_hi: po.hi, out_off: laneOffset(po),
        first: 0, a_base: 0, b_base: 0, out_base: 0,
      },
    },
    buffers: {
      a: { role: 'input', tensor: layer.inputs[0]! },
      b: { role: 'input', tensor: layer.inputs[1]! },
      y: { role: 'output', tensor: layer.outputs[0]!, bytes: words * 4 },
    },
    outShape: out,
  };
}

/**
 * The layer in runs of output words where a tensor passes a binding
 * (pieces.ts, flatRuns): the output and each input of the output's shape
 * bound in the run's range, a broadcast input whole (the builder refuses it
 * past the limit, naming it); the whole plan where everything fits.
 */
export function binaryPieces(plan: BinaryPlan, sa: ActShape, sb: ActShape, limits: BindingLimits, maxWorkgroups: number): BinaryPlan[] {
  const out = plan.outShape;
  const full = (s: ActShape): boolean => s.n === out.n && s.c === out.c && s.h === out.h && s.w === out.w;
  const [fa, fb] = [full(sa), full(sb)];
  const bindings = ['y', ...(fa ? ['a'] : []), ...(fb ? ['b'] : [])];
  const words = packedWords(out);
  return flatRuns(words, 1, limits, bindings, (start, end) => {
    if (start === 0 && end === words) return plan;
    const params = { ...plan.uniforms['params'], words: end - start, first: start, a_base: fa ? start : 0, b_base: fb ? start : 0, out_base: start };
    return { ...plan, dispatch: dispatch1d(end - start, maxWorkgroups), uniforms: { params } };
  });
}
