import { InputError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';
import type { Tensor } from '../cpu/tensor.js';

/** A labelled image set held as bytes; images become tensors batch by batch. */
export interface LabelledImages {
  name: string;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** count x channels x height x width raw pixel values (0..255, or 0..16 for digits). */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Images [start, start + n) as an NCHW float tensor: (pixel * scale - mean) / std. */
export function batchTensor(set: LabelledImages, start: number, n: number, pre: Preprocessing): Tensor {
  if (start < 0 || start + n > set.count) throw new InputError(`${set.name}: images ${start}..${start + n - 1} are out of range (0..${set.count - 1})`);
  const per = set.channels * set.height * set.width;
  const plane = set.height * set.width;
  const data = new Float32Array(n * per);
  for (let i = 0; i < n * per; i++) {
    const c = Math.floor(i / plane) % set.channels;
    const mean = pre.mean[c] ?? pre.mean[0] ?? 0;
    const std = pre.std[c] ?? pre.std[0] ?? 1;
    data[i] = (set.pixels[start * per + i]! * pre.scale - mean) / std;
  }
  return { shape: [n, set.channels, set.height, set.width], data };
}
