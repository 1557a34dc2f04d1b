import { ModelFormatError } from '../../errors.js';
import { runLayer } from '../../cpu/run-layer.js';
import type { Activation, Layer } from '../../ir/layers.js';
import type { GraphContext, GraphValue, TfNode } from './graph-context.js';
import { broadcastConstantToIr, isImageRank } from './nhwc.js';

/** Pieces shared by the graph-model op converters. */

/** Convert one TF node; most ops make one tensor, IdentityN makes several. */
export type GraphConverter = (ctx: GraphContext, node: TfNode) => GraphValue | GraphValue[];

export const tensor = (ir: string): GraphValue => ({ kind: 'tensor', ir });

/** A layer without its wiring (distributes over the union, so each op keeps its own fields). */
type Unwired<T> = T extends unknown ? Omit<T, 'name' | 'inputs' | 'outputs'> : never;

export type LayerBody = Unwired<Layer>;

/** Evaluate, at import time, a layer whose inputs are all constants (TF layout in, TF layout out). */
export function fold(body: LayerBody, consts: ReadonlyArray<{ shape: number[]; data: Float32Array }>): GraphValue {
  const layer = { ...body, name: 'fold', inputs: consts.map((_, i) => `c${i}`), outputs: ['y'] } as Layer;
  const [y] = runLayer(layer, consts);
  return { kind: 'const', shape: y!.shape, data: y!.data };
}

export function allConst(ctx: GraphContext, node: TfNode, n = node.inputs.length): Array<{ shape: number[]; data: Float32Array }> | undefined {
  const vs = node.inputs.slice(0, n).map((_, i) => ctx.value(node, i));
  return vs.every((v) => v.kind === 'const') ? (vs as Array<{ shape: number[]; data: Float32Array }>) : undefined;
}

export function nhwcOnly(ctx: GraphContext, node: TfNode): void {
  const f = node.attrs.string('data_format', 'NHWC');
  if (f !== 'NHWC') throw ctx.unsupported(node, `with data_format ${f} is not supported (NHWC only)`);
}

export function imageInput(ctx: GraphContext, node: TfNode): string {
  const x = ctx.tensor(node, 0);
  if (!isImageRank(ctx.rank(x))) throw ctx.unsupported(node, `needs a 4-D (NHWC) input, got rank ${ctx.rank(x)}`);
  return x;
}

/** TF activation ops (standalone, or named in fused_ops) as IR activations. */
export function activationFor(op: string, alpha: number): Activation | undefined {
  switch (op) {
    case 'Relu':
      return { kind: 'relu' };
    case 'Relu6':
      return { kind: 'clip', min: 0, max: 6 };
    case 'Sigmoid':
      return { kind: 'sigmoid' };
    case 'LeakyRelu':
      return { kind: 'leakyRelu', alpha };
    default:
      return undefined;
  }
}

export function perChannel(ctx: GraphContext, node: TfNode, i: number, what: string): { shape: number[]; data: Float32Array } {
  const c = ctx.constant(node, i, what);
  if (c.shape.length !== 1) throw new ModelFormatError(`node '${node.name}': the ${what} should be 1-D, is [${c.shape.join(',')}]`);
  return c;
}

/** A constant operand of a broadcasting op on a tensor of TF rank `rank`, as an IR constant. */
export function constantOperand(ctx: GraphContext, name: string, c: { shape: number[]; data: Float32Array }, rank: number): string {
  const ir = broadcastConstantToIr(c.data, c.shape, rank);
  return ctx.b.constant(name, ir.shape, ir.data);
}
