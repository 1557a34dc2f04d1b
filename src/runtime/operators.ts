/**
 * The table of GPU operators: one record per operator (contract in
 * operator.ts). Integer operators are keyed by `integerOpName` (the layer's
 * kind, or for layers that only move integers the float op they move by);
 * float operators by the float layer's op. Adding an operator is its kernel
 * file in src/gpu/ops/, its WGSL in shaders/, its golden function and one
 * record here (docs/adding-an-operator.md).
 */
import { GpuUnsupportedError } from '../errors.js';
import { intAvgPool, intGlobalAvgPool } from '../cpu/golden/int-pool.js';
import { intMatmulLayer } from '../cpu/golden/int-conv.js';
import { goldenBinary, goldenConcat, goldenDequantize, goldenLut, goldenMove, goldenQuantize } from '../cpu/golden/int-ops.js';
import { isClampActivation } from '../quant/prepare.js';
import { concatKernel, concatProblems, planConcat } from '../gpu/ops/concat.js';
import { convKernelPlan, convPieces, convProblems, igemmKernel, planConv } from '../gpu/ops/conv.js';
import { depthwiseKernel, depthwisePieces, isDepthwise, planDepthwise } from '../gpu/ops/depthwise.js';
import { binaryKernel, binaryPieces, planBinary } from '../gpu/ops/elementwise.js';
import { floatCopyKernel, planFloatConcat } from '../gpu/ops/float-concat.js';
import { floatConvKernel, planFloatConv } from '../gpu/ops/float-conv.js';
import { floatBinaryKernel, planFloatBinary } from '../gpu/ops/float-elementwise.js';
import { floatPoolKernel, planFloatPool } from '../gpu/ops/float-pool.js';
import { floatSoftmaxKernel, planFloatSoftmax } from '../gpu/ops/float-softmax.js';
import { im2colConv } from '../gpu/ops/im2col.js';
import { lutKernel, lutProblems, planLut } from '../gpu/ops/lut.js';
import { flatRuns, proportionalShares } from '../gpu/ops/pieces.js';
import { floatPermuteKernel, padMap, permuteKernel, planFloatPermute, planPermute, reshapeMap, transposeMap } from '../gpu/ops/permute.js';
import { planPool, poolKernel, poolPieces, poolProblems } from '../gpu/ops/pool.js';
import { dequantizeKernel, planDequantize, planQuantize, quantizeKernel, quantizePieces, type InputStrides } from '../gpu/ops/quantize.js';
import type { KernelSource, KernelVariant } from '../gpu/pipeline-cache.js';
import { inferLayerShapes } from '../ir/infer-shapes.js';
import type { Graph } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import { layerMacs } from '../ir/summary.js';
import { broadcastShapes, numel, stridesOf } from '../ir/shape.js';
import { actShape, laneFitProblems, laneOffset, packedWords, type ActShape } from '../quant/lanes.js';
import type { QParams } from '../quant/qparams.js';
import type { QLayer, QMoveLayer, QPoolLayer } from '../quant/quantized-graph.js';
import { step, type FloatOperator, type IntegerOperator, type OpPlan, type PlanContext, type ValidateContext } from './operator.js';
import type { TensorSpec } from './steps.js';

const kernels = (k: Record<string, KernelSource<never>>): Readonly<Record<string, KernelSource<never>>> => k;
const k = <V extends KernelVariant>(source: KernelSource<V>): KernelSource<never> => source as unknown as KernelSource<never>;

/** Bytes of a packed integer tensor of an NCHW shape (rank 2 to 4). */
export function intBytes(shape: readonly number[], where: string): number {
  return packedWords(actShape(shape, where)) * 4;
}

/** `words` words of whole positions of a packed tensor of `s`'s channels, as a shape: a flat run's (pieces.ts, flatRuns). */
function positionsOf(s: ActShape, words: number): ActShape {
  return { n: 1, c: s.c, h: 1, w: words / Math.ceil(s.c / 4) };
}

/**
 * Each layer checks the integer tensor it writes (a dequantize step, the one
 * it reads), so a tensor too wide is reported once per layer that cannot run,
 * in words that do not name it: layers with the same problem are listed together.
 */
const laneProblems = (p: QParams, what = 'its output'): string[] => laneFitProblems(p, what);

/** Problems of a tensor's rank where the graph knows it: the kernels take `min` to `max` (the packed layout: NCHW, 2 to 4). */
function rankProblems(ctx: ValidateContext, tensor: string, min = 2, max = 4): string[] {
  const r = ctx.rank(tensor);
  if (r === undefined || (r >= min && r <= max)) return [];
  return [`tensor '${tensor}' has rank ${r}; the kernel takes ${min === max ? `rank ${min}` : `ranks ${min} to ${max}`}`];
}

const abits = (ctx: { params(t: string): QParams }, t: string): string => `a${ctx.params(t).bits}`;

/** One integer output of the layer's shape. */
function intOutput(layer: QLayer, shape: readonly number[], ctx: PlanContext, bytes = intBytes(shape, ctx.where)): OpPlan['outputs'] {
  return [{ name: layer.outputs[0]!, shape, bytes }];
}

// ---- integer operators ------------------------------------------------------

const quantizeOp: IntegerOperator<Extract<QLayer, { kind: 'quantize' }>> = {
  domains: { input: 'f', output: 'i' },
  kernels: kernels({ quantize: k(quantizeKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.outputs[0]!)), ...rankProblems(ctx, layer.inputs[0]!)],
  plan(layer, [x], ctx) {
    const out = layer.outputs[0]!;
    // A transpose folded in (boundary-fusion.ts): read the input through its strides, write its output.
    const transpose = ctx.fusions.transposes.get(out);
    const perm = transpose?.layer.op === 'transpose' ? transpose.layer.perm : undefined;
    const target = transpose?.outputs[0] ?? out;
    const view = perm === undefined ? x!.shape : perm.map((axis) => x!.shape[axis]!);
    const own = stridesOf(x!.shape);
    const strides = perm?.map((axis) => own[axis]!) as InputStrides | undefined;
    const reader = ctx.fusions.im2col.get(target);
    // The copy holds each input value up to kH * kW times: where it would not fit a buffer, the plain boundary does.
    let im = reader === undefined ? undefined : im2colConv(reader, view);
    if (im !== undefined && intBytes(im.shape, ctx.where) > ctx.binding.maxBytes) im = undefined;
    const s = actShape(view, ctx.where);
    const plan = planQuantize({ real: layer.inputs[0]!, lanes: target }, ctx.params(out), s, ctx.maxWorkgroups, im?.window, strides);
    if (im !== undefined) ctx.windows.set(target, im);
    const shape = im?.shape ?? view;
    const op = ['quantize', ...(perm === undefined ? [] : ['transpose']), ...(im === undefined ? [] : [`im2col ${im.window.kH}x${im.window.kW}`])].join('+');
    // The plain boundary of a one-channel input in pieces where it passes a binding (a window or a transpose: whole).
    const plans = im === undefined && perm === undefined ? quantizePieces(plan, s, ctx.binding, ctx.maxWorkgroups) : [plan];
    return { outputs: [{ name: target, shape, bytes: intBytes(shape, ctx.where) }], steps: plans.map((p) => step(op, quantizeKernel, p, abits(ctx, out))) };
  },
  golden: (layer, [x], ctx) => goldenQuantize(x!, ctx.params(layer.outputs[0]!)),
};

const dequantizeOp: IntegerOperator<Extract<QLayer, { kind: 'dequantize' }>> = {
  domains: { input: 'i', output: 'f' },
  kernels: kernels({ dequantize: k(dequantizeKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.inputs[0]!), 'its input'), ...rankProblems(ctx, layer.inputs[0]!)],
  plan(layer, [x], ctx) {
    const plan = planDequantize({ real: layer.outputs[0]!, lanes: layer.inputs[0]! }, ctx.params(layer.inputs[0]!), actShape(x!.shape, ctx.where), ctx.maxWorkgroups);
    return { outputs: [{ name: layer.outputs[0]!, shape: x!.shape, bytes: numel(x!.shape) * 4 }], steps: [step('dequantize', dequantizeKernel, plan, abits(ctx, layer.inputs[0]!))] };
  },
  golden: (layer, [x], ctx) => goldenDequantize(x!, ctx.params(layer.inputs[0]!)),
};

type QMatmul = Extract<QLayer, { kind: 'conv' | 'dense' }>;

/** Convolutions (depthwise ones on their own kernel) and dense layers: the igemm core. */
const matmulOp: IntegerOperator<QMatmul> = {
  domains: { input: 'i', output: 'i' },
  accepts: (layer, graph) =>
    (layer.op === 'conv' || layer.op === 'dense') && graph.constants.has(layer.inputs[1]!) && (!layer.inputs[2] || graph.constants.has(layer.inputs[2])) && isClampActivation(layer.activation),
  kernels: kernels({ igemm: k(igemmKernel), depthwise: k(depthwiseKernel) }),
  validate(layer, ctx) {
    // The depthwise kernel has one dot path and no tile options: what is forced for igemm does not apply to it.
    const options = isDepthwise(layer) ? {} : ctx.options;
    const problems = convProblems(layer, ctx.params(layer.outputs[0]!), ctx.facts, options);
    if (layer.kind === 'conv') problems.push(...rankProblems(ctx, layer.inputs[0]!, 4, 4));
    return problems;
  },
  plan(layer, [x], ctx) {
    const inP = ctx.params(layer.inputs[0]!);
    const outP = ctx.params(layer.outputs[0]!);
    const [, , kh = 1, kw = 1] = layer.weightShape as [number, number, number?, number?];
    const bits = `w${layer.weightBits}a${inP.bits}`;
    const stride = layer.layer.op === 'conv' && layer.layer.strides[0]! > 1 ? `/${layer.layer.strides[0]}` : '';
    const geometry = `${kh}x${kw}${stride}`;
    const macsOf = (out: readonly number[]): number => (layerMacs(layer.layer, [x!.shape, layer.weightShape], [out]) ?? 0) * out[0]!;
    if (isDepthwise(layer)) {
      const inShape = actShape(x!.shape, ctx.where);
      const plan = planDepthwise(layer, inP, outP, inShape, ctx.maxWorkgroups);
      const shape = [plan.outShape.n, plan.outShape.c, plan.outShape.h, plan.outShape.w];
      const plans = depthwisePieces(plan, inShape, ctx.binding, ctx.maxWorkgroups);
      // Each piece its share of the MACs, by its invocations.
      const macs = proportionalShares(macsOf(shape), plans.map((p) => (p.uniforms['params'] as Readonly<Record<string, number>>)['invocations']!));
      return { outputs: intOutput(layer, shape, ctx), steps: plans.map((p, i) => step(`dwconv ${geometry}`, depthwiseKernel, p, bits, macs[i])) };
    }
    const { autotune: _autotune, im2col: _im2col, limits: _limits, ...tile } = ctx.options;
    // An im2col input (the quantize record): the layer as a 1x1 reduction over it.
    const im = ctx.windows.get(layer.inputs[0]!);
    const cp = planConv(im?.layer ?? layer, inP, outP, x!.shape, ctx.facts, tile);
    const op = layer.kind === 'conv' ? `conv ${geometry}${im === undefined ? '' : ' im2col'}` : 'dense';
    // Beyond a binding: pieces of output positions, each its share of the MACs.
    const pieces = convPieces(cp, ctx.binding, ctx.maxWorkgroups, ctx.where);
    const plans = pieces === undefined ? [convKernelPlan(cp, layer.inputs[0]!, layer.outputs[0]!)] : pieces.map((p) => convKernelPlan(cp, layer.inputs[0]!, layer.outputs[0]!, p));
    const macs = proportionalShares(macsOf(cp.outputShape), pieces?.map((p) => (p.end - p.first) * (p.cwEnd - p.cwFirst)) ?? [1]);
    const steps = plans.map((plan, i) => step(op, igemmKernel, plan, bits, macs[i]));
    return { outputs: intOutput(layer, cp.outputShape, ctx, cp.outputWords * 4), steps };
  },
  golden: (layer, [x], ctx) => intMatmulLayer(layer, x!, ctx.params(layer.inputs[0]!), ctx.params(layer.outputs[0]!)),
};

const lutOp: IntegerOperator<Extract<QLayer, { kind: 'lut' }>> = {
  domains: { input: 'i', output: 'i' },
  accepts: (layer) => layer.op === 'activation',
  kernels: kernels({ lut: k(lutKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.outputs[0]!)), ...rankProblems(ctx, layer.inputs[0]!), ...lutProblems(layer, ctx.params(layer.inputs[0]!))],
  plan(layer, [x], ctx) {
    const [inP, outP] = [ctx.params(layer.inputs[0]!), ctx.params(layer.outputs[0]!)];
    const s = actShape(x!.shape, ctx.where);
    const plans = flatRuns(packedWords(s), Math.ceil(s.c / 4), ctx.binding, ['x', 'y'], (start, end) => planLut(layer, inP, outP, start === 0 && end === packedWords(s) ? s : positionsOf(s, end - start), ctx.maxWorkgroups));
    return { outputs: intOutput(layer, x!.shape, ctx), steps: plans.map((plan) => step('lut', lutKernel, plan, abits(ctx, layer.outputs[0]!))) };
  },
  golden: (layer, [x], ctx) => goldenLut(layer, x!, ctx.params(layer.inputs[0]!)),
};

const binaryOp: IntegerOperator<Extract<QLayer, { kind: 'add' | 'sub' | 'mul' }>> = {
  domains: { input: 'i', output: 'i' },
  accepts: (layer, graph) => (layer.op === 'add' || layer.op === 'sub' || layer.op === 'mul') && !layer.inputs.some((i) => graph.constants.has(i)) && isClampActivation(layer.activation),
  kernels: kernels({ elementwise: k(binaryKernel) }),
  validate(layer, ctx) {
    const [a, b] = layer.inputs as [string, string];
    const problems = laneProblems(ctx.params(layer.outputs[0]!));
    problems.push(...rankProblems(ctx, a), ...rankProblems(ctx, b));
    const [ra, rb] = [ctx.rank(a), ctx.rank(b)];
    if (ra !== undefined && rb !== undefined && ra !== rb) problems.push(`inputs of ranks ${ra} and ${rb}; the integer kernel broadcasts equal ranks only`);
    return problems;
  },
  plan(layer, [x, y], ctx) {
    const [a, b] = layer.inputs as [string, string];
    // Validation checks the ranks where the graph knows them; shapes bound at run time are checked here.
    if (x!.shape.length !== y!.shape.length) throw new GpuUnsupportedError(`${ctx.where}: inputs of ranks ${x!.shape.length} and ${y!.shape.length}; the integer kernel broadcasts equal ranks only`);
    const [pa, pb, po] = [ctx.params(a), ctx.params(b), ctx.params(layer.outputs[0]!)];
    const [sa, sb] = [actShape(x!.shape, ctx.where), actShape(y!.shape, ctx.where)];
    const plans = binaryPieces(planBinary(layer, pa, pb, po, sa, sb, ctx.maxWorkgroups), sa, sb, ctx.binding, ctx.maxWorkgroups);
    const shape = broadcastShapes(x!.shape, y!.shape, ctx.where) as number[];
    return { outputs: intOutput(layer, shape, ctx), steps: plans.map((plan) => step(layer.kind, binaryKernel, plan, abits(ctx, layer.outputs[0]!))) };
  },
  golden: (layer, [a, b], ctx) => goldenBinary(layer, a!, b!, ctx.params(layer.inputs[0]!), ctx.params(layer.inputs[1]!), ctx.params(layer.outputs[0]!)),
};

const concatOp: IntegerOperator<Extract<QLayer, { kind: 'concat' }>> = {
  domains: { input: 'i', output: 'i' },
  kernels: kernels({ concat: k(concatKernel) }),
  validate(layer, ctx) {
    const rank = ctx.rank(layer.inputs[0]!);
    return [...layer.inputs.flatMap((t) => rankProblems(ctx, t)), ...laneProblems(ctx.params(layer.outputs[0]!)), ...(rank === undefined ? [] : concatProblems(layer, rank))];
  },
  plan(layer, xs, ctx) {
    const plan = planConcat(layer, layer.inputs.map((t) => ctx.params(t)), ctx.params(layer.outputs[0]!), xs.map((t) => actShape(t.shape, ctx.where)), xs[0]!.shape.length, ctx.maxWorkgroups);
    const shape = inferLayerShapes({ name: layer.name, op: 'concat', axis: layer.axis, inputs: [], outputs: [] }, xs.map((t) => t.shape))[0] as number[];
    return { outputs: intOutput(layer, shape, ctx), steps: [step('concat', concatKernel, plan, abits(ctx, layer.outputs[0]!))] };
  },
  golden: (layer, xs, ctx) => goldenConcat(layer, xs, layer.inputs.map((t) => ctx.params(t)), ctx.params(layer.outputs[0]!)),
};

const poolOp: IntegerOperator<QPoolLayer> = {
  keepsParams: true,
  domains: { input: 'i', output: 'i' },
  kernels: kernels({ pool: k(poolKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.outputs[0]!)), ...rankProblems(ctx, layer.inputs[0]!), ...poolProblems(layer)],
  plan(layer, [x], ctx) {
    const inShape = actShape(x!.shape, ctx.where);
    const plan = planPool(layer, ctx.params(layer.inputs[0]!), inShape, ctx.maxWorkgroups);
    const s = plan.outShape;
    const steps = poolPieces(plan, inShape, ctx.binding, ctx.maxWorkgroups).map((p) => step(layer.kind, poolKernel, p, abits(ctx, layer.outputs[0]!)));
    return { outputs: intOutput(layer, x!.shape.length === 4 ? [s.n, s.c, s.h, s.w] : x!.shape, ctx), steps };
  },
  golden(layer, [x], ctx) {
    const o = ctx.params(layer.outputs[0]!);
    if (layer.kind === 'avgPool') return intAvgPool(x!, layer.layer as Extract<Layer, { op: 'avgPool' }>, o.zeroPoint);
    if (layer.kind === 'globalAvgPool') return intGlobalAvgPool(x!, o.zeroPoint);
    return goldenMove(layer, x!, ctx.bindings);
  },
};

/** Layers that keep the element order: the output shares the input's words where the packed layout is the same, else one gather. */
const reshapeOp: IntegerOperator<QMoveLayer> = {
  keepsParams: true,
  domains: { input: 'i', output: 'i' },
  kernels: kernels({ permute: k(permuteKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.outputs[0]!)), ...rankProblems(ctx, layer.inputs[0]!), ...rankProblems(ctx, layer.outputs[0]!)],
  plan(layer, [x], ctx) {
    const shape = (inferLayerShapes(layer.layer, [x!.shape], ctx.bindings) as number[][])[0]!;
    const a = actShape(x!.shape, ctx.where);
    const o = actShape(shape, ctx.where);
    if (a.n === o.n && a.c === o.c && a.h === o.h && a.w === o.w) return { outputs: [{ name: layer.outputs[0]!, shape, bytes: x!.bytes, alias: true }], steps: [] };
    const plan = planPermute(layer.inputs[0]!, layer.outputs[0]!, x!.shape, shape, reshapeMap(shape, ctx.where), ctx.maxWorkgroups);
    return { outputs: intOutput(layer, shape, ctx), steps: [step(layer.layer.op, permuteKernel, plan, abits(ctx, layer.outputs[0]!))] };
  },
  golden: (layer, [x], ctx) => goldenMove(layer, x!, ctx.bindings),
};

const transposeOp: IntegerOperator<QMoveLayer> = {
  keepsParams: true,
  domains: { input: 'i', output: 'i' },
  kernels: kernels({ permute: k(permuteKernel) }),
  validate: (layer, ctx) => [...laneProblems(ctx.params(layer.outputs[0]!)), ...rankProblems(ctx, layer.inputs[0]!)],
  plan(layer, [x], ctx) {
    const perm = layer.layer.op === 'transpose' ? layer.layer.perm : [];
    const shape = (inferLayerShapes(layer.layer, [x!.shape], ctx.bindings) as number[][])[0]!;
    const plan = planPermute(layer.inputs[0]!, layer.outputs[0]!, x!.shape, shape, transposeMap(x!.shape, perm, ctx.where), ctx.maxWorkgroups);
    return { outputs: intOutput(layer, shape, ctx), steps: [step('transpose', permuteKernel, plan, abits(ctx, layer.outputs[0]!))] };
  },
  golden: (layer, [x], ctx) => goldenMove(layer, x!, ctx.bindings),
};

/** Constant padding (or cropping, with negative pads): the gather of permute.wgsl with an offset window and a fill code. */
const padOp: IntegerOperator<QMoveLayer> = {
  keepsParams: true,
  domains: { input: 'i', output: 'i' },
  accepts: (layer) => layer.op === 'pad' && layer.mode === 'constant',
  kernels: kernels({ permute: k(permuteKernel) }),
  validate(layer, ctx) {
    const p = ctx.params(layer.outputs[0]!);
    const v = layer.padValue;
    const fill = v !== undefined && Number.isInteger(v) && v >= p.lo && v <= p.hi ? [] : [`pad value code ${v} is not a code of the output [${p.lo}, ${p.hi}]`];
    return [...laneProblems(p), ...rankProblems(ctx, layer.inputs[0]!), ...fill];
  },
  plan(layer, [x], ctx) {
    const pads = layer.layer.op === 'pad' ? layer.layer.pads : [];
    const shape = (inferLayerShapes(layer.layer, [x!.shape], ctx.bindings) as number[][])[0]!;
    const p = ctx.params(layer.outputs[0]!);
    const map = padMap(x!.shape, pads, ctx.where);
    const plan = planPermute(layer.inputs[0]!, layer.outputs[0]!, x!.shape, shape, map.strides, ctx.maxWorkgroups, { begin: map.begin, fill: layer.padValue! - laneOffset(p) });
    return { outputs: intOutput(layer, shape, ctx), steps: [step('pad', permuteKernel, plan, abits(ctx, layer.outputs[0]!))] };
  },
  golden: (layer, [x], ctx) => goldenMove(layer, x!, ctx.bindings),
};

/** Nearest resize: the golden model runs it on codes; the GPU has no kernel for it yet. */
const resizeOp: IntegerOperator<QMoveLayer> = {
  keepsParams: true,
  domains: { input: 'i', output: 'i' },
  kernels: kernels({}),
  validate: () => [],
  golden: (layer, [x], ctx) => goldenMove(layer, x!, ctx.bindings),
};

export const INTEGER_OPERATORS = {
  quantize: quantizeOp,
  dequantize: dequantizeOp,
  conv: matmulOp,
  dense: matmulOp,
  lut: lutOp,
  add: binaryOp,
  sub: binaryOp,
  mul: binaryOp,
  concat: concatOp,
  maxPool: poolOp,
  avgPool: poolOp,
  globalAvgPool: poolOp,
  globalMaxPool: poolOp,
  identity: reshapeOp,
  flatten: reshapeOp,
  reshape: reshapeOp,
  squeeze: reshapeOp,
  unsqueeze: reshapeOp,
  transpose: transposeOp,
  pad: padOp,
  resize: resizeOp,
} as const satisfies Record<string, IntegerOperator<never>>;

export type IntegerOpName = keyof typeof INTEGER_OPERATORS;

/** The operator of an integer layer: its kind, or the float op of a layer that only moves integers. */
export function integerOpName(layer: Exclude<QLayer, { kind: 'float' }>): string {
  return layer.kind === 'move' ? layer.layer.op : layer.kind;
}

/** The record of an operator name, where the table has one. */
function byName(name: string): IntegerOperator | undefined {
  return Object.hasOwn(INTEGER_OPERATORS, name) ? (INTEGER_OPERATORS[name as IntegerOpName] as unknown as IntegerOperator) : undefined;
}

export function integerOperator(layer: Exclude<QLayer, { kind: 'float' }>): IntegerOperator | undefined {
  return byName(integerOpName(layer));
}

/** The integer operator a float layer would become (activations become lookup tables), where it has one and accepts the layer. */
export function integerFormOf(layer: Layer, graph: Graph): IntegerOperator | undefined {
  const name = layer.op === 'activation' ? 'lut' : layer.op;
  // Quantize and dequantize steps are the quantizer's own, never a float layer's form.
  const op = (name as string) === 'quantize' || (name as string) === 'dequantize' ? undefined : byName(name);
  return op !== undefined && (op.accepts === undefined || op.accepts(layer, graph)) ? op : undefined;
}

// ---- float operators --------------------------------------------------------

function floatStep(layer: Layer, kernel: KernelSource<never>, plan: Parameters<typeof step>[2], macs = 0): ReturnType<typeof step> {
  return step(layer.op, kernel, plan, 'f32', macs);
}

const floatOut = (layer: Layer, shape: readonly number[]): OpPlan['outputs'] => [{ name: layer.outputs[0]!, shape, bytes: numel(shape) * 4 }];

/** Layers that only rename or reshape: their output is their input's words. */
const floatAlias: FloatOperator = {
  kernels: kernels({}),
  validate: () => [],
  plan: (layer, [x], ctx) => {
    const shape = (inferLayerShapes(layer, [x!.shape], ctx.bindings) as number[][])[0]!;
    return { outputs: [{ name: layer.outputs[0]!, shape, bytes: x!.bytes, alias: true }], steps: [] };
  },
};

const floatConv: FloatOperator = {
  kernels: kernels({ fconv: k(floatConvKernel) }),
  validate(layer, ctx) {
    const constant = layer.inputs.slice(1).every((n) => ctx.constant(n) !== undefined);
    return [...(constant ? [] : ['weights or bias computed at run time; the GPU kernels take constant ones']), ...(layer.op === 'conv' ? rankProblems(ctx, layer.inputs[0]!, 4, 4) : [])];
  },
  plan(layer, [x], ctx) {
    const c = layer as Extract<Layer, { op: 'conv' | 'dense' }>;
    const w = ctx.constant(c.inputs[1]!);
    const b = c.inputs[2] !== undefined ? ctx.constant(c.inputs[2]) : undefined;
    if (w === undefined || (c.inputs[2] !== undefined && b === undefined)) throw new GpuUnsupportedError(`${ctx.where}: weights or bias computed at run time; the GPU kernels take constant ones`);
    const plan = planFloatConv(c, x!.shape, w, b, ctx.maxWorkgroups);
    const macs = numel(plan.outShape) * (w.data.length / w.shape[0]!);
    return { outputs: floatOut(layer, plan.outShape), steps: [floatStep(layer, k(floatConvKernel), plan, macs)] };
  },
};

const floatBinary: FloatOperator = {
  kernels: kernels({ fbinary: k(floatBinaryKernel) }),
  validate: (layer, ctx) => [...rankProblems(ctx, layer.outputs[0]!, 0, 4)],
  plan(layer, xs, ctx) {
    const l = layer as Parameters<typeof planFloatBinary>[0];
    const unary = layer.op === 'activation';
    const [a, b] = [xs[0]!.shape, unary ? undefined : xs[1]!.shape];
    const whole = planFloatBinary(l, a, b, ctx.maxWorkgroups);
    // An activation, or inputs of one shape: element i reads element i, in flat runs where they pass a binding.
    const flat = b === undefined || (b.length === a.length && b.every((d, i) => d === a[i]));
    const count = numel(whole.outShape);
    const plans = flat ? flatRuns(count, 1, ctx.binding, ['a', 'b', 'y'], (start, end) => (start === 0 && end === count ? whole : planFloatBinary(l, [end - start], b === undefined ? undefined : [end - start], ctx.maxWorkgroups))) : [whole];
    return { outputs: floatOut(layer, whole.outShape), steps: plans.map((plan) => floatStep(layer, k(floatBinaryKernel), plan)) };
  },
};

const floatPool: FloatOperator = {
  kernels: kernels({ fpool: k(floatPoolKernel) }),
  validate: (layer, ctx) => rankProblems(ctx, layer.inputs[0]!, 4, 4),
  plan(layer, [x], ctx) {
    const plan = planFloatPool(layer as Parameters<typeof planFloatPool>[0], x!.shape, ctx.maxWorkgroups);
    return { outputs: floatOut(layer, plan.outShape), steps: [floatStep(layer, k(floatPoolKernel), plan)] };
  },
};

const floatConcat: FloatOperator = {
  kernels: kernels({ fcopy: k(floatCopyKernel) }),
  validate: () => [],
  plan(layer, xs, ctx) {
    const plan = planFloatConcat(layer as Parameters<typeof planFloatConcat>[0], xs.map((t) => t.shape), ctx.maxWorkgroups);
    return { outputs: floatOut(layer, plan.outShape), steps: plan.copies.map((c) => floatStep(layer, k(floatCopyKernel), c)) };
  },
};

const floatTranspose: FloatOperator = {
  kernels: kernels({ fpermute: k(floatPermuteKernel) }),
  validate: (layer, ctx) => rankProblems(ctx, layer.inputs[0]!, 0, 4),
  plan(layer, [x], ctx) {
    const shape = (inferLayerShapes(layer, [x!.shape], ctx.bindings) as number[][])[0]!;
    const perm = layer.op === 'transpose' ? layer.perm : [];
    const plan = planFloatPermute(layer.inputs[0]!, layer.outputs[0]!, shape, transposeMap(x!.shape, perm, ctx.where), ctx.maxWorkgroups);
    return { outputs: floatOut(layer, shape), steps: [floatStep(layer, k(floatPermuteKernel), plan)] };
  },
};

const floatSoftmax: FloatOperator = {
  kernels: kernels({ fsoftmax: k(floatSoftmaxKernel) }),
  validate: () => [],
  plan(layer, [x], ctx) {
    const plan = planFloatSoftmax(layer as Parameters<typeof planFloatSoftmax>[0], x!.shape, ctx.maxWorkgroups);
    return { outputs: floatOut(layer, plan.outShape), steps: [floatStep(layer, k(floatSoftmaxKernel), plan)] };
  },
};

export const FLOAT_OPERATORS: Readonly<Partial<Record<Layer['op'], FloatOperator>>> = {
  identity: floatAlias,
  flatten: floatAlias,
  reshape: floatAlias,
  squeeze: floatAlias,
  unsqueeze: floatAlias,
  conv: floatConv,
  dense: floatConv,
  add: floatBinary,
  sub: floatBinary,
  mul: floatBinary,
  div: floatBinary,
  activation: floatBinary,
  maxPool: floatPool,
  avgPool: floatPool,
  globalAvgPool: floatPool,
  globalMaxPool: floatPool,
  concat: floatConcat,
  transpose: floatTranspose,
  softmax: floatSoftmax,
};

/** Every kernel of the table by its variant's `kernel` name: what the GPU test harness runs a plan through. */
export function kernelByName(name: string): KernelSource<never> | undefined {
  for (const op of [...Object.values(INTEGER_OPERATORS), ...Object.values(FLOAT_OPERATORS)]) {
    const source = (op as { kernels: Readonly<Record<string, KernelSource<never>>> }).kernels[name];
    if (source !== undefined) return source;
  }
  return undefined;
}

export type { TensorSpec };
