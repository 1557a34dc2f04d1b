import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, ModelFormatError } from '../../errors.js';
import type { TfjsArtifacts } from './import-tfjs.js';
import { parseTfjsModelJson } from './import-tfjs.js';
import { parseManifest } from './weights.js';

/**
 * Node: read a model.json (or the folder that holds one) and its weight
 * shards, which sit beside it under the names the manifest lists.
 */
export function loadTfjsFiles(modelJsonPath: string): TfjsArtifacts {
  const path = isDirectory(modelJsonPath) ? join(modelJsonPath, 'model.json') : modelJsonPath;
  const modelJson = parseTfjsModelJson(readFile(path, 'model'), path);
  const dir = dirname(path);
  const shards = parseManifest(modelJson.weightsManifest).paths.map((p) => {
    try {
      return readFileSync(join(dir, shardFileName(p)));
    } catch (e) {
      throw new ModelFormatError(`${path}: weight shard '${p}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  });
  const total = shards.reduce((n, s) => n + s.length, 0);
  const weightData = new ArrayBuffer(total);
  const view = new Uint8Array(weightData);
  let offset = 0;
  for (const s of shards) {
    view.set(s, offset);
    offset += s.length;
  }
  return { modelJson, weightData };
}

/** Manifest paths are URL paths (`group1-shard1of2.bin`, sometimes percent-encoded). */
function shardFileName(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
