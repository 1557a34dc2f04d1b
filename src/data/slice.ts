import { InputError } from '../errors.js';
import type { LabelledImages } from './dataset.js';

/**
 * A slice of a labelled image set as one flat file, for the page (which has
 * no file system and no IDX reader): every image's pixels (count x channels
 * x height x width bytes, in dataset order) then every label (count bytes).
 * Its dimensions and class names travel in a JSON manifest beside it.
 */
export interface SliceMeta {
  /** The dataset's name as the CLI spells it (`--data fashion-mnist`). */
  dataset: string;
  split: 'train' | 'test';
  count: number;
  channels: number;
  height: number;
  width: number;
  classes?: string[];
}

export function encodeSlice(set: LabelledImages, count: number): Uint8Array {
  const n = Math.min(count, set.count);
  const per = set.channels * set.height * set.width;
  const out = new Uint8Array(n * (per + 1));
  out.set(set.pixels.subarray(0, n * per), 0);
  out.set(set.labels.subarray(0, n), n * per);
  return out;
}

export function decodeSlice(bytes: Uint8Array, meta: SliceMeta): LabelledImages {
  const per = meta.channels * meta.height * meta.width;
  if (bytes.length !== meta.count * (per + 1)) {
    throw new InputError(`${meta.dataset} (${meta.split}): ${bytes.length} bytes, expected ${meta.count} images of ${meta.channels}x${meta.height}x${meta.width} and their labels (${meta.count * (per + 1)})`);
  }
  return {
    name: `${meta.dataset} (${meta.split})`,
    count: meta.count,
    channels: meta.channels,
    height: meta.height,
    width: meta.width,
    pixels: bytes.subarray(0, meta.count * per),
    labels: bytes.subarray(meta.count * per),
    ...(meta.classes ? { classes: meta.classes } : {}),
  };
}
