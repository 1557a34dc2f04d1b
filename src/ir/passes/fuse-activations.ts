import type { Graph } from '../graph.js';
import { isFusable, type Layer } from '../layers.js';
import { GraphIndex, withLayers } from './graph-index.js';

/**
 * Move an activation layer into the layer before it, when that layer is its
 * only source and has no other reader, and `keep` does not ask to keep the
 * tensor between them (a quantized file's integer tensor, say).
 */
export function fuseActivations(graph: Graph, keep: (tensor: string, activation: Layer) => boolean = () => false): Graph {
  const idx = new GraphIndex(graph);
  const removed = new Set<Layer>();
  const replaced = new Map<Layer, Layer>();
  for (const act of graph.layers) {
    if (act.op !== 'activation') continue;
    const prev = idx.producer.get(act.inputs[0]!);
    if (!prev || replaced.has(prev) || !isFusable(prev) || prev.activation) continue;
    if (idx.soleReader(prev.outputs[0]!) !== act || keep(prev.outputs[0]!, act)) continue;
    replaced.set(prev, { ...prev, activation: act.fn, outputs: act.outputs });
    removed.add(act);
  }
  if (removed.size === 0) return graph;
  return withLayers(graph, graph.layers.filter((l) => !removed.has(l)).map((l) => replaced.get(l) ?? l));
}
