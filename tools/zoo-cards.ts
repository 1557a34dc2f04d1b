/**
 * Measure every zoo model with quantgpu's own CPU float executor and write
 * the numbers into its model card: `floatAccuracy` (the whole test split) and
 * `floatAccuracySlice` (the first SLICE test images, what CI re-checks).
 *
 *   npx tsx tools/zoo-cards.ts [models/name.onnx ...]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGraph } from '../src/cpu/float-executor.js';
import { openDataset } from '../src/data/open-dataset.js';
import { evaluate, imageInputSize } from '../src/eval/evaluate.js';
import { cardPathFor, cardPreprocessing, readModelCard } from '../src/model/model-card.js';
import { loadModelFile } from '../src/model/load-model-file.js';

const SLICE = 1000;

const paths = process.argv.slice(2).length > 0 ? process.argv.slice(2) : readdirSync('models').filter((f) => f.endsWith('.onnx')).sort().map((f) => join('models', f));
for (const path of paths) {
  const card = readModelCard(path);
  const pre = cardPreprocessing(card);
  if (!card || !pre || !card.dataset) throw new Error(`${path}: card lacks dataset or input preprocessing`);
  const graph = loadModelFile(path);
  const input = graph.inputs[0]!.name;
  const predict = (x: Parameters<typeof runGraph>[1][string]) => Object.values(runGraph(graph, { [input]: x }))[0]!;
  const full = await evaluate(predict, await openDataset(card.dataset, 'test'), imageInputSize(graph), pre);
  const slice = await evaluate(predict, await openDataset(card.dataset, 'test', SLICE), imageInputSize(graph), pre);
  const raw = JSON.parse(readFileSync(cardPathFor(path), 'utf8')) as Record<string, unknown>;
  raw.floatAccuracy = full.accuracy;
  raw.floatAccuracySlice = { images: slice.images, accuracy: slice.accuracy };
  writeFileSync(cardPathFor(path), JSON.stringify(raw, null, 2) + '\n');
  console.log(`${path}: floatAccuracy ${(100 * full.accuracy).toFixed(2)}% (${full.images} images, ${full.seconds.toFixed(1)} s), first ${slice.images}: ${(100 * slice.accuracy).toFixed(2)}%`);
}
