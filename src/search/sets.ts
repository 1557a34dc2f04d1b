import type { Tensor } from '../cpu/tensor.js';
import type { ImageLayout, ImageSize } from '../data/dataset.js';
import { openDataset } from '../data/open-dataset.js';
import { InputError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';
import type { EvalSet } from './evaluator.js';

/** Where a search's three sets of images come from: calibration and validation from the training split, disjoint; test from the test split. */
export interface SplitPlan {
  readonly calibration: number;
  readonly validation: number;
  /** Test images (the first N of the test split; Infinity for all). */
  readonly test: number;
}

export interface ModelInput {
  readonly size: ImageSize;
  readonly layout: ImageLayout;
  readonly pre: Preprocessing;
}

/** Images [start, start + count) of a split as batches in the model's layout, with their labels. */
export async function loadEvalSet(data: string, split: 'train' | 'test', start: number, count: number, m: ModelInput, name: string, batchSize = 250): Promise<EvalSet> {
  const ds = await openDataset(data, split, count, start);
  const batches: Tensor[] = [];
  const labels: number[] = [];
  for await (const b of ds.batches(batchSize, m.size, m.pre, m.layout)) {
    batches.push(b.x);
    labels.push(...b.labels);
  }
  if (labels.length === 0) throw new InputError(`${data}: no ${split} images from ${start} on for the ${name} set`);
  return { name, batches, labels: Int32Array.from(labels) };
}

/** The validation set: the training images after the calibration ones, never the test split. */
export function validationSet(data: string, plan: SplitPlan, m: ModelInput): Promise<EvalSet> {
  return loadEvalSet(data, 'train', plan.calibration, plan.validation, m, 'validation');
}

export function testSet(data: string, plan: SplitPlan, m: ModelInput): Promise<EvalSet> {
  return loadEvalSet(data, 'test', 0, plan.test, m, 'test');
}
