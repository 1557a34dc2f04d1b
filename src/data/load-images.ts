import type { Tensor } from '../cpu/tensor.js';
import { imageInput } from '../eval/evaluate.js';
import { layoutShape } from './dataset.js';
import type { Graph } from '../ir/graph.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../io/image.js';
import { cardPreprocessing, readModelCard } from '../model/model-card.js';
import { openDataset } from './open-dataset.js';

export interface LoadImagesOptions {
  /** `train` (calibration) or `test` (evaluation); default test. */
  readonly split?: 'train' | 'test';
  /** How many images, from the start of the split. */
  readonly count: number;
  /** The model's file: its card (models/NAME.json) gives the preprocessing; default pixel / 255. */
  readonly modelPath?: string;
}

/**
 * The first `count` images of a dataset (`fashion-mnist`, `digits`, or a
 * folder) as one batch sized, laid out (NCHW or NHWC) and preprocessed for `graph`, with their
 * labels: calibration or test input in one call.
 */
export async function loadImages(data: string, graph: Graph, options: LoadImagesOptions): Promise<{ x: Tensor; labels: Int32Array }> {
  const { size, layout } = imageInput(graph);
  const pre: Preprocessing = (options.modelPath !== undefined ? cardPreprocessing(readModelCard(options.modelPath)) : undefined) ?? DEFAULT_PREPROCESSING;
  const ds = await openDataset(data, options.split ?? 'test', options.count);
  const n = Math.min(options.count, ds.count);
  for await (const b of ds.batches(n, size, pre, layout)) return { x: b.x, labels: Int32Array.from(b.labels) };
  return { x: { shape: layoutShape(0, size, layout), data: new Float32Array(0) }, labels: new Int32Array(0) };
}
