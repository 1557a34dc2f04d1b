import type { Tensor } from '../cpu/tensor.js';
import { imageInputSize } from '../eval/evaluate.js';
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
 * folder) as one NCHW batch sized and preprocessed for `graph`, with their
 * labels: calibration or test input in one call.
 */
export async function loadImages(data: string, graph: Graph, options: LoadImagesOptions): Promise<{ x: Tensor; labels: Int32Array }> {
  const size = imageInputSize(graph);
  const pre: Preprocessing = (options.modelPath !== undefined ? cardPreprocessing(readModelCard(options.modelPath)) : undefined) ?? DEFAULT_PREPROCESSING;
  const ds = await openDataset(data, options.split ?? 'test', options.count);
  const n = Math.min(options.count, ds.count);
  for await (const b of ds.batches(n, size, pre)) return { x: b.x, labels: Int32Array.from(b.labels) };
  return { x: { shape: [0, ...size], data: new Float32Array(0) }, labels: new Int32Array(0) };
}
