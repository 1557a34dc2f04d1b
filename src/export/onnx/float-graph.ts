import { UnsupportedOperatorError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { Activation, Layer } from '../../ir/layers.js';
import type { Dim, Shape } from '../../ir/shape.js';
import { OnnxModelBuilder, type AttrValue } from './builder.js';

/** Nodes that turn the value its producer wrote (`raw`) into the value readers see (`out`). */
export type TensorRewrite = (b: OnnxModelBuilder, raw: string, out: string) => void;

export interface WriteGraphOptions {
  /** Tensors to expose as graph outputs besides the graph's own (calibration reads activations this way). */
  extraOutputs?: readonly string[];
  /**
   * A rewrite for a tensor (the fake-quant graph rounds integer tensors to
   * their grid): layers read the rewritten value, and a rewritten graph
   * output or extra output is the rewritten value under its own name.
   */
  rewrite?: (tensor: string) => TensorRewrite | undefined;
  /** The opset to declare (default WRITE_OPSET). */
  opset?: number;
  /** Another way to write a constant (a QDQ model's integer weights and their DequantizeLinear): it must define the constant's name. */
  constant?: (name: string) => ((b: OnnxModelBuilder, name: string) => void) | undefined;
}

/**
 * The graph as an ONNX model: one node (or a short fixed sequence) per
 * layer, every tensor under its own name, constants as initializers, the
 * inputs and outputs with their (possibly symbolic) shapes. ONNX Runtime runs
 * it as our float executor runs the graph. A layer ONNX cannot express
 * exactly throws UnsupportedOperatorError naming it.
 */
export function graphToOnnx(graph: Graph, options: WriteGraphOptions = {}): Uint8Array {
  return writeGraph(graph, options).bytes;
}

/** The written model, and the name under which each requested tensor comes out of it. */
export interface WrittenGraph {
  bytes: Uint8Array;
  /** Tensor name (graph output or extra output) -> output name in the file. */
  outputNames: Map<string, string>;
}

export function writeGraph(graph: Graph, options: WriteGraphOptions = {}): WrittenGraph {
  const reserved = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.constants.keys()]);
  for (const l of graph.layers) for (const o of l.outputs) reserved.add(o);
  const b = new OnnxModelBuilder(graph.name || 'quantgpu', reserved, options.opset);
  const readName = new Map<string, string>();
  const read = (t: string): string => (t === '' ? '' : readName.get(t) ?? t);

  for (const i of graph.inputs) {
    b.input(i.name, i.shape);
    const rw = options.rewrite?.(i.name);
    if (rw) {
      const out = b.fresh(`${i.name}/rewritten`);
      rw(b, i.name, out);
      readName.set(i.name, out);
    }
  }
  const used = new Set(graph.layers.flatMap((l) => l.inputs));
  for (const [name, c] of graph.constants) {
    if (!used.has(name)) continue;
    const write = options.constant?.(name);
    if (write) write(b, name);
    else b.initializer(name, c.shape, 'float32', c.data);
  }

  for (const layer of graph.layers) {
    const out = layer.outputs[0]!;
    const rw = options.rewrite?.(out);
    const target = rw ? b.fresh(`${out}/raw`) : out;
    emitLayer(b, graph, layer, layer.inputs.map(read), target);
    if (rw) rw(b, target, out);
  }

  const outputNames = new Map<string, string>();
  for (const name of [...graph.outputs.map((o) => o.name), ...(options.extraOutputs ?? [])]) {
    if (outputNames.has(name)) continue;
    if (!graph.shapes.has(name)) throw new UnsupportedOperatorError(name, 'output', 'names no tensor of the graph');
    const r = read(name);
    let outName = name;
    if (r !== name || graph.inputs.some((i) => i.name === name)) {
      // A graph input (or its rewritten value) asked for as an output: ONNX wants a node's output, so copy it.
      outName = b.fresh(`${name}/output`);
      b.node('Identity', [r], [outName]);
    }
    b.output(outName, graph.shapes.get(name));
    outputNames.set(name, outName);
  }
  return { bytes: b.encode(), outputNames };
}

function activationNode(b: OnnxModelBuilder, a: Activation, input: string, output: string): void {
  switch (a.kind) {
    case 'relu':
      return b.node('Relu', [input], [output]);
    case 'clip':
      return b.node('Clip', [input, Number.isFinite(a.min) ? b.floatScalar(a.min) : '', Number.isFinite(a.max) ? b.floatScalar(a.max) : ''], [output]);
    case 'leakyRelu':
      return b.node('LeakyRelu', [input], [output], { alpha: { float: a.alpha } });
    case 'sigmoid':
      return b.node('Sigmoid', [input], [output]);
    case 'hardSigmoid':
      return b.node('HardSigmoid', [input], [output], { alpha: { float: a.alpha }, beta: { float: a.beta } });
    case 'hardSwish':
      return b.node('HardSwish', [input], [output]);
  }
}

/** Window attributes: explicit pads unless auto_pad says otherwise. */
function windowAttrs(l: Extract<Layer, { strides: [number, number] }>): Record<string, AttrValue> {
  return {
    strides: { ints: l.strides },
    dilations: { ints: l.dilations },
    ...(l.autoPad === 'NOTSET' ? { pads: { ints: l.pads } } : { auto_pad: { string: l.autoPad } }),
  };
}

function shapeOf(graph: Graph, tensor: string): Shape {
  const s = graph.shapes.get(tensor);
  if (!s) throw new UnsupportedOperatorError(tensor, 'tensor', 'has no inferred shape to write');
  return s;
}

/**
 * A Reshape target as ONNX constants: a symbol becomes 0 where it copies the
 * input's dimension at the same place, or -1 when it is the only unknown left.
 */
function reshapeTarget(layer: Extract<Layer, { op: 'reshape' }>, input: Shape): number[] {
  const syms = layer.shape.filter((d) => typeof d === 'string');
  const hasMinus = layer.shape.includes(-1);
  return layer.shape.map((d: Dim, i) => {
    if (typeof d === 'number') return d;
    if (!layer.allowZero && input[i] === d) return 0;
    if (!hasMinus && syms.length === 1) return -1;
    throw new UnsupportedOperatorError(layer.name, 'Reshape', `to a shape with symbolic dimensions [${layer.shape.join(',')}] cannot be written as ONNX constants`);
  });
}

function emitLayer(b: OnnxModelBuilder, graph: Graph, layer: Layer, ins: string[], out: string): void {
  const activation = 'activation' in layer ? layer.activation : undefined;
  // A fused activation gets a node of its own after the layer's.
  const main = activation ? b.fresh(`${out}/pre_${activation.kind}`) : out;
  const x = ins[0]!;
  switch (layer.op) {
    case 'identity':
      b.node('Identity', [x], [main], {}, layer.name);
      break;
    case 'conv':
      b.node('Conv', ins, [main], { group: { int: layer.group }, ...windowAttrs(layer) }, layer.name);
      break;
    case 'convTranspose':
      // No output_shape: the importer turned it into pads and output padding, which ONNX would otherwise re-derive with its own split.
      b.node('ConvTranspose', ins, [main], { group: { int: layer.group }, ...windowAttrs(layer), output_padding: { ints: layer.outputPadding } }, layer.name);
      break;
    case 'dense': {
      if (shapeOf(graph, layer.inputs[0]!).length === 2) {
        b.node('Gemm', ins, [main], { transB: { int: 1 } }, layer.name);
        break;
      }
      // Gemm takes matrices only: x @ W^T (+ b) for inputs of other ranks. The transpose is a node
      // (runtimes fold it on a constant), so that a weight written another way (QDQ) is read as written.
      const wName = b.fresh(`${layer.inputs[1]}/transposed`);
      b.node('Transpose', [ins[1]!], [wName], { perm: { ints: [1, 0] } });
      if (ins[2]) {
        const prod = b.fresh(`${main}/matmul`);
        b.node('MatMul', [x, wName], [prod], {}, layer.name);
        b.node('Add', [prod, ins[2]], [main]);
      } else b.node('MatMul', [x, wName], [main], {}, layer.name);
      break;
    }
    case 'gemm':
      b.node('Gemm', ins, [main], { alpha: { float: layer.alpha }, beta: { float: layer.beta }, transA: { int: layer.transA ? 1 : 0 }, transB: { int: layer.transB ? 1 : 0 } }, layer.name);
      break;
    case 'matMul':
      b.node('MatMul', ins, [main], {}, layer.name);
      break;
    case 'batchNorm':
      b.node('BatchNormalization', ins, [main], { epsilon: { float: layer.epsilon } }, layer.name);
      break;
    case 'activation':
      activationNode(b, layer.fn, x, main);
      break;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      b.node({ add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' }[layer.op], ins, [main], {}, layer.name);
      break;
    case 'concat':
      b.node('Concat', ins, [main], { axis: { int: layer.axis } }, layer.name);
      break;
    case 'maxPool':
    case 'avgPool': {
      const dilated = layer.dilations[0] !== 1 || layer.dilations[1] !== 1;
      if (layer.op === 'avgPool' && dilated) {
        throw new UnsupportedOperatorError(layer.name, 'AveragePool', `with dilations before opset 19 cannot be written (the writer uses opset 17)`);
      }
      const { dilations, ...win } = windowAttrs(layer);
      b.node(layer.op === 'maxPool' ? 'MaxPool' : 'AveragePool', [x], [main], {
        kernel_shape: { ints: layer.kernel },
        ...win,
        ...(layer.op === 'maxPool' ? { dilations } : { count_include_pad: { int: layer.countIncludePad ? 1 : 0 } }),
        ceil_mode: { int: layer.ceilMode ? 1 : 0 },
      }, layer.name);
      break;
    }
    case 'globalAvgPool':
      b.node('GlobalAveragePool', [x], [main], {}, layer.name);
      break;
    case 'globalMaxPool':
      b.node('GlobalMaxPool', [x], [main], {}, layer.name);
      break;
    case 'flatten':
      b.node('Flatten', [x], [main], { axis: { int: layer.axis } }, layer.name);
      break;
    case 'reshape':
      b.node('Reshape', [x, b.int64s(`${layer.name}/shape`, reshapeTarget(layer, shapeOf(graph, layer.inputs[0]!)))], [main], layer.allowZero ? { allowzero: { int: 1 } } : {}, layer.name);
      break;
    case 'squeeze':
      b.node('Squeeze', layer.axes.length > 0 ? [x, b.int64s(`${layer.name}/axes`, layer.axes)] : [x], [main], {}, layer.name);
      break;
    case 'unsqueeze':
      b.node('Unsqueeze', [x, b.int64s(`${layer.name}/axes`, layer.axes)], [main], {}, layer.name);
      break;
    case 'transpose':
      b.node('Transpose', [x], [main], layer.perm.length > 0 ? { perm: { ints: layer.perm } } : {}, layer.name);
      break;
    case 'pad':
      b.node('Pad', [x, b.int64s(`${layer.name}/pads`, layer.pads), b.floatScalar(layer.value)], [main], { mode: { string: layer.mode } }, layer.name);
      break;
    case 'resize': {
      const attrs = { mode: { string: 'nearest' }, coordinate_transformation_mode: { string: layer.coordinateMode }, nearest_mode: { string: layer.nearestMode } };
      const operands = layer.sizes
        ? ['', '', b.int64s(`${layer.name}/sizes`, layer.sizes)]
        : ['', b.initializer(b.fresh(`${layer.name}/scales`), [layer.scales!.length], 'float32', Float32Array.from(layer.scales!))];
      b.node('Resize', [x, ...operands], [main], attrs, layer.name);
      break;
    }
    case 'softmax': {
      const rank = shapeOf(graph, layer.inputs[0]!).length;
      const axis = layer.axis < 0 ? layer.axis + rank : layer.axis;
      if (!layer.coerce2d || axis === rank - 1) {
        b.node('Softmax', [x], [main], { axis: { int: layer.axis } }, layer.name);
        break;
      }
      // Opset < 13 semantics: normalise over every axis from `axis` on, as a 2-D softmax, then restore the shape.
      const flat = b.fresh(`${main}/flat`);
      const soft = b.fresh(`${main}/softmax2d`);
      const shape = b.fresh(`${main}/shape`);
      b.node('Flatten', [x], [flat], { axis: { int: axis } });
      b.node('Softmax', [flat], [soft], { axis: { int: 1 } }, layer.name);
      b.node('Shape', [x], [shape]);
      b.node('Reshape', [soft, shape], [main]);
      break;
    }
  }
  if (activation) activationNode(b, activation, main, out);
}
