import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { isTfjsModelJson, loadTfjsFiles } from '../import/tfjs/index.js';
import type { ImportedQuantized } from '../import/onnx/quantized/import-quantized.js';
import { loadModel, loadQuantizedModel, loadTfjsModel, type LoadOptions } from './load-model.js';

/**
 * Node: read and import a model file: an ONNX file, a TF.js model.json (its
 * weight shards read from beside it), or a folder holding a model.json.
 */
export function loadModelFile(path: string, options: LoadOptions = {}): Graph {
  const { file, bytes } = readModelBytes(path);
  return naming(path, () => (isTfjsModelJson(bytes) ? loadTfjsModel(loadTfjsFiles(file), options) : loadModel(bytes, options)));
}

/** Node: a model file quantized elsewhere as our quantized graph (see `loadQuantizedModel`), or undefined for a float model. */
export function loadQuantizedModelFile(path: string, options: LoadOptions = {}): ImportedQuantized | undefined {
  const { bytes } = readModelBytes(path);
  return naming(path, () => loadQuantizedModel(bytes, options));
}

function readModelBytes(path: string): { file: string; bytes: Uint8Array } {
  let file = path;
  try {
    if (statSync(path).isDirectory()) {
      file = join(path, 'model.json');
      if (!existsSync(file)) throw new InputError(`${path} is a folder without a model.json; give a model file`);
    }
    return { file, bytes: new Uint8Array(readFileSync(file)) };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Errors of an import start with the file's path. */
function naming<T>(path: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof Error && !e.message.startsWith(path)) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
