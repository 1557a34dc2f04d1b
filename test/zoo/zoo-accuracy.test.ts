import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { openDataset } from '../../src/data/open-dataset.js';
import { evaluate, imageInputSize } from '../../src/eval/evaluate.js';
import { cardPreprocessing } from '../../src/model/model-card.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { zooModels } from '../helpers/zoo.js';

/**
 * Every zoo model, run by our CPU executor, reaches the accuracy its card
 * states (within 0.1 points). CI checks the card's fixed slice of the test
 * split; QUANTGPU_FULL_ZOO=1 checks the whole split against `floatAccuracy`.
 */
const full = process.env.QUANTGPU_FULL_ZOO === '1';

describe('zoo model cards', () => {
  for (const model of zooModels()) {
    it(`${model.name}: accuracy matches its card`, async () => {
      const card = model.card as typeof model.card & { floatAccuracySlice?: { images: number; accuracy: number } };
      const expected = full ? { images: undefined, accuracy: card.floatAccuracy } : card.floatAccuracySlice;
      expect(expected?.accuracy, `${model.name}: card has no measured accuracy (run tools/zoo-cards.ts)`).toBeTypeOf('number');
      const graph = loadModelFile(model.path);
      const input = graph.inputs[0]!.name;
      const dataset = await openDataset(card.dataset!, 'test', expected!.images ?? Infinity);
      const r = await evaluate((x) => Object.values(runGraph(graph, { [input]: x }))[0]!, dataset, imageInputSize(graph), cardPreprocessing(card)!);
      expect(Math.abs(r.accuracy - expected!.accuracy!)).toBeLessThanOrEqual(0.001);
      // The zoo's floor: what such a model normally reaches on its dataset.
      expect(card.floatAccuracy!).toBeGreaterThanOrEqual(card.dataset === 'digits' ? 0.95 : 0.9);
    });
  }
});
