import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '../../src/cpu/tensor.js';
import type { TfjsArtifacts } from '../../src/import/tfjs/index.js';
import { decodeImage, imageToTensor, type Preprocessing } from '../../src/io/image.js';

/** Real photos (scikit-image's sample data) for the TF.js comparisons. */
export const PHOTO_DIR = '/usr/lib/python3/dist-packages/skimage/data';
/** The real photos must be there: a missing package fails the tests with the command that installs it. */
export function requirePhotos(): void {
  if (!existsSync(join(PHOTO_DIR, 'astronaut.png'))) {
    throw new Error(`real photos not found in ${PHOTO_DIR}; install them with: apt-get install -y python3-skimage`);
  }
}

interface ModelJson {
  format?: string;
  modelTopology: object;
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
}

/** Run a model in @tensorflow/tfjs itself (CPU backend): the reference our import must match. */
export async function tfjsReference(artifacts: TfjsArtifacts, kind: 'layers' | 'graph'): Promise<(x: Tensor, outputs?: string[]) => Promise<Tensor[]>> {
  await tf.setBackend('cpu');
  const json = artifacts.modelJson as ModelJson;
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: artifacts.weightData,
    ...(json.format ? { format: json.format } : {}),
  });
  const model = kind === 'layers' ? await tf.loadLayersModel(handler) : await tf.loadGraphModel(handler);
  return async (x, outputs) => {
    const input = tf.tensor(x.data, x.shape);
    const y = model instanceof tf.GraphModel ? model.execute(input, outputs) : model.predict(input);
    const list = Array.isArray(y) ? y : [y];
    const result = await Promise.all(list.map(async (t) => ({ shape: t.shape, data: Float32Array.from(await t.data()) })));
    tf.dispose([input, ...list]);
    return result;
  };
}

export { relativeError } from './compare.js';

/** Photos as one NHWC batch [n, h, w, channels], as TF.js users feed them. */
export function photoBatch(files: readonly string[], h: number, w: number, channels: number, pre: Preprocessing): Tensor {
  const per = h * w * channels;
  const data = new Float32Array(files.length * per);
  files.forEach((f, n) => {
    const img = decodeImage(new Uint8Array(readFileSync(join(PHOTO_DIR, f))), f);
    const chw = imageToTensor(img, channels, h, w, pre).data;
    for (let c = 0; c < channels; c++) for (let p = 0; p < h * w; p++) data[n * per + p * channels + c] = chw[c * h * w + p]!;
  });
  return { shape: [files.length, h, w, channels], data };
}

/** Index of the largest value of each row of a [n, k] tensor. */
export function argmaxRows(t: Tensor): number[] {
  const k = t.shape[t.shape.length - 1]!;
  return Array.from({ length: t.data.length / k }, (_, r) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (t.data[r * k + j]! > t.data[r * k + best]!) best = j;
    return best;
  });
}
