import { existsSync, readFileSync } from 'node:fs';
import { ModelFormatError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';

/** The JSON card beside a zoo model (same base name): what the model is and how to feed it. */
export interface ModelCard {
  name?: string;
  architecture?: string;
  dataset?: string;
  input?: { name?: string; shape?: Array<number | string>; layout?: string } & Partial<Preprocessing>;
  classes?: string[];
  floatAccuracy?: number;
  parameters?: number;
  macs?: number;
}

export function cardPathFor(modelPath: string): string {
  return modelPath.replace(/\.(onnx|json)$/i, '') + '.json';
}

/** The card next to a model file, if there is one. */
export function readModelCard(modelPath: string): ModelCard | undefined {
  const path = cardPathFor(modelPath);
  if (path === modelPath || !existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ModelCard;
  } catch (e) {
    throw new ModelFormatError(`model card ${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function cardPreprocessing(card: ModelCard | undefined): Preprocessing | undefined {
  const i = card?.input;
  if (!i || i.scale === undefined) return undefined;
  return { scale: i.scale, mean: i.mean ?? [0], std: i.std ?? [1] };
}
