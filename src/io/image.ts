import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import type { Tensor } from '../cpu/tensor.js';

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits a channel, row-major. */
  data: Uint8Array;
}

/** How pixels become the model's numbers: value = (pixel * scale - mean[c]) / std[c]. */
export interface Preprocessing {
  scale: number;
  mean: number[];
  std: number[];
}

export const DEFAULT_PREPROCESSING: Preprocessing = { scale: 1 / 255, mean: [0], std: [1] };

export function decodeImage(bytes: Uint8Array, what: string): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new InputError(`${what}: cannot decode the image (${(e as Error).message})`);
  }
  throw new InputError(`${what}: not a PNG or JPEG image`);
}

/**
 * An image as an NCHW tensor [1, channels, height, width]: bilinear resize
 * (pixel centres aligned), grey as luma (BT.601) when the model takes one channel.
 */
export function imageToTensor(img: RgbaImage, channels: number, height: number, width: number, pre: Preprocessing): Tensor {
  if (channels !== 1 && channels !== 3) throw new InputError(`images feed models with 1 or 3 input channels, this one has ${channels}`);
  const out = new Float32Array(channels * height * width);
  const sx = img.width / width;
  const sy = img.height / height;
  const px = (x: number, y: number, c: number): number => img.data[(y * img.width + x) * 4 + c]!;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      const sample = (c: number): number =>
        (px(x0, y0, c) * (1 - wx) + px(x1, y0, c) * wx) * (1 - wy) + (px(x0, y1, c) * (1 - wx) + px(x1, y1, c) * wx) * wy;
      const rgb = [sample(0), sample(1), sample(2)];
      const values = channels === 1 ? [0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!] : rgb;
      values.forEach((v, c) => {
        const mean = pre.mean[c] ?? pre.mean[0] ?? 0;
        const std = pre.std[c] ?? pre.std[0] ?? 1;
        out[(c * height + y) * width + x] = (v * pre.scale - mean) / std;
      });
    }
  }
  return { shape: [1, channels, height, width], data: out };
}
