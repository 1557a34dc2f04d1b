import type { Graph } from '../graph.js';
import { renameReaders, withLayers } from './graph-index.js';

/** Drop identity layers whose output is not a graph output, and layers nothing reads. */
export function removeDeadAndIdentity(graph: Graph): Graph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  let layers = graph.layers;
  for (const l of graph.layers) {
    if (l.op === 'identity' && !outputs.has(l.outputs[0]!)) {
      layers = renameReaders(layers.filter((x) => x !== l), l.outputs[0]!, l.inputs[0]!);
    }
  }
  // Backwards sweep: a layer is live when one of its outputs is a graph output or read by a live layer.
  const needed = new Set(outputs);
  const live = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.outputs.some((o) => needed.has(o))) {
      live.push(l);
      l.inputs.forEach((n) => needed.add(n));
    }
  }
  live.reverse();
  return live.length === graph.layers.length && layers === graph.layers ? graph : withLayers(graph, live);
}

