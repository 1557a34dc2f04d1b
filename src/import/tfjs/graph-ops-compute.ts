import { ModelFormatError } from '../../errors.js';
import type { AutoPad } from '../../ir/layers.js';
import type { GraphContext, GraphValue, TfNode } from './graph-context.js';
import { activationFor, constantOperand, imageInput, nhwcOnly, perChannel, tensor, type GraphConverter } from './graph-op-helpers.js';
import { convKernelToOihw, denseKernelToIr, depthwiseKernelToOihw, isImageRank } from './nhwc.js';

/** Graph-model ops that compute over windows or weights: convolutions, MatMul, pools, BatchNorm. */

/** A TF 4-vector attribute over NHWC (strides, ksize, dilations): its H and W entries. */
function spatial(ctx: GraphContext, node: TfNode, name: string): [number, number] {
  const v = node.attrs.ints(name) ?? [1, 1, 1, 1];
  if (v.length !== 4) throw new ModelFormatError(`node '${node.name}': '${name}' has ${v.length} values, expected 4`);
  if (v[0] !== 1 || v[3] !== 1) throw ctx.unsupported(node, `with ${name} [${v.join(',')}] over batch or channels is not supported`);
  return [v[1]!, v[2]!];
}

function window(ctx: GraphContext, node: TfNode): { strides: [number, number]; dilations: [number, number]; pads: [number, number, number, number]; autoPad: AutoPad } {
  nhwcOnly(ctx, node);
  const strides = spatial(ctx, node, 'strides');
  const dilations = spatial(ctx, node, 'dilations');
  const padding = node.attrs.string('padding', 'VALID');
  // TF's SAME puts the odd pixel of padding at the end, as ONNX's SAME_UPPER.
  if (padding === 'SAME') return { strides, dilations, pads: [0, 0, 0, 0], autoPad: 'SAME_UPPER' };
  if (padding === 'VALID') return { strides, dilations, pads: [0, 0, 0, 0], autoPad: 'VALID' };
  if (padding === 'EXPLICIT') {
    const p = node.attrs.ints('explicit_paddings') ?? [];
    if (p.length !== 8) throw new ModelFormatError(`node '${node.name}': explicit_paddings has ${p.length} values, expected 8`);
    // NHWC pairs (begin, end); the IR wants top, left, bottom, right.
    return { strides, dilations, pads: [p[2]!, p[4]!, p[3]!, p[5]!], autoPad: 'NOTSET' };
  }
  throw ctx.unsupported(node, `with padding ${padding} is not supported`);
}

function batchNormLayer(ctx: GraphContext, node: TfNode, x: string, first: number, epsilon: number, out: string): string {
  const names = ['scale', 'offset', 'mean', 'variance'].map((what, k) => {
    const c = perChannel(ctx, node, first + k, what);
    return ctx.b.constant(node.inputs[first + k]!, c.shape, c.data);
  });
  const rank = ctx.rank(x);
  if (rank !== 4 && rank !== 2) throw ctx.unsupported(node, `on a rank-${rank} tensor is not supported`);
  return ctx.b.emit({ name: out, op: 'batchNorm', epsilon, inputs: [x, ...names], outputs: [out] });
}

/**
 * Grappler's fused nodes (_FusedConv2D, _FusedMatMul, FusedDepthwiseConv2dNative):
 * the main op, then `fused_ops` in order, each taking its extra operands
 * from the inputs after the weight. A leading BiasAdd becomes the layer's bias.
 */
function withFusedOps(ctx: GraphContext, node: TfNode, units: number, main: (bias: string[], out: string) => string): GraphValue {
  const ops = node.attrs.strings('fused_ops') ?? [];
  let arg = 2;
  const bias: string[] = [];
  let steps = ops;
  if (ops[0] === 'BiasAdd') {
    const c = perChannel(ctx, node, arg, 'bias');
    if (c.data.length !== units) throw new ModelFormatError(`node '${node.name}': bias has ${c.data.length} values for ${units} outputs`);
    bias.push(ctx.b.constant(node.inputs[arg++]!, c.shape, c.data));
    steps = ops.slice(1);
  }
  const nameOf = (k: number): string => (k === steps.length - 1 ? node.name : `${node.name}/${k < 0 ? node.op : steps[k]}`);
  let y = main(bias, nameOf(-1));
  steps.forEach((op, k) => {
    const out = nameOf(k);
    if (op === 'FusedBatchNorm') {
      y = batchNormLayer(ctx, node, y, arg, node.attrs.float('epsilon', 1e-3), out);
      arg += 4;
      return;
    }
    if (op === 'BiasAdd' || op === 'Add') {
      const v = ctx.value(node, arg);
      const operand = v.kind === 'const' ? constantOperand(ctx, node.inputs[arg]!, v, ctx.rank(y)) : v.ir;
      arg++;
      y = ctx.b.emit({ name: out, op: 'add', inputs: [y, operand], outputs: [out] });
      return;
    }
    const fn = activationFor(op, node.attrs.float('leakyrelu_alpha', 0.2));
    if (!fn) throw ctx.unsupported(node, `with fused op ${op} is not supported`);
    y = ctx.b.activation(y, fn, out);
  });
  return tensor(y);
}

export function conv(depthwise: boolean): GraphConverter {
  return (ctx, node) => {
    const x = imageInput(ctx, node);
    const f = ctx.constant(node, 1, 'filter');
    if (f.shape.length !== 4) throw new ModelFormatError(`node '${node.name}': the filter should be 4-D, is [${f.shape.join(',')}]`);
    const w = depthwise ? depthwiseKernelToOihw(f.data, f.shape) : convKernelToOihw(f.data, f.shape);
    const channels = ctx.b.shape(x)[1];
    // A Conv2D whose filter has fewer input channels than the image is a grouped convolution.
    const group = depthwise ? f.shape[2]! : typeof channels === 'number' ? channels / f.shape[2]! : 1;
    if (!Number.isInteger(group) || group < 1) throw new ModelFormatError(`node '${node.name}': ${channels} input channels do not fit a filter [${f.shape.join(',')}]`);
    const wName = ctx.b.constant(node.inputs[1]!, w.shape, w.data);
    const win = window(ctx, node);
    return withFusedOps(ctx, node, w.shape[0]!, (bias, out) => ctx.b.emit({ name: out, op: 'conv', group, ...win, inputs: [x, wName, ...bias], outputs: [out] }));
  };
}

export const matMul: GraphConverter = (ctx, node) => {
  if (node.attrs.bool('transpose_a', false)) throw ctx.unsupported(node, 'with transpose_a is not supported');
  const x = ctx.tensor(node, 0);
  if (ctx.rank(x) !== 2) throw ctx.unsupported(node, `on a rank-${ctx.rank(x)} input is not supported (2-D only)`);
  const transB = node.attrs.bool('transpose_b', false);
  const bv = ctx.value(node, 1);
  if (bv.kind === 'tensor') {
    if (transB || node.attrs.strings('fused_ops')?.length) throw ctx.unsupported(node, 'of two run-time tensors is supported without transpose_b and fused ops only');
    return tensor(ctx.b.emit({ name: node.name, op: 'matMul', inputs: [x, bv.ir], outputs: [node.name] }));
  }
  if (bv.shape.length !== 2) throw new ModelFormatError(`node '${node.name}': the weight should be 2-D, is [${bv.shape.join(',')}]`);
  // The IR's dense weight is [units, K]: what transpose_b already holds.
  const w = transB ? { shape: bv.shape, data: bv.data } : denseKernelToIr(bv.data, bv.shape);
  const wName = ctx.b.constant(node.inputs[1]!, w.shape, w.data);
  return withFusedOps(ctx, node, w.shape[0]!, (bias, out) => ctx.b.emit({ name: out, op: 'dense', inputs: [x, wName, ...bias], outputs: [out] }));
};

/** Mean or Max over the spatial axes of an image: a global pool. */
export function reduce(op: 'globalAvgPool' | 'globalMaxPool'): GraphConverter {
  return (ctx, node) => {
    const x = ctx.tensor(node, 0);
    const rank = ctx.rank(x);
    const axes = new Set(ctx.ints(node, 1, 'axes').map((a) => (a < 0 ? a + rank : a)));
    if (!isImageRank(rank) || axes.size !== 2 || !axes.has(1) || !axes.has(2)) {
      throw ctx.unsupported(node, `over axes [${[...axes].join(',')}] of a rank-${rank} tensor is not supported (the spatial axes of an image only)`);
    }
    if (node.attrs.bool('keep_dims', false)) return tensor(ctx.b.emit({ name: node.name, op, inputs: [x], outputs: [node.name] }));
    const p = ctx.b.emit({ name: `${node.name}/keep_dims`, op, inputs: [x], outputs: [`${node.name}/keep_dims`] });
    return tensor(ctx.b.emit({ name: node.name, op: 'flatten', axis: 1, inputs: [p], outputs: [node.name] }));
  };
}

export function pool(op: 'maxPool' | 'avgPool'): GraphConverter {
  return (ctx, node) => {
    const x = imageInput(ctx, node);
    const { strides, pads, autoPad } = window(ctx, node);
    const kernel = spatial(ctx, node, 'ksize');
    // TF averages over the window's pixels inside the image only.
    return tensor(ctx.b.emit({ name: node.name, op, kernel, strides, dilations: [1, 1], pads, autoPad, ceilMode: false, countIncludePad: false, inputs: [x], outputs: [node.name] }));
  };
}

export const fusedBatchNorm: GraphConverter = (ctx, node) => {
  nhwcOnly(ctx, node);
  if (node.attrs.bool('is_training', false)) throw ctx.unsupported(node, 'in training mode is not supported');
  return tensor(batchNormLayer(ctx, node, ctx.tensor(node, 0), 1, node.attrs.float('epsilon', 1e-3), node.name));
};
