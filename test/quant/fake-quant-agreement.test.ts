import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import { loadImages } from '../../src/data/load-images.js';
import { argmaxRows } from '../../src/eval/evaluate.js';
import { createFakeQuantExecutor } from '../../src/executor/executor.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { PRESETS } from '../../src/quant/config.js';
import { agreement } from '../../src/quant/measures.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { zooModels } from '../helpers/zoo.js';

/**
 * The fake-quant graph on ONNX Runtime is what sweeps and searches rank
 * candidates with; the golden model (the GPU's exact arithmetic) decides.
 * On every zoo model at w8a8 and w4a8 the two agree on at least 99% of top-1
 * predictions (calibration: 512 training images; 500 test images).
 */
const TEST_IMAGES = 500;

describe('fake quantization on ONNX Runtime against the golden model', () => {
  for (const model of zooModels()) {
    it(`${model.name}: >= 99% top-1 agreement at w8a8 and w4a8`, async () => {
      const graph = loadModelFile(model.path);
      const dataset = model.card.dataset!;
      const calib = await loadImages(dataset, graph, { split: 'train', count: 512, modelPath: model.path });
      const stats = await calibrate(graph, calib.x);
      const test = await loadImages(dataset, graph, { count: TEST_IMAGES, modelPath: model.path });
      for (const preset of ['w8a8', 'w4a8']) {
        const qg = quantize(graph, stats, PRESETS[preset]!);
        const exec = await createFakeQuantExecutor(qg, { executor: 'ort' });
        try {
          const fake = argmaxRows(Object.values(await exec.run({ [graph.inputs[0]!.name]: test.x }))[0]!);
          const golden = argmaxRows(Object.values(runQuantized(qg, { [graph.inputs[0]!.name]: test.x }).outputs)[0]!);
          const a = agreement(fake, golden);
          console.log(`[fake-quant] ${model.name} ${preset}: ${(100 * a).toFixed(1)}% of ${TEST_IMAGES} agree with the golden model`);
          expect(a, `${model.name} ${preset}`).toBeGreaterThanOrEqual(0.99);
        } finally {
          await exec.dispose();
        }
      }
    });
  }
});
