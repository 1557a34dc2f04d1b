import { existsSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { inMemoryDataset, type ImageDataset, type LabelledImages } from './dataset.js';
import { readDigits } from './digits.js';
import { FASHION_MNIST_DIR, isIdxFolder, readIdxImages } from './fashion-mnist.js';
import { imageFolderDataset } from './image-folder.js';

export const DATASET_NAMES = ['fashion-mnist', 'digits'] as const;

/**
 * A dataset by name (`fashion-mnist`, `digits`) or path (a folder of IDX
 * files, or a folder of labelled image subfolders). Evaluation uses the test
 * split; calibration draws from the training split (its first `limit`
 * images: both files come shuffled, so the first images cover every class).
 * `start` skips images first: a search's validation images follow its
 * calibration images in the training split, so the two never overlap.
 */
export async function openDataset(spec: string, split: 'train' | 'test', limit = Infinity, start = 0): Promise<ImageDataset> {
  if (spec === 'fashion-mnist') return inMemoryDataset(skip(await readIdxImages(split, FASHION_MNIST_DIR, start + limit), start));
  if (spec === 'digits') return inMemoryDataset(skip(readDigits(split, undefined, start + limit), start));
  if (!existsSync(spec)) throw new InputError(`dataset '${spec}' is neither ${DATASET_NAMES.join(' nor ')} nor an existing folder`);
  if (!statSync(spec).isDirectory()) throw new InputError(`dataset ${spec} is a file; give a folder of IDX files or of labelled image subfolders`);
  if (isIdxFolder(spec)) return inMemoryDataset(skip(await readIdxImages(split, spec, start + limit), start));
  return imageFolderDataset(spec, limit, start);
}

/** The images of a set from `start` on. */
function skip(set: LabelledImages, start: number): LabelledImages {
  if (start === 0) return set;
  const per = set.channels * set.height * set.width;
  const from = Math.min(start, set.count);
  return { ...set, count: set.count - from, pixels: set.pixels.subarray(from * per), labels: set.labels.subarray(from) };
}
