import { onnx } from './proto.js';
import { ModelFormatError, ShapeError, UnsupportedOperatorError } from '../../errors.js';
import type { Graph, TensorInfo } from '../../ir/graph.js';
import { inferGraphShapes } from '../../ir/infer-shapes.js';
import { formatShape, type Dim, type Shape } from '../../ir/shape.js';
import { Attributes } from './attributes.js';
import { ImportContext, type NodeInfo, type Value } from './context.js';
import { decodeModelProto, defaultOpset } from './model-proto.js';
import { layerConverters } from './ops-layers.js';
import { foldShapeArithmetic } from './ops-shape.js';
import { dataTypeKind, dataTypeName, decodeTensor, type DecodedTensor } from './tensor-proto.js';

/** Opsets 1 to 6 are read too: for the operators above they differ only in legacy broadcasting and defaults, which the converters handle. */
export const MIN_OPSET = 1;
export const MAX_OPSET = 21;

export interface OnnxImportOptions {
  /** Fix input shapes, symbolic dimensions included (`{ input: [1, 3, 224, 224] }`). */
  inputShapes?: Record<string, Dim[]>;
  /**
   * Freeze graph inputs to known values, so that they act as constants (an
   * integer shape or axes input, say). The graph then no longer takes them.
   */
  constantInputs?: Record<string, DecodedTensor>;
  /** Run the simplification passes (default true). */
  simplify?: boolean;
}

/** Operators that only compute on constants (shape arithmetic) and fold away at import. */
export const SHAPE_ARITHMETIC_OPS: readonly string[] = ['Constant', 'Shape', 'Size', 'Gather', 'Slice', 'Cast', 'ConstantOfShape'];

/** The ONNX operators the importer understands (all of them fold to layers or disappear). */
export const SUPPORTED_ONNX_OPS: readonly string[] = [...Object.keys(layerConverters), ...SHAPE_ARITHMETIC_OPS];

/** Decode an ONNX model into the IR graph: weights as constants, shapes inferred, shape arithmetic folded. */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): Graph {
  return importOnnxModel(decodeModelProto(bytes), options);
}

/** `importOnnx` of a decoded model (the quantized importer hands it the float model it rewrote). */
export function importOnnxModel(model: onnx.IModelProto, options: OnnxImportOptions = {}): Graph {
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ModelFormatError(`the model uses opset ${opset}; quantgpu reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  const g = model.graph!;
  const ctx = new ImportContext();

  for (const init of g.initializer ?? []) {
    if (!init.name) throw new ModelFormatError('an initializer has no name');
    ctx.define(init.name, constantValue(decodeTensor(init, `initializer '${init.name}'`)));
  }
  const inputs: TensorInfo[] = [];
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (ctx.values.has(name)) continue; // IR < 4 lists initializers among the inputs.
    const frozen = options.constantInputs?.[name];
    if (frozen) {
      ctx.define(name, constantValue(frozen));
      continue;
    }
    const shape = options.inputShapes?.[name] ?? declaredShape(vi, `input '${name}'`);
    const elem = vi.type?.tensorType?.elemType ?? onnx.TensorProto.DataType.FLOAT;
    if (elem !== onnx.TensorProto.DataType.FLOAT) {
      throw new UnsupportedOperatorError(name, 'graph input', `of type ${dataTypeName(elem)} is not supported (float32 inputs only; freeze others with constantInputs)`);
    }
    inputs.push({ name, shape });
    ctx.define(name, { kind: 'tensor', shape });
  }
  for (const name of Object.keys(options.inputShapes ?? {})) {
    if (!inputs.some((i) => i.name === name)) throw new ShapeError(`--shape names '${name}', which is not an input of the model (inputs: ${inputs.map((i) => i.name).join(', ')})`);
  }

  const nodes = sortNodes(g.node ?? [], new Set(ctx.values.keys()), opset);
  for (const node of nodes) convertNode(ctx, node);

  const outputs: TensorInfo[] = [];
  for (const vo of g.output ?? []) {
    const name = vo.name ?? '';
    const v = ctx.values.get(name);
    if (!v) throw new ModelFormatError(`graph output '${name}' is not produced by any node`);
    const producedHere = ctx.layers.some((l) => l.outputs.includes(name));
    if (!producedHere) {
      // An output that is an input, a constant or an alias of another tensor: copy it out under its own name.
      const source = ctx.resolve(name);
      ctx.emitCopy(name, source);
    }
    const declared = vo.type?.tensorType?.shape ? declaredShape(vo, `output '${name}'`) : undefined;
    const inferred = ctx.shapeOf(ctx.values.get(name)!);
    if (declared) checkDeclared(name, declared, inferred);
    outputs.push({ name, shape: inferred });
  }
  const graph: Graph = {
    name: g.name || 'model',
    inputs,
    outputs,
    layers: ctx.layers,
    constants: ctx.constants,
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  return graph;
}

function convertNode(ctx: ImportContext, node: NodeInfo): void {
  if (node.opType === 'Constant') {
    ctx.define(node.outputs[0]!, constantNode(node));
    return;
  }
  if (foldShapeArithmetic(ctx, node)) return;
  if (node.opType === 'Cast') {
    // Casts of run-time tensors to float are no-ops for a float graph.
    if (dataTypeKind(node.attrs.int('to', 0)) !== 'float') throw new UnsupportedOperatorError(node.name, 'Cast', `to ${dataTypeName(node.attrs.int('to', 0))} on a run-time tensor is not supported`);
    ctx.alias(node.outputs[0]!, node.inputs[0]!);
    return;
  }
  const convert = layerConverters[node.opType];
  if (!convert) throw new UnsupportedOperatorError(node.name, node.opType);
  const layer = convert(ctx, node);
  if (layer === 'alias') ctx.alias(node.outputs[0]!, node.inputs[0]!);
  else ctx.emit(layer);
}

function constantValue(t: DecodedTensor): Exclude<Value, { kind: 'tensor' }> {
  return t.kind === 'float' ? { kind: 'float', dims: t.dims, data: t.data } : { kind: 'int', dims: t.dims, data: t.data };
}

function constantNode(node: NodeInfo): Value {
  const a = node.attrs;
  const t = a.tensor('value');
  if (t) return constantValue(t);
  if (a.has('value_float')) return { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
  if (a.has('value_floats')) {
    const f = a.floats('value_floats')!;
    return { kind: 'float', dims: [f.length], data: Float32Array.from(f) };
  }
  if (a.has('value_int')) return { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
  if (a.has('value_ints')) {
    const i = a.ints('value_ints')!;
    return { kind: 'int', dims: [i.length], data: i };
  }
  throw new UnsupportedOperatorError(node.name, 'Constant', `with attribute ${a.names().join(', ') || '(none)'} is not supported`);
}

/** A value's declared shape; unnamed unknown dimensions get a name of their own. */
function declaredShape(vi: onnx.IValueInfoProto, what: string): Dim[] {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) throw new ModelFormatError(`${what} has no declared shape; give it one (--shape)`);
  return dims.map((d, i) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined && Number(d.dimValue) > 0) return Number(d.dimValue);
    return `${vi.name ?? 'x'}_d${i}`;
  });
}

function checkDeclared(name: string, declared: Shape, inferred: Shape): void {
  const bad =
    declared.length !== inferred.length ||
    declared.some((d, i) => typeof d === 'number' && typeof inferred[i] === 'number' && d !== inferred[i]);
  if (bad) throw new ShapeError(`output '${name}' is declared ${formatShape(declared)} but the graph computes ${formatShape(inferred)}`);
}

/**
 * Topological order of the nodes (ONNX asks for it, but not every writer
 * obeys); a cycle or a tensor read before anything writes it is an error.
 */
function sortNodes(protos: readonly onnx.INodeProto[], known: ReadonlySet<string>, opset: number): NodeInfo[] {
  const nodes: NodeInfo[] = protos.map((p, i) => {
    const opType = p.opType ?? '';
    const domain = p.domain ?? '';
    const outputs = (p.output ?? []).map(String);
    const name = p.name || `${opType}_${outputs[0] ?? i}`;
    if (domain !== '' && domain !== 'ai.onnx') throw new UnsupportedOperatorError(name, `${domain}.${opType}`, 'is from a custom domain and is not supported');
    return { name, opType, inputs: (p.input ?? []).map(String), outputs, attrs: new Attributes(name, p.attribute), opset };
  });
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const state = new Array<0 | 1 | 2>(nodes.length).fill(0);
  const order: NodeInfo[] = [];
  // Iterative depth-first search: deep chains of layers must not exhaust the JS stack.
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== 0) continue;
    const stack: Array<[number, number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [i, k] = top;
      const node = nodes[i]!;
      if (k < node.inputs.length) {
        top[1]++;
        const inp = node.inputs[k]!;
        if (inp === '' || known.has(inp)) continue;
        const p = producer.get(inp);
        if (p === undefined) throw new ModelFormatError(`node '${node.name}' (${node.opType}) reads '${inp}', which is neither an input, an initializer nor the output of a node`);
        if (state[p] === 1) throw new ModelFormatError(`the graph has a cycle: '${nodes[p]!.name}' depends on its own output through '${node.name}'`);
        if (state[p] === 0) {
          state[p] = 1;
          stack.push([p, 0]);
        }
      } else {
        state[i] = 2;
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}
