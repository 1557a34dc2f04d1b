import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/cpu/tensor.js';
import { batchTensor, type LabelledImages } from '../../src/data/dataset.js';
import { readDigits } from '../../src/data/digits.js';
import { readIdxImages } from '../../src/data/fashion-mnist.js';
import { cardPreprocessing, readModelCard, type ModelCard } from '../../src/model/model-card.js';

export const MODELS_DIR = join(import.meta.dirname, '../../models');

export interface ZooModel {
  name: string;
  path: string;
  card: ModelCard;
}

export function zooModels(): ZooModel[] {
  return readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => {
      const path = join(MODELS_DIR, f);
      const card = readModelCard(path);
      if (!card) throw new Error(`${path} has no model card`);
      return { name: f.replace(/\.onnx$/, ''), path, card };
    });
}

const cache = new Map<string, Promise<LabelledImages>>();

export function testSet(dataset: string | undefined): Promise<LabelledImages> {
  const key = dataset ?? '';
  if (!cache.has(key)) cache.set(key, dataset === 'digits' ? Promise.resolve(readDigits('test')) : readIdxImages('test'));
  return cache.get(key)!;
}

/** `n` real test images of the model's dataset, preprocessed as its card says. */
export async function realInputs(model: ZooModel, start: number, n: number): Promise<Tensor> {
  const pre = cardPreprocessing(model.card);
  if (!pre) throw new Error(`${model.name}: card has no preprocessing`);
  return batchTensor(await testSet(model.card.dataset), start, n, pre);
}

export function modelBytes(model: ZooModel): Uint8Array {
  return new Uint8Array(readFileSync(model.path));
}
