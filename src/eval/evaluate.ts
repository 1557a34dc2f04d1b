import type { Tensor } from '../cpu/tensor.js';
import type { ImageDataset, ImageSize } from '../data/dataset.js';
import { InputError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { Preprocessing } from '../io/image.js';

/** Runs one batch through a model and returns its logits [batch, classes]. */
export type Predictor = (x: Tensor) => Promise<Tensor> | Tensor;

export interface EvalProgress {
  done: number;
  total: number;
  correct: number;
}

export interface EvalResult {
  images: number;
  correct: number;
  /** Top-1 accuracy, a fraction. */
  accuracy: number;
  seconds: number;
  /** Top-1 class of every image, in dataset order (for agreement between backends). */
  predictions: Int32Array;
}

/** Channels, height and width of a graph's single NCHW image input. */
export function imageInputSize(graph: Graph): ImageSize {
  if (graph.inputs.length !== 1) throw new InputError(`evaluation needs a model with one image input; this one has ${graph.inputs.length}`);
  const s = graph.inputs[0]!.shape;
  const [, c, h, w] = s;
  if (s.length !== 4 || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw new InputError(`evaluation needs an NCHW input of known size; '${graph.inputs[0]!.name}' is [${s.join(',')}]`);
  }
  return [c, h, w];
}

export function argmaxRows(t: Tensor): Int32Array {
  const rows = t.shape[0]!;
  const cols = t.data.length / rows;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (t.data[r * cols + c]! > t.data[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Top-1 accuracy of a predictor over a dataset, batch by batch. */
export async function evaluate(
  predict: Predictor,
  dataset: ImageDataset,
  size: ImageSize,
  pre: Preprocessing,
  options: { batchSize?: number; onProgress?: (p: EvalProgress) => void } = {},
): Promise<EvalResult> {
  const t0 = performance.now();
  const predictions = new Int32Array(dataset.count);
  let done = 0;
  let correct = 0;
  for await (const batch of dataset.batches(options.batchSize ?? 64, size, pre)) {
    const top = argmaxRows(await predict(batch.x));
    top.forEach((p, i) => {
      predictions[done + i] = p;
      if (p === batch.labels[i]) correct++;
    });
    done += top.length;
    options.onProgress?.({ done, total: dataset.count, correct });
  }
  return { images: done, correct, accuracy: done === 0 ? 0 : correct / done, seconds: (performance.now() - t0) / 1000, predictions };
}
