import type { Graph } from '../../ir/graph.js';
import { inferGraphShapes } from '../../ir/infer-shapes.js';
import type { Layer } from '../../ir/layers.js';
import { GraphIndex, withLayers } from '../../ir/passes/graph-index.js';
import { NHWC_FROM_NCHW } from './nhwc.js';

/**
 * A TF model flattens feature maps in NHWC order, so the import puts a
 * transpose back to NHWC before each Flatten (or Reshape to [N, K]). Where
 * the flat vector feeds only Dense layers, that data movement can go: flatten
 * the NCHW map directly and reorder the Dense weights' columns to match,
 * column c*H*W + h*W + w taking the weight of TF's column (h*W + w)*C + c.
 */
export function flattenIntoDense(graph: Graph): Graph {
  const idx = new GraphIndex(graph);
  const constants = new Map(graph.constants);
  const removed = new Set<Layer>();
  const replaced = new Map<Layer, Layer>();
  for (const t of graph.layers) {
    if (t.op !== 'transpose' || t.perm.join() !== NHWC_FROM_NCHW.join()) continue;
    const [, c, h, w] = graph.shapes.get(t.inputs[0]!) ?? [];
    if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') continue;
    const flat = idx.soleReader(t.outputs[0]!);
    if (!flat || !flattensToRows(flat, graph.shapes.get(flat.outputs[0]!), c * h * w)) continue;
    const denses = idx.readers.get(flat.outputs[0]!) ?? [];
    const ok = !idx.outputs.has(flat.outputs[0]!) && denses.every((d) => d.op === 'dense' && d.inputs[0] === flat.outputs[0] && constants.get(d.inputs[1]!)?.shape[1] === c * h * w);
    if (!ok || denses.length === 0) continue;
    for (const d of denses) {
      const name = `${d.inputs[1]}.nchw_order`;
      if (!constants.has(name)) constants.set(name, reorderColumns(constants.get(d.inputs[1]!)!, c, h, w));
      replaced.set(d, { ...d, inputs: [d.inputs[0]!, name, ...d.inputs.slice(2)] });
    }
    removed.add(t);
    replaced.set(flat, { name: flat.name, op: 'flatten', axis: 1, inputs: [t.inputs[0]!], outputs: flat.outputs });
  }
  if (removed.size === 0) return graph;
  const g = withLayers({ ...graph, constants }, graph.layers.filter((l) => !removed.has(l)).map((l) => replaced.get(l) ?? l));
  inferGraphShapes(g);
  return g;
}

/** Flatten(axis 1), or a Reshape whose result is [batch, k]. */
function flattensToRows(layer: Layer, outShape: readonly (number | string)[] | undefined, k: number): boolean {
  if (layer.op === 'flatten') return layer.axis === 1;
  return layer.op === 'reshape' && outShape?.length === 2 && outShape[1] === k;
}

function reorderColumns(wt: { shape: number[]; data: Float32Array }, c: number, h: number, w: number): { shape: number[]; data: Float32Array } {
  const units = wt.shape[0]!;
  const k = c * h * w;
  const out = new Float32Array(wt.data.length);
  for (let u = 0; u < units; u++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) out[u * k + ch * h * w + p] = wt.data[u * k + p * c + ch]!;
    }
  }
  return { shape: wt.shape, data: out };
}
