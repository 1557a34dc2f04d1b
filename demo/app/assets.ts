/**
 * What the page bundles: the zoo (models/*.onnx with their cards) and the
 * data slices of demo/data (tools/demo-data.ts). Both are imported by URL,
 * so Vite serves them in development and copies them into the static build.
 */
import type { ModelCard } from '../../src/model/card.js';
import { decodeSlice, type SliceMeta } from '../../src/data/slice.js';
import type { LabelledImages } from '../../src/data/dataset.js';
import manifest from '../data/datasets.json' with { type: 'json' };

const modelUrls = import.meta.glob<string>('../../models/*.onnx', { query: '?url', import: 'default', eager: true });
const cards = import.meta.glob<ModelCard>(['../../models/*.json', '!../../models/*.labels.json'], { import: 'default', eager: true });
const sliceUrls = import.meta.glob<string>('../data/*.gz', { query: '?url', import: 'default', eager: true });

export interface ZooModel {
  name: string;
  url: string;
  card: ModelCard | undefined;
}

const baseName = (path: string): string => path.replace(/^.*\//, '').replace(/\.[^.]*$/, '');

export const ZOO: readonly ZooModel[] = Object.entries(modelUrls)
  .map(([path, url]) => ({ name: baseName(path), url, card: cards[path.replace(/\.onnx$/, '.json')] }))
  .sort((a, b) => a.name.localeCompare(b.name));

/** The bundled datasets by name, with their splits. */
export const DATASETS: readonly string[] = [...new Set((manifest as SliceMeta[]).map((m) => m.dataset))];

export async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${what}: HTTP ${r.status} for ${url}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** gunzip in the browser; bytes a server already decoded (Content-Encoding: gzip) lack the magic number and pass as they are. */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** One split of a bundled dataset: the first test images, or the first training images (calibration). */
export async function loadSlice(dataset: string, split: 'train' | 'test'): Promise<LabelledImages> {
  const meta = (manifest as Array<SliceMeta & { file: string }>).find((m) => m.dataset === dataset && m.split === split);
  const url = meta && sliceUrls[`../data/${meta.file}`];
  if (!meta || !url) throw new Error(`no bundled ${split} split for ${dataset}`);
  return decodeSlice(await gunzip(await fetchBytes(url, `${dataset} (${split})`)), meta);
}
