import type { Graph } from '../ir/graph.js';
import { inferGraphShapes } from '../ir/infer-shapes.js';
import type { Activation, Layer } from '../ir/layers.js';
import { equalizeGraph } from '../ir/passes/cross-layer-equalization.js';

export interface PrepareOptions {
  /**
   * Cross-layer equalization (QuantConfig.equalize): the weights are rescaled
   * before calibration measures the tensors, so calibration and quantization
   * must both ask for it. The result's `equalization` says what was done.
   */
  equalize?: boolean;
}

/** Activations that integer kernels apply as clamp bounds of the requantization. */
export function isClampActivation(a: Activation | undefined): boolean {
  return a === undefined || a.kind === 'relu' || a.kind === 'clip';
}

/**
 * The graph that calibration and quantization see: activations that are not
 * clamps (HardSwish, Sigmoid, ...) come out of the layer they were fused into
 * and become layers of their own, since integer kernels apply them as lookup
 * tables between two quantized tensors, each with its own statistics.
 * With `equalize`, cross-layer equalization follows; a graph equalized
 * already is not equalized twice.
 */
export function prepareForQuantization(graph: Graph, options: PrepareOptions = {}): Graph {
  const layers: Layer[] = [];
  for (const layer of graph.layers) {
    if (!('activation' in layer) || isClampActivation(layer.activation)) {
      layers.push(layer);
      continue;
    }
    const pre = `${layer.outputs[0]}__pre_${layer.activation!.kind}`;
    const { activation, ...rest } = layer;
    layers.push({ ...rest, outputs: [pre] } as Layer);
    layers.push({ name: `${layer.name}/${activation!.kind}`, op: 'activation', fn: activation!, inputs: [pre], outputs: [layer.outputs[0]!] });
  }
  const out: Graph = { ...graph, layers, shapes: new Map() };
  inferGraphShapes(out);
  if (!options.equalize || out.equalization) return out;
  // After the split: an activation that is not positive-homogeneous is then a layer of its own that stops a pair.
  const { graph: equalized, summary } = equalizeGraph(out);
  return { ...equalized, equalization: summary };
}
