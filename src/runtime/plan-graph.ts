/**
 * From a graph (float) or a quantized graph, and the concrete shapes of its
 * inputs, the command graph: every tensor with its shape and size, every
 * step with its kernel variant, dispatch, uniforms and constant data. Pure:
 * no GPU objects, so it is tested without a device, and a session builds it
 * once per input shape.
 */
import { GpuUnsupportedError, ResourceLimitError, ShapeError } from '../errors.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import { concatKernel, planConcat } from '../gpu/ops/concat.js';
import { convSmallPlan, igemmKernel, planConv, type ConvPlanOptions } from '../gpu/ops/conv.js';
import { depthwiseKernel, isDepthwise, planDepthwise } from '../gpu/ops/depthwise.js';
import { binaryKernel, planBinary } from '../gpu/ops/elementwise.js';
import { permuteKernel, planPermute, reshapeMap, transposeMap } from '../gpu/ops/permute.js';
import { actShape, packedWords, type ActShape } from '../gpu/ops/layout.js';
import { lutKernel, planLut } from '../gpu/ops/lut.js';
import { planPool, poolKernel } from '../gpu/ops/pool.js';
import { im2colConv, type Im2colConv } from '../gpu/ops/im2col.js';
import { boundaryFusions, type BoundaryFusions } from './boundary-fusion.js';
import { dequantizeKernel, planDequantize, planQuantize, quantizeKernel, type InputStrides } from '../gpu/ops/quantize.js';
import type { SmallPlan } from '../gpu/ops/small-plan.js';
import type { KernelSource, KernelVariant } from '../gpu/pipeline-cache.js';
import type { Constant, Graph, TensorInfo } from '../ir/graph.js';
import { bindInputShapes } from '../ir/bind-input-shapes.js';
import { inferLayerShapes } from '../ir/infer-shapes.js';
import type { ConvLayer } from '../ir/layers.js';
import type { QParams } from '../quant/qparams.js';
import type { QLayer, QuantizedGraph } from '../quant/quantized-graph.js';
import { planFloatLayer } from './plan-float-layer.js';
import { keyed, tensorKey, type CommandGraph, type Domain, type GraphIo, type Step, type TensorSpec } from './steps.js';
import { broadcastShapes, numel, stridesOf } from '../ir/shape.js';

/** The igemm variant fields (ConvPlanOptions: dot path, tile, core, workgroup fitting), forced or left to the adapter's measured best. */
export interface PlanOptions extends ConvPlanOptions {
  /** Time the igemm variants on the adapter to choose the unforced fields (default true; false takes the planner's defaults). */
  readonly autotune?: boolean;
  /**
   * Quantize the input of a convolution with fewer than 4 input channels (the
   * network's first, typically) straight into its windows and run it as a 1x1
   * reduction (src/gpu/ops/im2col.ts), where that quantized input has no other
   * reader and the copy fits a buffer; default true.
   */
  readonly im2col?: boolean;
}

export type PlanFacts = Pick<AdapterFacts, 'dot4I8Packed' | 'limits'>;


/** Collects tensors and steps; shared by the float and the quantized planners. */
class Builder {
  readonly steps: Step[] = [];
  readonly tensors = new Map<string, TensorSpec>();
  constructor(
    readonly facts: PlanFacts,
    readonly constants: ReadonlyMap<string, Constant>,
    readonly bindings: ReadonlyMap<string, number>,
  ) {}

  get maxWorkgroups(): number {
    return this.facts.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  }

  /** The largest tensor the adapter binds. */
  get maxTensorBytes(): number {
    return Math.min(this.facts.limits.maxStorageBufferBindingSize ?? 134217728, this.facts.limits.maxBufferSize ?? 268435456);
  }

  define(spec: TensorSpec): void {
    const limit = this.maxTensorBytes;
    if (spec.aliasOf === undefined && spec.bytes > limit) {
      const which = (this.facts.limits.maxStorageBufferBindingSize ?? Infinity) <= (this.facts.limits.maxBufferSize ?? Infinity) ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      throw new ResourceLimitError(`tensor '${spec.key.slice(2)}' [${spec.shape.join(', ')}] needs ${spec.bytes} bytes, above the adapter's ${which} of ${limit} (use a smaller batch)`, which);
    }
    this.tensors.set(spec.key, spec);
  }

  /** The spec of a tensor key; a float constant read as a tensor is defined on first use. */
  tensor(key: string, where: string): TensorSpec {
    const t = this.tensors.get(key);
    if (t !== undefined) return t;
    const c = key.startsWith('f:') ? this.constants.get(key.slice(2)) : undefined;
    if (c !== undefined) {
      const spec: TensorSpec = { key, shape: c.shape, bytes: Math.max(4, c.data.length * 4), constant: c.data };
      this.define(spec);
      return spec;
    }
    throw new ShapeError(`${where}: tensor '${key.slice(2)}' (${key.startsWith('f:') ? 'float' : 'integer'}) has no producer`);
  }

  add<V extends KernelVariant>(layer: string, op: string, kernel: KernelSource<V>, plan: SmallPlan<V>, macs: number, bits: string): void {
    for (const [name, role] of Object.entries(plan.buffers)) {
      const data = role.role === 'constant' ? role.data : undefined;
      const limit = this.facts.limits.maxStorageBufferBindingSize ?? 134217728;
      if (data !== undefined && data.byteLength > limit) {
        throw new ResourceLimitError(`layer '${layer}': its ${name} need ${data.byteLength} bytes, above the adapter's maxStorageBufferBindingSize of ${limit}`, 'maxStorageBufferBindingSize');
      }
    }
    this.steps.push({ layer, op, kernel: kernel as unknown as KernelSource<KernelVariant>, plan, macs, bits });
  }
}

/** Planner errors (RangeError from the op planners) as typed errors naming the layer. */
function typed<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    if (/maxComputeWorkgroupsPerDimension|workgroups/.test(e.message)) throw new ResourceLimitError(`${where}: ${e.message}`, 'maxComputeWorkgroupsPerDimension');
    throw new GpuUnsupportedError(`${where}: ${e.message}`);
  }
}

/** The inputs with their concrete shapes, and the value of each symbolic dimension (e.g. N = the batch). */
function bindInputs(declared: readonly TensorInfo[], shapes: Readonly<Record<string, readonly number[]>>): { inputs: GraphIo[]; bindings: Map<string, number> } {
  const bindings = bindInputShapes(declared, shapes);
  // The CPU executors take empty tensors (ONNX's tests have some); a GPU buffer cannot be empty.
  for (const { name } of declared) if (numel(shapes[name]!) === 0) throw new ShapeError(`input '${name}': shape [${shapes[name]!.join(', ')}] has no elements; the GPU runtime needs at least one`);
  return { inputs: declared.map(({ name }) => ({ name, key: tensorKey('f', name), shape: shapes[name]! })), bindings };
}

/** The command graph of a float graph, all in float32. */
export function planFloatGraph(graph: Graph, inputShapes: Readonly<Record<string, readonly number[]>>, facts: PlanFacts): CommandGraph {
  const { inputs, bindings } = bindInputs(graph.inputs, inputShapes);
  const b = new Builder(facts, graph.constants, bindings);
  for (const io of inputs) b.define({ key: io.key, shape: io.shape, bytes: numel(io.shape) * 4 });
  for (const layer of graph.layers) {
    const shapes = layer.inputs.map((name) => b.tensor(tensorKey('f', name), `layer '${layer.name}'`).shape);
    planFloatInto(b, layer, shapes);
  }
  const outputs = graph.outputs.map((o) => ({ name: o.name, key: tensorKey('f', o.name), shape: b.tensor(tensorKey('f', o.name), 'outputs').shape }));
  return { steps: b.steps, tensors: b.tensors, inputs, outputs };
}

function planFloatInto(b: Builder, layer: Graph['layers'][number], shapes: readonly (readonly number[])[]): void {
  const where = `layer '${layer.name}' (${layer.op})`;
  const p = typed(where, () => planFloatLayer(layer, shapes, (n) => b.constants.get(n), b.maxWorkgroups, b.bindings));
  const out = tensorKey('f', layer.outputs[0]!);
  if (p.alias) {
    const root = b.tensor(tensorKey('f', layer.inputs[0]!), where);
    b.define({ key: out, shape: p.outShape, bytes: root.bytes, aliasOf: root.aliasOf ?? root.key });
  } else {
    b.define({ key: out, shape: p.outShape, bytes: numel(p.outShape) * 4 });
    for (const s of p.steps) b.add(s.layer, s.op, s.kernel, s.plan, s.macs, s.bits);
  }
}

/** The command graph of a quantized graph: integer layers on packed lanes, float islands in float32. */
export function planQuantizedGraph(qg: QuantizedGraph, inputShapes: Readonly<Record<string, readonly number[]>>, facts: PlanFacts, options: PlanOptions = {}): CommandGraph {
  const { inputs, bindings } = bindInputs(qg.inputs, inputShapes);
  const b = new Builder(facts, qg.constants, bindings);
  for (const io of inputs) b.define({ key: io.key, shape: io.shape, bytes: numel(io.shape) * 4 });
  const P = (name: string): QParams => {
    const p = qg.tensors.get(name);
    if (p === undefined) throw new ShapeError(`integer tensor '${name}' has no quantization parameters`);
    return p;
  };
  const fusions = boundaryFusions(qg, options);
  const windows = new Map<string, Im2colConv>();
  for (const layer of qg.layers) planQuantizedInto(b, layer, P, options, fusions, windows);
  const outputs = qg.outputs.map((o) => {
    const io = { name: o.name, key: tensorKey('f', o.name), shape: b.tensor(tensorKey('f', o.name), 'outputs').shape };
    if (o.integer === undefined) return io;
    const t = b.tensor(tensorKey('i', o.integer), 'outputs');
    return { ...io, integer: { name: o.integer, key: t.key, shape: t.shape, params: P(o.integer) } };
  });
  return { steps: b.steps, tensors: b.tensors, inputs, outputs };
}

const intBytes = (shape: readonly number[], where: string): number => packedWords(actShapeOf(shape, where)) * 4;

function actShapeOf(shape: readonly number[], where: string): ActShape {
  try {
    return actShape(shape, where);
  } catch (e) {
    throw new GpuUnsupportedError((e as Error).message);
  }
}

function planQuantizedInto(b: Builder, layer: QLayer, P: (name: string) => QParams, options: PlanOptions, fusions: BoundaryFusions, windows: Map<string, Im2colConv>): void {
  const where = `layer '${layer.name}' (${layer.kind})`;
  const ins = (domain: Domain): TensorSpec[] => layer.inputs.map((n) => b.tensor(tensorKey(domain, n), where));
  const out = layer.outputs[0]!;
  const defineInt = (shape: readonly number[], bytes = intBytes(shape, where)): void => b.define({ key: tensorKey('i', out), shape, bytes, params: P(out) });
  const mw = b.maxWorkgroups;
  const abits = (name: string): string => `a${P(name).bits}`;
  switch (layer.kind) {
    case 'float': {
      const shapes = ins('f').map((t) => t.shape);
      planFloatInto(b, layer.layer, shapes);
      return;
    }
    case 'quantize': {
      const x = ins('f')[0]!;
      // A transpose folded in (boundary-fusion.ts): read the input through its strides, write its output.
      const transpose = fusions.transposes.get(out);
      const perm = transpose?.layer.op === 'transpose' ? transpose.layer.perm : undefined;
      const target = transpose?.outputs[0] ?? out;
      const view = perm === undefined ? x.shape : perm.map((axis) => x.shape[axis]!);
      const own = stridesOf(x.shape);
      const strides = perm?.map((axis) => own[axis]!) as InputStrides | undefined;
      const reader = fusions.im2col.get(target);
      // The copy holds each input value up to kH * kW times: where it would not fit a buffer, the plain boundary does.
      let im = reader === undefined ? undefined : im2colConv(reader, view);
      if (im !== undefined && intBytes(im.shape, where) > b.maxTensorBytes) im = undefined;
      const plan = typed(where, () => planQuantize({ real: layer.inputs[0]!, lanes: target }, P(out), actShapeOf(view, where), mw, im?.window, strides));
      if (im !== undefined) windows.set(target, im);
      const shape = im?.shape ?? view;
      b.define({ key: tensorKey('i', target), shape, bytes: intBytes(shape, where), params: P(target) });
      const op = ['quantize', ...(perm === undefined ? [] : ['transpose']), ...(im === undefined ? [] : [`im2col ${im.window.kH}x${im.window.kW}`])].join('+');
      b.add(layer.name, op, quantizeKernel, keyed(plan, 'f', 'i'), 0, abits(out));
      return;
    }
    case 'dequantize': {
      const x = ins('i')[0]!;
      const plan = typed(where, () => planDequantize({ real: out, lanes: layer.inputs[0]! }, P(layer.inputs[0]!), actShapeOf(x.shape, where), mw));
      b.define({ key: tensorKey('f', out), shape: x.shape, bytes: numel(x.shape) * 4 });
      b.add(layer.name, 'dequantize', dequantizeKernel, keyed(plan, 'i', 'f'), 0, abits(layer.inputs[0]!));
      return;
    }
    case 'conv':
    case 'dense': {
      const x = ins('i')[0]!;
      const inP = P(layer.inputs[0]!);
      const [, cg, kh = 1, kw = 1] = layer.weightShape as [number, number, number?, number?];
      const bits = `w${layer.weightBits}a${inP.bits}`;
      const geometry = layer.kind === 'conv' ? `${kh}x${kw}${(layer.layer as ConvLayer).strides[0]! > 1 ? `/${(layer.layer as ConvLayer).strides[0]}` : ''}` : '';
      if (isDepthwise(layer)) {
        const plan = typed(where, () => planDepthwise(layer, inP, P(out), actShapeOf(x.shape, where), mw));
        const shape = [plan.outShape.n, plan.outShape.c, plan.outShape.h, plan.outShape.w];
        defineInt(shape);
        b.add(layer.name, `dwconv ${geometry}`, depthwiseKernel, keyed(plan, 'i', 'i'), numel(shape) * cg * kh * kw, bits);
        return;
      }
      const { autotune: _autotune, im2col: _im2col, ...tile } = options;
      // An im2col input (see the quantize case): the layer as a 1x1 reduction over it.
      const im = windows.get(layer.inputs[0]!);
      const cp = typed(where, () => planConv(im?.layer ?? layer, inP, P(out), x.shape, b.facts, tile));
      const plan = convSmallPlan(cp, tensorKey('i', layer.inputs[0]!), tensorKey('i', out));
      defineInt(cp.outputShape, cp.outputWords * 4);
      b.add(layer.name, layer.kind === 'conv' ? `conv ${geometry}${im === undefined ? '' : ' im2col'}` : 'dense', igemmKernel, plan, numel(cp.outputShape) * cg * kh * kw, bits);
      return;
    }
    case 'lut': {
      const x = ins('i')[0]!;
      const plan = typed(where, () => planLut(layer, P(layer.inputs[0]!), P(out), actShapeOf(x.shape, where), mw));
      defineInt(x.shape);
      b.add(layer.name, 'lut', lutKernel, keyed(plan, 'i', 'i'), 0, abits(out));
      return;
    }
    case 'add':
    case 'sub':
    case 'mul': {
      const [x, y] = ins('i') as [TensorSpec, TensorSpec];
      if (x.shape.length !== y.shape.length) throw new GpuUnsupportedError(`${where}: inputs of ranks ${x.shape.length} and ${y.shape.length}; the integer kernel broadcasts equal ranks only`);
      const shape = broadcastShapes(x.shape, y.shape, where) as number[];
      const plan = typed(where, () => planBinary(layer, P(layer.inputs[0]!), P(layer.inputs[1]!), P(out), actShapeOf(x.shape, where), actShapeOf(y.shape, where), mw));
      defineInt(shape);
      b.add(layer.name, layer.kind, binaryKernel, keyed(plan, 'i', 'i'), 0, abits(out));
      return;
    }
    case 'concat': {
      const xs = ins('i');
      const rank = xs[0]!.shape.length;
      const plan = typed(where, () => planConcat(layer, layer.inputs.map(P), P(out), xs.map((t) => actShapeOf(t.shape, where)), rank, mw));
      const shape = inferLayerShapes({ name: layer.name, op: 'concat', axis: layer.axis, inputs: [], outputs: [] }, xs.map((t) => t.shape)) as number[][];
      defineInt(shape[0]!);
      b.add(layer.name, 'concat', concatKernel, keyed(plan, 'i', 'i'), 0, abits(out));
      return;
    }
    case 'maxPool':
    case 'avgPool':
    case 'globalAvgPool':
    case 'globalMaxPool': {
      const x = ins('i')[0]!;
      const plan = typed(where, () => planPool(layer, P(layer.inputs[0]!), actShapeOf(x.shape, where), mw));
      const s = plan.outShape;
      defineInt(x.shape.length === 4 ? [s.n, s.c, s.h, s.w] : x.shape);
      b.add(layer.name, layer.kind, poolKernel, keyed(plan, 'i', 'i'), 0, abits(out));
      return;
    }
    case 'move': {
      // Folded into the quantize step before it, which wrote this layer's output.
      if (fusions.transposes.get(layer.inputs[0]!) === layer) return;
      const x = ins('i')[0]!;
      const l = layer.layer;
      const shape = (inferLayerShapes(l, [x.shape], b.bindings) as number[][])[0]!;
      if (l.op === 'identity' || l.op === 'flatten' || l.op === 'reshape' || l.op === 'squeeze' || l.op === 'unsqueeze' || l.op === 'transpose') {
        const a = actShapeOf(x.shape, where);
        const o = actShapeOf(shape, where);
        if (l.op !== 'transpose' && a.n === o.n && a.c === o.c && a.h === o.h && a.w === o.w) {
          b.define({ key: tensorKey('i', out), shape, bytes: x.bytes, params: P(out), aliasOf: x.aliasOf ?? x.key });
          return;
        }
        const map = l.op === 'transpose' ? transposeMap(x.shape, l.perm, where) : reshapeMap(shape, where);
        const plan = typed(where, () => planPermute(layer.inputs[0]!, out, x.shape, shape, map, mw));
        defineInt(shape);
        b.add(layer.name, l.op, permuteKernel, keyed(plan, 'i', 'i'), 0, abits(out));
        return;
      }
      throw new GpuUnsupportedError(`${where}: ${l.op} has no integer GPU kernel (reshapes and transposes of rank <= 4 do)`);
    }
  }
}
