import { existsSync, readFileSync } from 'node:fs';
import { ModelFormatError } from '../errors.js';
import type { ModelCard } from './card.js';

// The card's type and preprocessing live in card.ts, which the page imports (no node:fs there).
export { cardPreprocessing, type ModelCard } from './card.js';

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
