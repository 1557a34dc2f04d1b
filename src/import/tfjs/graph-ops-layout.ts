import { ModelFormatError } from '../../errors.js';
import type { Dim } from '../../ir/shape.js';
import type { GraphContext, GraphValue, TfNode } from './graph-context.js';
import { allConst, constantOperand, fold, tensor, type GraphConverter } from './graph-op-helpers.js';
import { NCHW_FROM_NHWC, irAxis, irPerm, isImageRank } from './nhwc.js';

/** Graph-model ops that move or reshape data, where TF's NHWC order has to be honoured. */

export function padOp(mode: 'constant' | 'mirror'): GraphConverter {
  return (ctx, node) => {
    const x = ctx.tensor(node, 0);
    const rank = ctx.rank(x);
    const p = ctx.ints(node, 1, 'paddings');
    if (p.length !== 2 * rank) throw new ModelFormatError(`node '${node.name}': paddings has ${p.length} values for rank ${rank}`);
    // TF lists (begin, end) per TF axis; the IR wants all begins, then all ends, per IR axis.
    const tfAxis = (i: number): number => (isImageRank(rank) ? NCHW_FROM_NHWC[i]! : i);
    const pads = [...Array.from({ length: rank }, (_, i) => p[2 * tfAxis(i)]!), ...Array.from({ length: rank }, (_, i) => p[2 * tfAxis(i) + 1]!)];
    let irMode: 'constant' | 'reflect' = 'constant';
    if (mode === 'mirror') {
      const m = node.attrs.string('mode', 'REFLECT');
      if (m !== 'REFLECT') throw ctx.unsupported(node, `with mode ${m} is not supported (REFLECT only)`);
      irMode = 'reflect';
    }
    const value = node.op === 'PadV2' ? (ctx.constant(node, 2, 'pad value').data[0] ?? 0) : 0;
    return tensor(ctx.b.emit({ name: node.name, op: 'pad', pads, mode: irMode, value, inputs: [x], outputs: [node.name] }));
  };
}

/**
 * Ops that reorder elements by TF's layout (Reshape, Squeeze, ExpandDims):
 * run them on the tensor in TF's order, then hold the result as the IR does.
 */
function inTfOrder(ctx: GraphContext, node: TfNode, x: string, outRank: number, body: (tfOrdered: string, out: string) => string): GraphValue {
  const xt = ctx.b.toTfOrder(x, node.name);
  const y = body(xt, isImageRank(outRank) ? `${node.name}/nhwc` : node.name);
  return tensor(ctx.b.fromTfOrder(y, node.name, node.name));
}

export const reshape: GraphConverter = (ctx, node) => {
  const target = ctx.ints(node, 1, 'shape');
  const v = ctx.value(node, 0);
  if (v.kind === 'const') return fold({ op: 'reshape', shape: target, allowZero: true }, [v]);
  const x = v.ir;
  const xs = ctx.b.shape(x);
  let shape: Dim[] = target;
  // [-1, ...rest] over a symbolic batch: keep the batch symbol rather than divide it out.
  const rest = target.slice(1);
  const restIn = xs.slice(1);
  if (target[0] === -1 && typeof xs[0] === 'string' && !rest.includes(-1) && restIn.every((d) => typeof d === 'number')) {
    const count = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
    if (count(rest) === count(restIn as number[])) shape = [xs[0], ...rest];
  }
  // TF never copies a dimension for a 0 in the target, unlike the IR's default.
  return inTfOrder(ctx, node, x, shape.length, (xt, out) => ctx.b.emit({ name: out, op: 'reshape', shape, allowZero: true, inputs: [xt], outputs: [out] }));
};

export const squeeze: GraphConverter = (ctx, node) => {
  const axes = node.attrs.ints('squeeze_dims') ?? node.attrs.ints('axis') ?? [];
  const v = ctx.value(node, 0);
  if (v.kind === 'const') return fold({ op: 'squeeze', axes }, [v]);
  const xs = ctx.b.shape(v.ir);
  const outRank = axes.length > 0 ? xs.length - axes.length : xs.filter((d) => d !== 1).length;
  return inTfOrder(ctx, node, v.ir, outRank, (xt, out) => ctx.b.emit({ name: out, op: 'squeeze', axes, inputs: [xt], outputs: [out] }));
};

export const expandDims: GraphConverter = (ctx, node) => {
  const axes = ctx.ints(node, 1, 'axis');
  const v = ctx.value(node, 0);
  if (v.kind === 'const') return fold({ op: 'unsqueeze', axes }, [v]);
  const outRank = ctx.rank(v.ir) + axes.length;
  return inTfOrder(ctx, node, v.ir, outRank, (xt, out) => ctx.b.emit({ name: out, op: 'unsqueeze', axes, inputs: [xt], outputs: [out] }));
};

export const concat: GraphConverter = (ctx, node) => {
  const n = node.inputs.length - 1;
  const axis = ctx.ints(node, n, 'axis')[0] ?? 0;
  const consts = allConst(ctx, node, n);
  if (consts) return fold({ op: 'concat', axis }, consts);
  const vs = node.inputs.slice(0, n).map((_, i) => ctx.value(node, i));
  const rank = Math.max(...vs.map((v) => (v.kind === 'tensor' ? ctx.rank(v.ir) : v.shape.length)));
  const inputs = vs.map((v, i) => (v.kind === 'tensor' ? v.ir : constantOperand(ctx, node.inputs[i]!, v, rank)));
  return tensor(ctx.b.emit({ name: node.name, op: 'concat', axis: irAxis(axis, rank, `node '${node.name}'`), inputs, outputs: [node.name] }));
};

export const transpose: GraphConverter = (ctx, node) => {
  const perm = ctx.ints(node, 1, 'perm');
  const v = ctx.value(node, 0);
  if (v.kind === 'const') return fold({ op: 'transpose', perm }, [v]);
  if (perm.length !== ctx.rank(v.ir)) throw new ModelFormatError(`node '${node.name}': perm [${perm.join(',')}] does not fit rank ${ctx.rank(v.ir)}`);
  return tensor(ctx.b.emit({ name: node.name, op: 'transpose', perm: irPerm(perm), inputs: [v.ir], outputs: [node.name] }));
};

export const passThrough: GraphConverter = (ctx, node) => ctx.value(node, 0);

export const cast: GraphConverter = (ctx, node) => {
  const to = node.attrs.type('DstT', 'DT_FLOAT');
  const v = ctx.value(node, 0);
  if (to === 'DT_FLOAT') return v;
  if (v.kind === 'const' && (to === 'DT_INT32' || to === 'DT_INT64')) return { kind: 'const', shape: v.shape, data: v.data.map(Math.trunc) };
  throw ctx.unsupported(node, `to ${to} is supported on constants only`);
};
