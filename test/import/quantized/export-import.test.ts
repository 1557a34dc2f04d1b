/**
 * Export then import: a zoo model quantized at w8a8 (and the VGGs with int8
 * symmetric activations), written as QDQ by our
 * exporter and read back by the quantized importer, is the same quantized
 * graph: the golden model's integer outputs (and so `outputDigest`) are
 * equal on real test images. That holds because activation scales are
 * float32 values from the start (qparams.ts), as ONNX stores them; weights,
 * weight scales and biases travel as our codes.
 */
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import { loadImages } from '../../../src/data/load-images.js';
import { OutputDigest } from '../../../src/eval/digest.js';
import { qdqToOnnx } from '../../../src/export/onnx/qdq.js';
import { importQuantizedOnnx } from '../../../src/import/onnx/quantized/import-quantized.js';
import { decodeModelProto } from '../../../src/import/onnx/model-proto.js';
import { loadModelFile } from '../../../src/model/load-model-file.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../../src/quant/config.js';
import { calibrate, quantize } from '../../../src/quant/pipeline.js';
import { zooModels } from '../../helpers/zoo.js';

const CALIB_IMAGES = 128;
const TEST_IMAGES = 100;

function digestOf(integers: Record<string, Int32Array>): string {
  const d = new OutputDigest();
  for (const v of Object.values(integers)) d.add(v);
  return d.hex();
}

/** Every zoo model at w8a8 (uint8 activations with zero points), and the plain CNNs with int8 symmetric activations too. */
const CASES: Array<{ model: ReturnType<typeof zooModels>[number]; config: QuantConfig }> = zooModels().flatMap((model) => [
  { model, config: PRESETS.w8a8! },
  ...(/vgg/.test(model.name) ? [{ model, config: { name: 'w8a8-symmetric', default: { ...(PRESETS.w8a8!.default as LayerQuant), scheme: 'symmetric' as const } } }] : []),
]);

describe('QDQ export then import', () => {
  for (const { model, config } of CASES) {
    it(`${model.name} at ${config.name}: the imported QDQ file gives the outputDigest of the config it came from`, async () => {
      const graph = loadModelFile(model.path);
      const dataset = model.card.dataset!;
      const calib = await loadImages(dataset, graph, { split: 'train', count: CALIB_IMAGES, modelPath: model.path });
      const qg = quantize(graph, await calibrate(graph, calib.x), config);
      const imported = importQuantizedOnnx(decodeModelProto(qdqToOnnx(qg)));
      // Nothing of our own export runs in float or is rewritten: the only notes are the requantization's and, where an
      // output's zero point is the bottom of its range, the ReLU given back to the float model (no change to the integers).
      expect(imported.notes.filter((n) => !n.startsWith('requantization') && !n.startsWith('outputs whose zero point'))).toEqual([]);
      const intLayers = (q: typeof qg) => q.layers.filter((l) => l.kind !== 'float' && l.kind !== 'move').length;
      expect(intLayers(imported.quantized)).toBe(intLayers(qg));
      const test = await loadImages(dataset, graph, { count: TEST_IMAGES, modelPath: model.path });
      const input = graph.inputs[0]!.name;
      const ours = runQuantized(qg, { [input]: test.x }).integers;
      const theirs = runQuantized(imported.quantized, { [imported.quantized.inputs[0]!.name]: test.x }).integers;
      expect(Object.keys(theirs)).toEqual(Object.keys(ours));
      expect(digestOf(theirs)).toBe(digestOf(ours));
    }, 120_000);
  }
});
