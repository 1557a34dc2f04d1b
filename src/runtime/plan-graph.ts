/**
 * From a graph (float) or a quantized graph, and the concrete shapes of its
 * inputs, the command graph: every tensor with its shape and size, every
 * step with its kernel variant, dispatch, uniforms and constant data. Pure:
 * no GPU objects, so it is tested without a device, and a session builds it
 * once per input shape.
 */
import { GpuUnsupportedError, ResourceLimitError, ShapeError } from '../errors.js';
import type { Constant, Graph, TensorInfo } from '../ir/graph.js';
import { bindInputShapes } from '../ir/bind-input-shapes.js';
import type { Layer } from '../ir/layers.js';
import { numel } from '../ir/shape.js';
import type { QParams } from '../quant/qparams.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { bindingLimits, type BindingLimits } from '../gpu/ops/pieces.js';
import { boundaryFusions } from './boundary-fusion.js';
import type { OpPlan, PlanContext, PlanFacts, PlanOptions } from './operator.js';
import { FLOAT_OPERATORS, integerOpName, integerOperator } from './operators.js';
import { floatValidateContext, validateContext } from './validate.js';
import { keyed, tensorKey, type CommandGraph, type Domain, type GraphIo, type Step, type TensorSpec } from './steps.js';

export type { PlanFacts, PlanOptions } from './operator.js';

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

  /** The largest buffer the adapter makes: a tensor's bound, whoever reads it. */
  get maxBufferBytes(): number {
    return this.facts.limits.maxBufferSize ?? 268435456;
  }

  /** The largest range a step binds (within a buffer), and the alignment of a range's offset. */
  get binding(): BindingLimits {
    const b = bindingLimits(this.facts.limits);
    return { ...b, maxBytes: Math.min(b.maxBytes, this.maxBufferBytes) };
  }

  define(spec: TensorSpec): void {
    const limit = this.maxBufferBytes;
    if (spec.aliasOf === undefined && spec.bytes > limit) {
      throw new ResourceLimitError(`tensor '${spec.key.slice(2)}' [${spec.shape.join(', ')}] needs ${spec.bytes} bytes, above the adapter's maxBufferSize of ${limit} (a session runs a larger batch in pieces, but one item must fit)`, 'maxBufferSize');
    }
    this.tensors.set(spec.key, spec);
  }

  /**
   * Refuses a step that binds more than the adapter binds at once: a
   * constant (weights or tables too large even in runs), a tensor bound whole
   * (its layer does not run in pieces, src/gpu/ops/pieces.ts), or a range too
   * large (a bug in a layer's pieces).
   */
  checkBindings(step: Step): void {
    const limit = this.binding.maxBytes;
    // Constants first (weights, tables), then tensors.
    for (const [name, role] of Object.entries(step.plan.buffers)) {
      const bytes = role.role === 'constant' ? (role.range?.bytes ?? role.data.byteLength) : 0;
      if (bytes > limit) throw new ResourceLimitError(`layer '${step.layer}': its ${name} need ${bytes} bytes, above the adapter's maxStorageBufferBindingSize of ${limit}`, 'maxStorageBufferBindingSize');
    }
    for (const role of Object.values(step.plan.buffers)) {
      if (role.role === 'constant') continue;
      const t = this.tensors.get(role.tensor);
      const bytes = role.range?.bytes ?? t?.bytes ?? 0;
      if (bytes <= limit) continue;
      const what = `tensor '${role.tensor.slice(2)}' [${t?.shape.join(', ') ?? ''}]`;
      const why = role.range === undefined ? 'and this layer binds it whole (it does not run in pieces)' : `in the range it binds at ${role.range.offset}`;
      throw new ResourceLimitError(`layer '${step.layer}' (${step.op}): ${what} needs ${bytes} bytes, above the adapter's maxStorageBufferBindingSize of ${limit}, ${why}`, 'maxStorageBufferBindingSize');
    }
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

  /** Defines what an operator's plan defines and appends its steps, their buffer roles keyed into the operator's domains. */
  addPlan(plan: OpPlan, layer: string, input: Domain, output: Domain, first: TensorSpec | undefined, params?: (name: string) => QParams): void {
    for (const t of plan.outputs) {
      const key = tensorKey(output, t.name);
      const p = output === 'i' ? params?.(t.name) : undefined;
      const spec = t.alias === true && first !== undefined ? { key, shape: t.shape, bytes: first.bytes, aliasOf: first.aliasOf ?? first.key } : { key, shape: t.shape, bytes: t.bytes };
      this.define(p === undefined ? spec : { ...spec, params: p });
    }
    for (const s of plan.steps) {
      const keyedStep: Step = { layer, op: s.op, kernel: s.kernel, plan: keyed(s.plan, input, output), macs: s.macs, bits: s.bits };
      this.checkBindings(keyedStep);
      this.steps.push(keyedStep);
    }
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
  const base = {
    ...floatValidateContext(graph, facts),
    maxWorkgroups: b.maxWorkgroups,
    binding: b.binding,
    bindings,
    fusions: { transposes: new Map(), im2col: new Map() },
    windows: new Map(),
  };
  for (const layer of graph.layers) planFloatInto(b, layer, { ...base, where: `layer '${layer.name}' (${layer.op})` });
  const outputs = graph.outputs.map((o) => ({ name: o.name, key: tensorKey('f', o.name), shape: b.tensor(tensorKey('f', o.name), 'outputs').shape }));
  return { steps: b.steps, tensors: b.tensors, inputs, outputs };
}

function planFloatInto(b: Builder, layer: Layer, ctx: PlanContext): void {
  const op = FLOAT_OPERATORS[layer.op];
  if (op === undefined) throw new GpuUnsupportedError(`${ctx.where}: no float32 GPU kernel`);
  const ins = layer.inputs.map((n) => b.tensor(tensorKey('f', n), ctx.where));
  b.addPlan(op.plan(layer, ins, ctx), layer.name, 'f', 'f', ins[0]);
}

/** The command graph of a quantized graph: integer layers on packed lanes, float islands in float32. */
export function planQuantizedGraph(qg: QuantizedGraph, inputShapes: Readonly<Record<string, readonly number[]>>, facts: PlanFacts, options: PlanOptions = {}): CommandGraph {
  const { inputs, bindings } = bindInputs(qg.inputs, inputShapes);
  const b = new Builder(facts, qg.constants, bindings);
  for (const io of inputs) b.define({ key: io.key, shape: io.shape, bytes: numel(io.shape) * 4 });
  const base = { ...validateContext(qg, facts, options), maxWorkgroups: b.maxWorkgroups, binding: b.binding, bindings, fusions: boundaryFusions(qg, options), windows: new Map() };
  for (const layer of qg.layers) {
    if (layer.kind === 'float') {
      planFloatInto(b, layer.layer, { ...base, where: `layer '${layer.name}' (${layer.layer.op})` });
      continue;
    }
    // A transpose folded into the quantize step before it (boundary-fusion.ts): that step wrote its output.
    if (base.fusions.transposes.get(layer.inputs[0]!) === layer) continue;
    const op = integerOperator(layer);
    const where = `layer '${layer.name}' (${integerOpName(layer)})`;
    if (op?.plan === undefined) throw new GpuUnsupportedError(`${where}: no integer GPU kernel`);
    const ins = layer.inputs.map((n) => b.tensor(tensorKey(op.domains.input, n), where));
    b.addPlan(op.plan(layer, ins, { ...base, where }), layer.name, op.domains.input, op.domains.output, ins[0], (name) => base.params(name));
  }
  const outputs = qg.outputs.map((o) => {
    const io = { name: o.name, key: tensorKey('f', o.name), shape: b.tensor(tensorKey('f', o.name), 'outputs').shape };
    if (o.integer === undefined) return io;
    const t = b.tensor(tensorKey('i', o.integer), 'outputs');
    return { ...io, integer: { name: o.integer, key: t.key, shape: t.shape, params: base.params(o.integer) } };
  });
  return { steps: b.steps, tensors: b.tensors, inputs, outputs };
}
