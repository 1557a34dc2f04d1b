import type { Graph } from '../graph.js';
import type { Layer } from '../layers.js';
import { GraphIndex, withLayers } from './graph-index.js';

/**
 * Fold a zero Pad of the spatial axes into the Conv that reads it (Keras'
 * ZeroPadding2D before a VALID convolution, as in MobileNetV2): the
 * convolution's own padding reads zeros too, and in the integer kernels the
 * input's zero point, which is what a padded real zero quantizes to. Only a
 * constant-mode Pad of value 0 with no batch or channel padding and no
 * cropping, read by the Conv alone, into a Conv with explicit or VALID pads.
 */
export function foldPad(graph: Graph): Graph {
  const idx = new GraphIndex(graph);
  const removed = new Set<Layer>();
  const replaced = new Map<Layer, Layer>();
  for (const pad of graph.layers) {
    if (pad.op !== 'pad' || pad.mode !== 'constant' || pad.value !== 0 || pad.pads.length !== 8) continue;
    const [nb, cb, top, left, ne, ce, bottom, right] = pad.pads as [number, number, number, number, number, number, number, number];
    if (nb !== 0 || cb !== 0 || ne !== 0 || ce !== 0 || Math.min(top, left, bottom, right) < 0) continue;
    const conv = idx.soleReader(pad.outputs[0]!);
    if (conv === undefined || conv.op !== 'conv' || conv.inputs[0] !== pad.outputs[0] || (conv.autoPad !== 'NOTSET' && conv.autoPad !== 'VALID')) continue;
    const own = conv.autoPad === 'VALID' ? [0, 0, 0, 0] : conv.pads;
    replaced.set(conv, {
      ...conv,
      autoPad: 'NOTSET',
      pads: [own[0]! + top, own[1]! + left, own[2]! + bottom, own[3]! + right],
      inputs: [pad.inputs[0]!, ...conv.inputs.slice(1)],
    });
    removed.add(pad);
  }
  if (removed.size === 0) return graph;
  return withLayers(graph, graph.layers.filter((l) => !removed.has(l)).map((l) => replaced.get(l) ?? l));
}
