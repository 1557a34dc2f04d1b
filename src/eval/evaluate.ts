import type { Tensor } from '../cpu/tensor.js';
import type { ImageDataset, ImageLayout, ImageSize } from '../data/dataset.js';
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

/**
 * The size and layout of a graph's single image input: [N, C, H, W] with 1 or
 * 3 channels is NCHW; [N, H, W, C] with 1 or 3 channels last is NHWC (TF.js
 * models). `layout` (a model card's `input.layout`) settles shapes that read
 * both ways. Height and width must be known (fix them with `--shape`).
 */
export function imageInput(graph: Graph, layout?: string): { size: ImageSize; layout: ImageLayout } {
  if (graph.inputs.length !== 1) throw new InputError(`evaluation needs a model with one image input; this one has ${graph.inputs.length}`);
  return imageInputOf(graph.inputs[0]!, layout);
}

/** The size and layout of one image input: channels (1 or 3) first (NCHW) or last (NHWC); `layout` breaks a tie (a 3x3x3 input). */
export function imageInputOf(input: { readonly name: string; readonly shape: readonly (number | string)[] }, layout?: string): { size: ImageSize; layout: ImageLayout } {
  const s = input.shape;
  const known = s.length === 4 && s.slice(1).every((d) => typeof d === 'number');
  const [, a, b, c] = s as [unknown, number, number, number];
  const first = known && (a === 1 || a === 3);
  const last = known && (c === 1 || c === 3);
  if (first && (layout !== 'NHWC' || !last)) return { size: [a, b, c], layout: 'NCHW' };
  if (last) return { size: [c, a, b], layout: 'NHWC' };
  throw new InputError(`an image needs an input of known size with 1 or 3 channels, first (NCHW) or last (NHWC); '${input.name}' is [${s.join(',')}] (fix its size with --shape)`);
}

/** Channels, height and width of a graph's single image input (either layout). */
export function imageInputSize(graph: Graph): ImageSize {
  return imageInput(graph).size;
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

/** Top-1 accuracy of a predictor over a dataset, batch by batch (fed in the model's `layout`, default NCHW). */
export async function evaluate(
  predict: Predictor,
  dataset: ImageDataset,
  size: ImageSize,
  pre: Preprocessing,
  options: { batchSize?: number; onProgress?: (p: EvalProgress) => void; layout?: ImageLayout } = {},
): Promise<EvalResult> {
  const t0 = performance.now();
  const predictions = new Int32Array(dataset.count);
  let done = 0;
  let correct = 0;
  for await (const batch of dataset.batches(options.batchSize ?? 64, size, pre, options.layout)) {
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
