import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { loadModel, type LoadOptions } from './load-model.js';

/** Node: read and import a model file. */
export function loadModelFile(path: string, options: LoadOptions = {}): Graph {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${path} is a directory, not a model file`);
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return loadModel(bytes, options);
  } catch (e) {
    if (e instanceof Error) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
