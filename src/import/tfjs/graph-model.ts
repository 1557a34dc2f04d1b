import { ModelFormatError, ShapeError, UnsupportedOperatorError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { Dim } from '../../ir/shape.js';
import { GraphBuilder } from './builder.js';
import { NodeAttrs } from './graph-attrs.js';
import { GraphContext, tensorKey, type GraphValue, type TfNode } from './graph-context.js';
import { GRAPH_CONVERTERS } from './graph-ops.js';
import { inlineTensor } from './inline-tensor.js';
import { mergeClips } from './merge-clips.js';
import { asArray, asObject, asString, isObject, type JsonObject } from './json.js';
import type { TfjsImportOptions } from './options.js';
import type { WeightTensor } from './weights.js';

/** The TF ops the graph-model importer understands. */
export const SUPPORTED_TF_OPS: readonly string[] = ['Placeholder', 'Const', ...Object.keys(GRAPH_CONVERTERS)];

/**
 * Import a TF.js graph model (a frozen TensorFlow GraphDef, `modelTopology.node`).
 * Only the nodes that the outputs depend on are converted, so training
 * or saving leftovers in the graph do no harm.
 */
export function importGraphModel(modelJson: JsonObject, weights: ReadonlyMap<string, WeightTensor>, options: TfjsImportOptions = {}): Graph {
  const topo = asObject(modelJson.modelTopology, 'modelTopology');
  const nodes = asArray(topo.node ?? [], 'modelTopology.node').map((v, i) => parseNode(v, i));
  const byName = new Map<string, TfNode>();
  for (const n of nodes) {
    if (byName.has(n.name)) throw new ModelFormatError(`two nodes are named '${n.name}'`);
    byName.set(n.name, n);
  }
  const outputRefs = graphOutputs(modelJson, nodes);
  const order = dependencyOrder(outputRefs.map(nodeOf), byName);

  const b = new GraphBuilder(nodes.map((n) => n.name));
  const values = new Map<string, GraphValue>();
  const ctx = new GraphContext(b, values);
  const placeholders = order.filter((n) => n.op === 'Placeholder').map((n) => n.name);
  for (const name of Object.keys(options.inputShapes ?? {})) {
    if (!placeholders.includes(name)) throw new ShapeError(`inputShapes names '${name}', which is not an input of the model (inputs: ${placeholders.join(', ')})`);
  }

  for (const node of order) {
    if (node.op === 'Placeholder') {
      values.set(node.name, { kind: 'tensor', ir: b.addInput(node.name, options.inputShapes?.[node.name] ?? placeholderShape(node)) });
      continue;
    }
    if (node.op === 'Const') {
      values.set(node.name, constValue(node, weights));
      continue;
    }
    const convert = GRAPH_CONVERTERS[node.op];
    if (!convert) throw new UnsupportedOperatorError(node.name, node.op);
    const result = convert(ctx, node);
    const outs = Array.isArray(result) ? result : [result];
    outs.forEach((v, k) => values.set(k === 0 ? node.name : `${node.name}:${k}`, v));
  }

  const outputs = outputRefs.map((ref) => {
    const key = tensorKey(ref);
    const v = values.get(key);
    if (!v) throw new ModelFormatError(`graph output '${ref}' is not made by any node`);
    // A constant output still has to come out of the graph: an IR constant, copied out under the output's name.
    return { name: key, ir: ctx.materialize(`${key}/value`, v) };
  });
  return mergeClips(b.finish('model', outputs));
}

function parseNode(v: unknown, i: number): TfNode {
  const o = asObject(v, `modelTopology.node[${i}]`);
  const name = asString(o.name, `modelTopology.node[${i}].name`);
  const op = asString(o.op, `node '${name}': op`);
  // `^name` marks a control dependency: an ordering hint with no data, which a dataflow graph does not need.
  const inputs = asArray(o.input ?? [], `node '${name}': input`)
    .map((x) => asString(x, `node '${name}': input`))
    .filter((x) => !x.startsWith('^'))
    .map(tensorKey);
  return { name, op, inputs, attrs: new NodeAttrs(name, isObject(o.attr) ? o.attr : {}) };
}

/** The node that makes tensor `ref` (`node`, or `node:k` for its output k). */
function nodeOf(ref: string): string {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? m[1]! : ref;
}

/** The signature's outputs when the model has one (as TF.js reads them), else the nodes nothing reads. */
function graphOutputs(modelJson: JsonObject, nodes: readonly TfNode[]): string[] {
  const sig = isObject(modelJson.signature) ? modelJson.signature : isObject(modelJson.userDefinedMetadata) && isObject(modelJson.userDefinedMetadata.signature) ? modelJson.userDefinedMetadata.signature : undefined;
  if (sig && isObject(sig.outputs)) {
    const refs = Object.values(sig.outputs).map((o, i) => asString(asObject(o, `signature.outputs[${i}]`).name, `signature.outputs[${i}].name`));
    if (refs.length > 0) return refs;
  }
  const read = new Set(nodes.flatMap((n) => n.inputs.map(nodeOf)));
  const leaves = nodes.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'NoOp').map((n) => n.name);
  if (leaves.length === 0) throw new ModelFormatError('the graph has no outputs (every node is read by another)');
  return leaves;
}

/** The nodes the outputs depend on, each after its inputs (iterative DFS: graphs can be deep). */
function dependencyOrder(roots: string[], byName: ReadonlyMap<string, TfNode>): TfNode[] {
  const state = new Map<string, 1 | 2>();
  const order: TfNode[] = [];
  for (const root of roots) {
    const start = byName.get(root);
    if (!start) throw new ModelFormatError(`graph output '${root}' names no node`);
    if (state.has(root)) continue;
    const stack: Array<{ node: TfNode; next: number }> = [{ node: start, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.inputs.length) {
        const dep = nodeOf(top.node.inputs[top.next++]!);
        const s = state.get(dep);
        if (s === 2) continue;
        if (s === 1) throw new ModelFormatError(`the graph has a cycle through node '${dep}'`);
        const n = byName.get(dep);
        if (!n) throw new ModelFormatError(`node '${top.node.name}' (${top.node.op}) reads '${dep}', which is not a node of the graph`);
        state.set(dep, 1);
        stack.push({ node: n, next: 0 });
      } else {
        state.set(top.node.name, 2);
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return order;
}

function placeholderShape(node: TfNode): Dim[] {
  const dtype = node.attrs.type('dtype', 'DT_FLOAT');
  if (dtype !== 'DT_FLOAT') throw new UnsupportedOperatorError(node.name, 'Placeholder', `of type ${dtype} is not supported (float32 inputs only)`);
  const shape = node.attrs.shape('shape');
  if (!shape) throw new ModelFormatError(`input '${node.name}' has no declared shape; give it one (inputShapes)`);
  return shape.map((d, i) => (d >= 0 ? d : i === 0 ? 'N' : `${node.name}_d${i}`));
}

/** A Const node's value: from the weights manifest (where TF.js puts them), else inline in the node. */
function constValue(node: TfNode, weights: ReadonlyMap<string, WeightTensor>): GraphValue {
  const w = weights.get(node.name);
  if (w) return { kind: 'const', shape: w.shape, data: w.data };
  const t = node.attrs.tensor('value');
  if (!t) throw new ModelFormatError(`Const node '${node.name}' has no value: the weights manifest has no weight of that name`);
  return { kind: 'const', ...inlineTensor(t, `Const node '${node.name}'`) };
}
