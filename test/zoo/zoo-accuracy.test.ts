import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { createFloatExecutor } from '../../src/executor/executor.js';
import { openDataset } from '../../src/data/open-dataset.js';
import { argmaxRows, evaluate, imageInputSize } from '../../src/eval/evaluate.js';
import { cardPreprocessing } from '../../src/model/model-card.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { zooModels } from '../helpers/zoo.js';

/**
 * Every zoo model, run by our CPU executor, reaches the accuracy its card
 * states (within 0.1 points), and ONNX Runtime predicts exactly the same. CI checks the card's fixed slice of the test
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
      // ONNX Runtime on the graph as we write it runs beside ours: the same prediction for every image, logits within 1e-4.
      const ort = await createFloatExecutor(graph, { executor: 'ort' });
      const theirs: number[] = [];
      let worst = 0;
      let r: Awaited<ReturnType<typeof evaluate>>;
      try {
        r = await evaluate(
          async (x) => {
            const [ours, other] = [Object.values(runGraph(graph, { [input]: x }))[0]!, Object.values(await ort.run({ [input]: x }))[0]!];
            const peak = ours.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            ours.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - other.data[i]!) / peak)));
            theirs.push(...argmaxRows(other));
            return ours;
          },
          dataset,
          imageInputSize(graph),
          cardPreprocessing(card)!,
        );
      } finally {
        await ort.dispose();
      }
      expect(Math.abs(r.accuracy - expected!.accuracy!)).toBeLessThanOrEqual(0.001);
      expect(theirs).toEqual(Array.from(r.predictions));
      expect(worst).toBeLessThan(1e-4);
      // The zoo's floor: what such a model normally reaches on its dataset.
      expect(card.floatAccuracy!).toBeGreaterThanOrEqual(card.dataset === 'digits' ? 0.95 : 0.9);
    });
  }
});
