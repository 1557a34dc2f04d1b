import type { Graph } from '../../ir/graph.js';
import { inferGraphShapes } from '../../ir/infer-shapes.js';
import type { Activation, Layer } from '../../ir/layers.js';
import { GraphIndex, withLayers } from '../../ir/passes/graph-index.js';

/**
 * TF graphs write ReLU6 as Minimum(Maximum(x, 0), 6) (or Relu then Minimum):
 * two clamps in a row. Each imports as its own activation; here a clamp read
 * only by another clamp is merged into it, giving the one clip(0, 6) that the
 * quantizer turns into an epilogue bound.
 */
export function mergeClips(graph: Graph): Graph {
  const idx = new GraphIndex(graph);
  const removed = new Set<Layer>();
  const replaced = new Map<Layer, Layer>();
  for (const layer of graph.layers) {
    if (layer.op !== 'activation') continue;
    const outer = bounds(layer.fn);
    const first = idx.producer.get(layer.inputs[0]!);
    if (!outer || !first || idx.soleReader(layer.inputs[0]!) !== layer) continue;
    // The producer may itself have been merged with the clamp before it.
    const prev = replaced.get(first) ?? first;
    if (prev.op !== 'activation') continue;
    const inner = bounds(prev.fn);
    if (!inner) continue;
    const lo = Math.max(inner[0], outer[0]);
    const hi = Math.min(inner[1], outer[1]);
    // Disjoint ranges make a constant, which one clamp cannot express.
    if (lo > hi) continue;
    const fn: Activation = lo === 0 && hi === Infinity ? { kind: 'relu' } : { kind: 'clip', min: lo, max: hi };
    removed.add(first);
    replaced.set(layer, { ...layer, fn, inputs: [prev.inputs[0]!] });
  }
  if (removed.size === 0) return graph;
  const merged = withLayers(graph, graph.layers.filter((l) => !removed.has(l)).map((l) => replaced.get(l) ?? l));
  inferGraphShapes(merged);
  return merged;
}

function bounds(fn: Activation): [number, number] | undefined {
  if (fn.kind === 'relu') return [0, Infinity];
  if (fn.kind === 'clip') return [fn.min, fn.max];
  return undefined;
}
