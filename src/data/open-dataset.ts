import { existsSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { inMemoryDataset, type ImageDataset } from './dataset.js';
import { readDigits } from './digits.js';
import { FASHION_MNIST_DIR, isIdxFolder, readIdxImages } from './fashion-mnist.js';
import { imageFolderDataset } from './image-folder.js';

export const DATASET_NAMES = ['fashion-mnist', 'digits'] as const;

/**
 * A dataset by name (`fashion-mnist`, `digits`) or path (a folder of IDX
 * files, or a folder of labelled image subfolders). Evaluation uses the test
 * split; calibration draws from the training split (its first `limit`
 * images: both files come shuffled, so the first images cover every class).
 */
export async function openDataset(spec: string, split: 'train' | 'test', limit = Infinity): Promise<ImageDataset> {
  if (spec === 'fashion-mnist') return inMemoryDataset(await readIdxImages(split, FASHION_MNIST_DIR, limit));
  if (spec === 'digits') return inMemoryDataset(readDigits(split, undefined, limit));
  if (!existsSync(spec)) throw new InputError(`dataset '${spec}' is neither ${DATASET_NAMES.join(' nor ')} nor an existing folder`);
  if (!statSync(spec).isDirectory()) throw new InputError(`dataset ${spec} is a file; give a folder of IDX files or of labelled image subfolders`);
  if (isIdxFolder(spec)) return inMemoryDataset(await readIdxImages(split, spec, limit));
  return imageFolderDataset(spec, limit);
}
