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
  /** The model's fixed batch, where it has one: every batch has this size, and a short last one is left out. */
  readonly batch?: number;
}

/** Images [start, start + count) of a split as batches in the model's layout, with their labels. */
export async function loadEvalSet(data: string, split: 'train' | 'test', start: number, count: number, m: ModelInput, name: string, batchSize = 250): Promise<EvalSet> {
  const ds = await openDataset(data, split, count, start);
  const batches: Tensor[] = [];
  const labels: number[] = [];
  for await (const b of ds.batches(m.batch ?? batchSize, m.size, m.pre, m.layout)) {
    if (m.batch !== undefined && b.x.shape[0] !== m.batch) continue;
    batches.push(b.x);
    labels.push(...b.labels);
  }
  if (labels.length === 0) throw new InputError(`${data}: no ${split} images from ${start} on for the ${name} set`);
  return { name, batches, labels: Int32Array.from(labels), ...(m.batch === undefined ? {} : { batch: m.batch }) };
}

/** The validation set: the training images after the calibration ones, never the test split. */
export function validationSet(data: string, plan: SplitPlan, m: ModelInput): Promise<EvalSet> {
  return loadEvalSet(data, 'train', plan.calibration, plan.validation, m, 'validation');
}

export function testSet(data: string, plan: SplitPlan, m: ModelInput): Promise<EvalSet> {
  return loadEvalSet(data, 'test', 0, plan.test, m, 'test');
}

/**
 * A set cut in two at image `n`: the first `n` images and the rest (a batch
 * that straddles the cut is sliced). The search chooses on the first part
 * and confirms on the second, which nothing before the confirmation saw.
 */
export function splitEvalSet(set: EvalSet, cut: number, names: readonly [string, string]): [EvalSet, EvalSet] {
  // A fixed-batch model takes whole batches only: cut at the nearest batch boundary.
  const n = set.batch === undefined ? cut : Math.round(cut / set.batch) * set.batch;
  if (!(Number.isInteger(n) && n > 0 && n < set.labels.length)) throw new InputError(`cannot split the ${set.labels.length} images of the ${set.name} set at ${n}${set.batch === undefined ? '' : ` (whole batches of ${set.batch})`}`);
  const first: Tensor[] = [];
  const rest: Tensor[] = [];
  let at = 0;
  for (const b of set.batches) {
    const rows = b.shape[0]!;
    const per = b.data.length / rows;
    const k = Math.max(0, Math.min(rows, n - at));
    if (k > 0) first.push(k === rows ? b : { shape: [k, ...b.shape.slice(1)], data: b.data.subarray(0, k * per) });
    if (k < rows) rest.push(k === 0 ? b : { shape: [rows - k, ...b.shape.slice(1)], data: b.data.subarray(k * per) });
    at += rows;
  }
  const batch = set.batch === undefined ? {} : { batch: set.batch };
  return [
    { name: names[0], batches: first, labels: set.labels.subarray(0, n), ...batch },
    { name: names[1], batches: rest, labels: set.labels.subarray(n), ...batch },
  ];
}
