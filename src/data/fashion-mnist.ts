import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { LabelledImages } from './dataset.js';
import { readIdxFile } from './idx.js';

/** Debian's `dataset-fashion-mnist` puts the four IDX files here. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function idxPath(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new InputError(
    `${join(dir, base)}[.gz] not found` + (dir === FASHION_MNIST_DIR ? '; install it with: apt-get install -y dataset-fashion-mnist' : ''),
  );
}

/** The train (60,000) or test (10,000) split of an MNIST-style IDX folder. */
export function readIdxImages(split: 'train' | 'test', dir = FASHION_MNIST_DIR): LabelledImages {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdxFile(idxPath(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdxFile(idxPath(dir, `${prefix}-labels-idx1-ubyte`));
  if (images.dims.length !== 3) throw new InputError(`${dir}: images must be [count, height, width], got [${images.dims}]`);
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new InputError(`${dir}: ${labels.dims[0]} labels for ${images.dims[0]} images`);
  }
  return { name: `${dir} (${split})`, count: images.dims[0]!, channels: 1, height: images.dims[1]!, width: images.dims[2]!, pixels: images.data, labels: labels.data };
}
