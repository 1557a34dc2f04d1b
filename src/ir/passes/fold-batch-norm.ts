import type { Graph } from '../graph.js';
import type { Layer } from '../layers.js';
import { GraphIndex, withLayers } from './graph-index.js';

/**
 * Fold a BatchNormalization into the Conv or Dense before it:
 * w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps), per output channel.
 * Only when the layer's weights are constants, the BatchNorm is its only reader
 * and it carries no activation yet. The layer keeps the batch-norm's beta and
 * |gamma| as its output distribution (see ChannelDistribution).
 */
export function foldBatchNorm(graph: Graph): Graph {
  const idx = new GraphIndex(graph);
  const constants = new Map(graph.constants);
  const removed = new Set<Layer>();
  const replaced = new Map<Layer, Layer>();
  for (const bn of graph.layers) {
    if (bn.op !== 'batchNorm' || bn.activation) continue;
    const prev = idx.producer.get(bn.inputs[0]!);
    if (!prev || (prev.op !== 'conv' && prev.op !== 'dense') || prev.activation || idx.soleReader(prev.outputs[0]!) !== bn) continue;
    const params = bn.inputs.slice(1).map((n) => idx.constant(n));
    const w = graph.constants.get(prev.inputs[1]!);
    if (!w || params.some((p) => !p) || (prev.inputs[2] && !idx.constant(prev.inputs[2]))) continue;
    if (prev.op === 'dense' && w.shape.length !== 2) continue;
    const [gamma, beta, mean, variance] = params as Float32Array[];
    const m = w.shape[0]!;
    if (gamma!.length !== m) continue;
    const per = w.data.length / m;
    const oldBias = prev.inputs[2] ? idx.constant(prev.inputs[2])! : new Float32Array(m);
    const nw = new Float32Array(w.data.length);
    const nb = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      const s = gamma![o]! / Math.sqrt(variance![o]! + bn.epsilon);
      for (let k = 0; k < per; k++) nw[o * per + k] = w.data[o * per + k]! * s;
      nb[o] = (oldBias[o]! - mean![o]!) * s + beta![o]!;
    }
    const wName = `${prev.name}.folded_weight`;
    const bName = `${prev.name}.folded_bias`;
    constants.set(wName, { shape: w.shape, data: nw });
    constants.set(bName, { shape: [m], data: nb });
    const outputDistribution = { mean: Float32Array.from(beta!), std: gamma!.map(Math.abs) };
    replaced.set(prev, { ...prev, inputs: [prev.inputs[0]!, wName, bName], outputs: bn.outputs, outputDistribution });
    removed.add(bn);
  }
  if (removed.size === 0) return graph;
  const layers = graph.layers.filter((l) => !removed.has(l)).map((l) => replaced.get(l) ?? l);
  return withLayers({ ...graph, constants }, layers);
}
