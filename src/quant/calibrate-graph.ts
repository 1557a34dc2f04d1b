import { runGraph } from '../cpu/float-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { QuantConfigError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { TensorStats } from './calibration/tensor-stats.js';

/** Statistics of every tensor of a (prepared) graph over the calibration images. */
export interface CalibrationStats {
  images: number;
  tensors: Map<string, TensorStats>;
}

/**
 * Run the float executor over a stream of calibration batches and fold every
 * tensor (graph inputs and each layer's outputs) into streaming statistics;
 * memory stays that of one batch plus a fixed histogram per tensor.
 */
export async function collectStats(
  graph: Graph,
  batches: AsyncIterable<Tensor> | Iterable<Tensor>,
  onProgress?: (images: number) => void,
): Promise<CalibrationStats> {
  const tensors = new Map<string, TensorStats>();
  const stat = (name: string): TensorStats => {
    let s = tensors.get(name);
    if (!s) tensors.set(name, (s = new TensorStats()));
    return s;
  };
  const inputName = graph.inputs[0]!.name;
  let images = 0;
  for await (const x of batches) {
    stat(inputName).observe(x.data);
    runGraph(graph, { [inputName]: x }, {
      onLayer: (li, outs) => graph.layers[li]!.outputs.forEach((o, k) => stat(o).observe(outs[k]!.data)),
    });
    images += x.shape[0]!;
    onProgress?.(images);
  }
  if (images === 0) throw new QuantConfigError('calibration saw no images');
  return { images, tensors };
}
