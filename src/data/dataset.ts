import { transpose } from '../cpu/layout-ops.js';
import { ShapeError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';
import type { Tensor } from '../cpu/tensor.js';

/** A batch of preprocessed images (in the layout asked for, NCHW by default) with their labels. */
export interface ImageBatch {
  x: Tensor;
  labels: Int32Array;
}

/** Channels, height, width of the images a model takes. */
export type ImageSize = readonly [number, number, number];

/** How a model lays out its image input: channels first (ONNX, PyTorch) or last (TF.js, Keras). */
export type ImageLayout = 'NCHW' | 'NHWC';

/** The input shape of `batch` images of `size` in a layout. */
export function layoutShape(batch: number, [c, h, w]: ImageSize, layout: ImageLayout): number[] {
  return layout === 'NCHW' ? [batch, c, h, w] : [batch, h, w, c];
}

/** An NCHW image batch in another layout (for one channel only the shape changes). */
export function toLayout(x: Tensor, layout: ImageLayout): Tensor {
  if (layout === 'NCHW') return x;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return { shape: [n, h, w, c], data: transpose(x.data, x.shape, [0, 2, 3, 1]) };
}

/** A labelled image set that hands out preprocessed batches in a fixed order. */
export interface ImageDataset {
  name: string;
  count: number;
  classes?: string[];
  batches(batchSize: number, size: ImageSize, pre: Preprocessing, layout?: ImageLayout): AsyncGenerator<ImageBatch>;
}

/** Images already in memory as raw pixels (IDX files, the digits CSV). */
export interface LabelledImages {
  name: string;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** count x channels x height x width raw pixel values (0..255, or 0..16 for digits). */
  pixels: Uint8Array;
  labels: Uint8Array;
  classes?: string[];
}

/** Images [start, start + n) as an NCHW float tensor: (pixel * scale - mean) / std. */
export function batchTensor(set: LabelledImages, start: number, n: number, pre: Preprocessing): Tensor {
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

export function inMemoryDataset(set: LabelledImages): ImageDataset {
  return {
    name: set.name,
    count: set.count,
    ...(set.classes ? { classes: set.classes } : {}),
    async *batches(batchSize, size, pre, layout = 'NCHW') {
      const [c, h, w] = size;
      if (c !== set.channels || h !== set.height || w !== set.width) {
        throw new ShapeError(`${set.name} holds ${set.channels}x${set.height}x${set.width} images, the model takes ${c}x${h}x${w}`);
      }
      for (let start = 0; start < set.count; start += batchSize) {
        const n = Math.min(batchSize, set.count - start);
        yield { x: toLayout(batchTensor(set, start, n, pre), layout), labels: Int32Array.from(set.labels.subarray(start, start + n)) };
      }
    },
  };
}
