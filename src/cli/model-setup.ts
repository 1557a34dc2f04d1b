import { readFileSync } from 'node:fs';
import type { ImageLayout, ImageSize } from '../data/dataset.js';
import { openDataset } from '../data/open-dataset.js';
import { InputError, QuantConfigError } from '../errors.js';
import { imageInput } from '../eval/evaluate.js';
import type { Graph } from '../ir/graph.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../io/image.js';
import { cardPreprocessing, readModelCard, type ModelCard } from '../model/model-card.js';
import { loadModelFile } from '../model/load-model-file.js';
import type { ExecutorChoice } from '../executor/executor.js';
import { collectStats, type CalibrationStats } from '../quant/calibrate-graph.js';
import { statsFromFile } from '../quant/calibration/stats-file.js';
import type { TensorStats } from '../quant/calibration/tensor-stats.js';
import { prepareForQuantization } from '../quant/prepare.js';
import { noteFallback } from './options.js';
import { progressBar, type Progress } from './progress.js';

/** A model as the quantizing commands use it: prepared graph, card, preprocessing and image size. */
export interface ModelSetup {
  path: string;
  graph: Graph;
  card: ModelCard | undefined;
  pre: Preprocessing;
  size: ImageSize;
  /** The input's layout: datasets hand out batches in it (`ds.batches(n, m.size, m.pre, m.layout)`). */
  layout: ImageLayout;
}

export function setupModel(path: string): ModelSetup {
  const graph = prepareForQuantization(loadModelFile(path));
  const card = readModelCard(path);
  let pre = cardPreprocessing(card);
  if (!pre) {
    pre = DEFAULT_PREPROCESSING;
    process.stderr.write(`note: ${path} has no model card with input.scale/mean/std; feeding pixel/255\n`);
  }
  return { path, graph, card, pre, ...imageInput(graph, card?.input?.layout) };
}

/** Calibration statistics over the first `images` training images of a dataset. */
export async function calibrateModel(m: ModelSetup, data: string, images: number, bar: Progress, executor: ExecutorChoice = 'auto'): Promise<CalibrationStats> {
  const ds = await openDataset(data, 'train', images);
  async function* batches() {
    for await (const b of ds.batches(64, m.size, m.pre, m.layout)) yield b.x;
  }
  return collectStats(m.graph, batches(), { onProgress: (n) => bar.update(n, ds.count), executor, onFallback: noteFallback });
}

export function readStatsFile(path: string): { tensors: Map<string, TensorStats>; calibrator?: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new InputError(`cannot read ${path}: ${code}`);
    throw new QuantConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const tensors = statsFromFile(json);
  const calibrator = (json as { calibrator?: unknown }).calibrator;
  return { tensors, ...(typeof calibrator === 'string' ? { calibrator } : {}) };
}

/**
 * The statistics a quantizing command works from: the `--stats` file, or a
 * calibration now on the first `images` training images of `data` (with a
 * progress bar), and the calibrator the file records.
 */
export async function statsFor(
  m: ModelSetup,
  o: { stats?: string; data?: string; images: number; json?: boolean; executor?: ExecutorChoice },
): Promise<{ tensors: Map<string, TensorStats>; calibrator?: string }> {
  if (o.stats !== undefined) return readStatsFile(o.stats);
  if (o.data === undefined) throw new InputError('calibration needs --stats or --data');
  const bar = progressBar('calibrate', Boolean(o.json));
  try {
    return { tensors: (await calibrateModel(m, o.data, o.images, bar, o.executor)).tensors };
  } finally {
    bar.stop();
  }
}
