import { activationFn } from '../../cpu/activation.js';
import { broadcastBinary } from '../../cpu/broadcast.js';
import type { Activation } from '../../ir/layers.js';
import { broadcastShapes } from '../../ir/shape.js';
import { activationFor, allConst, constantOperand, fold, tensor, type GraphConverter } from './graph-op-helpers.js';
import { irAxis, isImageRank } from './nhwc.js';

/** Graph-model elementwise ops: arithmetic with broadcasting, clamps, activations, softmax. */

/** Elementwise arithmetic with TF (numpy) broadcasting. */
export function binary(op: 'add' | 'sub' | 'mul' | 'div'): GraphConverter {
  return (ctx, node) => {
    const consts = allConst(ctx, node, 2);
    if (consts) return fold({ op }, consts);
    const vs = [ctx.value(node, 0), ctx.value(node, 1)];
    const ranks = vs.map((v) => (v.kind === 'tensor' ? ctx.rank(v.ir) : -1));
    const rank = Math.max(...ranks);
    // Two run-time tensors line up in the IR only when their ranks agree, or neither is held transposed.
    if (ranks.every((r) => r >= 0) && ranks[0] !== ranks[1] && isImageRank(rank)) {
      throw ctx.unsupported(node, `on run-time tensors of ranks ${ranks.join(' and ')} is not supported`);
    }
    // A constant of higher rank would make the result an image of TF rank 4 that the IR holds unpermuted.
    if (vs.some((v) => v.kind === 'const' && v.shape.length > rank && isImageRank(v.shape.length))) {
      throw ctx.unsupported(node, `with a constant of higher rank than its rank-${rank} tensor is not supported`);
    }
    const inputs = vs.map((v, i) => (v.kind === 'tensor' ? v.ir : constantOperand(ctx, node.inputs[i]!, v, rank)));
    return tensor(ctx.b.emit({ name: node.name, op, inputs, outputs: [node.name] }));
  };
}

export const addN: GraphConverter = (ctx, node) => {
  if (node.inputs.length === 1) return ctx.value(node, 0);
  let acc = ctx.tensor(node, 0);
  for (let i = 1; i < node.inputs.length; i++) {
    const out = i === node.inputs.length - 1 ? node.name : `${node.name}/${i}`;
    acc = ctx.b.emit({ name: out, op: 'add', inputs: [acc, ctx.tensor(node, i)], outputs: [out] });
  }
  return tensor(acc);
};

/** Maximum/Minimum with a constant bound: the clip of ReLU6 patterns written out. */
export function bound(kind: 'max' | 'min'): GraphConverter {
  return (ctx, node) => {
    const consts = allConst(ctx, node, 2);
    const pick = kind === 'max' ? Math.max : Math.min;
    if (consts) {
      const [a, b] = consts as [{ shape: number[]; data: Float32Array }, { shape: number[]; data: Float32Array }];
      const shape = broadcastShapes(a.shape, b.shape, `node '${node.name}'`) as number[];
      return { kind: 'const', shape, data: broadcastBinary(a.data, a.shape, b.data, b.shape, shape, pick) };
    }
    const [v0, v1] = [ctx.value(node, 0), ctx.value(node, 1)];
    const [x, c] = v0.kind === 'tensor' ? [v0, v1] : [v1, v0];
    const scalar = c.kind === 'const' && c.data.length > 0 && c.data.every((v) => v === c.data[0]);
    if (x.kind !== 'tensor' || c.kind !== 'const' || !scalar || c.shape.length > ctx.rank(x.ir)) {
      throw ctx.unsupported(node, 'is supported with one run-time tensor and one constant (a scalar bound) only');
    }
    const v = c.data[0]!;
    const fn: Activation = kind === 'max' ? (v === 0 ? { kind: 'relu' } : { kind: 'clip', min: v, max: Infinity }) : { kind: 'clip', min: -Infinity, max: v };
    return tensor(ctx.b.activation(x.ir, fn, node.name));
  };
}

export function activation(op: string): GraphConverter {
  return (ctx, node) => {
    const fn = activationFor(op, node.attrs.float('alpha', 0.2))!;
    const v = ctx.value(node, 0);
    if (v.kind === 'const') return { kind: 'const', shape: v.shape, data: v.data.map(activationFn(fn)) };
    return tensor(ctx.b.activation(v.ir, fn, node.name));
  };
}

/** Elementwise math that only appears on constants in the graphs TF.js runs (weight arithmetic left unfolded). */
export function constMath(f: (x: number) => number): GraphConverter {
  return (ctx, node) => {
    const c = ctx.constant(node, 0, 'operand (this op is supported on constants only)');
    return { kind: 'const', shape: c.shape, data: c.data.map(f) };
  };
}

export const softmax: GraphConverter = (ctx, node) => {
  const x = ctx.tensor(node, 0);
  return tensor(ctx.b.emit({ name: node.name, op: 'softmax', axis: irAxis(-1, ctx.rank(x), `node '${node.name}'`), coerce2d: false, inputs: [x], outputs: [node.name] }));
};
