import { InputError } from '../errors.js';
import type { Graph } from './graph.js';

/**
 * The tensors that cross the cut before layer `at`: read by layers `at` and
 * later, and produced before it (or graph inputs). Given their values, the
 * layers from `at` on run without the ones before.
 */
export function cutTensors(graph: Graph, at: number): string[] {
  const later = new Set(graph.layers.slice(at).flatMap((l) => l.outputs));
  const out: string[] = [];
  for (const l of graph.layers.slice(at)) {
    for (const t of l.inputs) if (t !== '' && !later.has(t) && !graph.constants.has(t) && !out.includes(t)) out.push(t);
  }
  // A graph output made before the cut is passed through by the cut as well.
  for (const o of graph.outputs) if (!later.has(o.name) && !out.includes(o.name)) out.push(o.name);
  return out;
}

/**
 * Layers `[from, to)` of a topologically ordered graph as a graph of their
 * own: its inputs are the tensors crossing the cut before `from` (see
 * cutTensors), its outputs `outputs` (default: the graph's, when `to` is the
 * end). Constants and inferred shapes are shared. What a search uses to run
 * the layers after a change without the unchanged prefix, and the prefix
 * alone to get the tensors at the cut.
 */
export function sliceGraph(graph: Graph, from: number, to = graph.layers.length, outputs?: readonly string[]): Graph {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= graph.layers.length)) {
    throw new InputError(`sliceGraph: layers [${from}, ${to}) are not a range of the ${graph.layers.length} layers of '${graph.name}'`);
  }
  const layers = graph.layers.slice(from, to);
  const inputs = (from === 0 ? graph.inputs.map((i) => i.name) : cutTensors(graph, from)).filter((t) => layers.some((l) => l.inputs.includes(t)) || (outputs ?? []).includes(t) || (outputs === undefined && graph.outputs.some((o) => o.name === t)));
  const made = new Set(layers.flatMap((l) => l.outputs));
  const wanted = outputs ?? (to === graph.layers.length ? graph.outputs.map((o) => o.name) : []);
  const missing = wanted.filter((t) => !made.has(t) && !inputs.includes(t));
  if (wanted.length === 0 || missing.length > 0) {
    throw new InputError(`sliceGraph: layers [${from}, ${to}) of '${graph.name}' do not make ${missing.length > 0 ? missing.map((t) => `'${t}'`).join(', ') : 'any output'}`);
  }
  const shape = (t: string) => {
    const s = graph.shapes.get(t);
    if (!s) throw new InputError(`sliceGraph: tensor '${t}' of '${graph.name}' has no inferred shape`);
    return s;
  };
  return {
    ...graph,
    inputs: inputs.map((name) => ({ name, shape: shape(name) })),
    outputs: wanted.map((name) => ({ name, shape: shape(name) })),
    layers,
  };
}
