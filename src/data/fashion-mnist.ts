import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { LabelledImages } from './dataset.js';
import { readIdxFile } from './idx.js';

/** Debian's `dataset-fashion-mnist` puts the four IDX files here. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function idxPath(dir: string, base: string): string | undefined {
  return [`${base}.gz`, base].map((n) => join(dir, n)).find((p) => existsSync(p));
}

/** Whether a folder holds an MNIST-style IDX split. */
export function isIdxFolder(dir: string): boolean {
  return idxPath(dir, 't10k-images-idx3-ubyte') !== undefined || idxPath(dir, 'train-images-idx3-ubyte') !== undefined;
}

/**
 * The train (60,000) or test (10,000) split of an MNIST-style IDX folder;
 * with `limit`, only the first `limit` images are read.
 */
export async function readIdxImages(split: 'train' | 'test', dir = FASHION_MNIST_DIR, limit = Infinity): Promise<LabelledImages> {
  const prefix = split === 'train' ? 'train' : 't10k';
  const find = (base: string): string => {
    const p = idxPath(dir, base);
    if (!p) {
      const hint = dir === FASHION_MNIST_DIR ? '; install it with: apt-get install -y dataset-fashion-mnist' : '';
      throw new InputError(`${join(dir, base)}[.gz] not found${hint}`);
    }
    return p;
  };
  const imagesPath = find(`${prefix}-images-idx3-ubyte`);
  const labelsPath = find(`${prefix}-labels-idx1-ubyte`);
  const [images, labels] = await Promise.all([readIdxFile(imagesPath, limit), readIdxFile(labelsPath, limit)]);
  if (images.dims.length !== 3) throw new InputError(`${imagesPath}: images must be [count, height, width], got [${images.dims}]`);
  if (labels.dims.length !== 1) throw new InputError(`${labelsPath}: labels must be one-dimensional, got [${labels.dims}]`);
  if (labels.dims[0] !== images.dims[0]) {
    throw new InputError(`${labelsPath}: ${labels.dims[0]} labels for the ${images.dims[0]} images of ${imagesPath}`);
  }
  return {
    name: `${dir === FASHION_MNIST_DIR ? 'fashion-mnist' : dir} (${split})`,
    count: images.dims[0]!,
    channels: 1,
    height: images.dims[1]!,
    width: images.dims[2]!,
    pixels: images.data,
    labels: labels.data,
    ...(dir === FASHION_MNIST_DIR ? { classes: FASHION_MNIST_CLASSES } : {}),
  };
}
