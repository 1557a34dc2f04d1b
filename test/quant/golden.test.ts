import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import { QuantConfigError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { simplify } from '../../src/ir/simplify.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { statsFromFile, statsToFile } from '../../src/quant/calibration/stats-file.js';
import { PRESETS, type QuantConfig } from '../../src/quant/config.js';
import { fakeQuantGraph, runFakeQuant } from '../../src/quant/fake-quant.js';
import { agreement, tensorSqnr } from '../../src/quant/measures.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { packRows, unpackRows } from '../../src/quant/lanes.js';
import { argmaxRows } from '../../src/eval/evaluate.js';
import { buildModel, randomArray } from '../helpers/onnx-builder.js';
import { realInputs, zooModels } from '../helpers/zoo.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import type { Tensor } from '../../src/cpu/tensor.js';

/** The quantization pipeline end to end on the zoo: golden model vs float, and vs the fake-quant simulator. */

describe('golden executor on the zoo', () => {
  for (const model of zooModels()) {
    it(`${model.name}: w8a8, w4a8, w8a8-pow2 and a mixed config with a float layer`, async () => {
      const graph = prepareForQuantization(loadModelFile(model.path));
      const input = graph.inputs[0]!.name;
      const calib = await realInputs(model, 100, 128);
      const { tensors } = await collectStats(graph, [calib]);
      const x = await realInputs(model, 0, 64);
      const float = runGraph(graph, { [input]: x });
      const floatTop = argmaxRows(Object.values(float)[0]!);
      const secondLayer = graph.layers.find((l) => l.op === 'conv' && l !== graph.layers[0])!.name;
      for (const config of [PRESETS.w8a8!, PRESETS.w4a8!, PRESETS['w8a8-pow2']!, { name: 'mixed', default: PRESETS.w8a8!.default, layers: { [secondLayer]: 'float' as const } }]) {
        const qg = quantize(graph, tensors, config);
        const golden = runQuantized(qg, { [input]: x });
        const top = argmaxRows(Object.values(golden.outputs)[0]!);
        // 8-bit weights keep nearly every prediction; 4-bit weights most of them.
        expect(agreement(top, floatTop), `${config.name} agreement with float`).toBeGreaterThanOrEqual(config.name === 'w4a8' ? 0.85 : 0.95);
        // The simulator differs from the golden model only by rounding: nearly the same predictions.
        const fq = runFakeQuant(qg, fakeQuantGraph(qg), { [input]: x });
        expect(agreement(argmaxRows(Object.values(fq)[0]!), top), `${config.name} fake-quant vs golden`).toBeGreaterThanOrEqual(0.95);
        if (config.name === 'mixed') expect(qg.layers.some((l) => l.kind === 'float' && l.name === secondLayer)).toBe(true);
      }
    });
  }
});

describe('golden executor properties', () => {
  const model = zooModels()[0]!;

  it('gives the same integers whatever the batch size', async () => {
    const graph = prepareForQuantization(loadModelFile(model.path));
    const input = graph.inputs[0]!.name;
    const { tensors } = await collectStats(graph, [await realInputs(model, 100, 64)]);
    const qg = quantize(graph, tensors, PRESETS.w8a8!);
    const x = await realInputs(model, 0, 8);
    const whole = Object.values(runQuantized(qg, { [input]: x }).integers)[0]!;
    const per = x.data.length / 8;
    for (let i = 0; i < 8; i++) {
      const one: Tensor = { shape: [1, ...x.shape.slice(1)], data: x.data.slice(i * per, (i + 1) * per) };
      const r = Object.values(runQuantized(qg, { [input]: one }).integers)[0]!;
      expect(Array.from(r)).toEqual(Array.from(whole.subarray(i * r.length, (i + 1) * r.length)));
    }
  });

  it('statistics saved to JSON and read back quantize to the same integers', async () => {
    const graph = prepareForQuantization(loadModelFile(model.path));
    const input = graph.inputs[0]!.name;
    const { tensors } = await collectStats(graph, [await realInputs(model, 100, 64)]);
    const back = statsFromFile(JSON.parse(JSON.stringify(statsToFile(tensors))));
    const x = await realInputs(model, 0, 4);
    for (const name of ['w8a8', 'w4a4'] as const) {
      const a = runQuantized(quantize(graph, tensors, PRESETS[name]!), { [input]: x }).integers;
      const b = runQuantized(quantize(graph, back, PRESETS[name]!), { [input]: x }).integers;
      expect(b).toEqual(a);
    }
  });

  it('reports a per-tensor SQNR that falls with the bitwidth', async () => {
    const graph = prepareForQuantization(loadModelFile(model.path));
    const input = graph.inputs[0]!.name;
    const { tensors } = await collectStats(graph, [await realInputs(model, 100, 64)]);
    const x = await realInputs(model, 0, 16);
    const mean = (name: string): number => {
      const s = tensorSqnr(quantize(graph, tensors, PRESETS[name]!), { [input]: x });
      return s.reduce((a, t) => a + t.sqnrDb, 0) / s.length;
    };
    const [w8a8, w4a4] = [mean('w8a8'), mean('w4a4')];
    expect(w8a8).toBeGreaterThan(20);
    expect(w8a8).toBeGreaterThan(w4a4 + 6);
  });

  it('refuses a config whose int32 accumulation could overflow, naming the layer', async () => {
    const k = 4096;
    const graph = prepareForQuantization(
      simplify(
        importOnnx(
          buildModel({
            inputs: [{ name: 'x', shape: ['N', k] }],
            outputs: [{ name: 'y' }],
            nodes: [{ op: 'Gemm', name: 'wide_fc', inputs: ['x', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
            initializers: { W: { dims: [10, k], data: randomArray(10 * k, 5) } },
          }),
        ),
      ),
    );
    const { tensors } = await collectStats(graph, [{ shape: [4, k], data: randomArray(4 * k, 6) }]);
    const config: QuantConfig = { default: { ...(PRESETS.w8a8!.default as object), activationBits: 16 } as QuantConfig['default'] };
    expect(() => quantize(graph, tensors, config)).toThrow(QuantConfigError);
    expect(() => quantize(graph, tensors, config)).toThrow(/wide_fc.*K=4096.*overflow/);
  });
});

describe('quantized weights as the GPU holds them', () => {
  it('packs every conv and dense layer at its bitwidth, and unpacks to the golden integers', async () => {
    const model = zooModels()[0]!;
    const graph = prepareForQuantization(loadModelFile(model.path));
    const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
    for (const name of ['w8a8', 'w4a8', 'w2a8'] as const) {
      const qg = quantize(graph, tensors, PRESETS[name]!);
      for (const l of qg.layers) {
        if (l.kind !== 'conv' && l.kind !== 'dense') continue;
        const m = l.weightShape[0]!;
        const k = l.weights.length / m;
        // packRows refuses a value outside the two's complement range of the bitwidth.
        const packed = packRows(l.weights, m, k, l.weightBits);
        expect(packed.laneBits).toBe(l.weightBits);
        expect(packed.wordsPerRow).toBe(Math.ceil((k * l.weightBits) / 32));
        expect(Array.from(unpackRows(packed.data, m, k, l.weightBits))).toEqual(Array.from(l.weights));
      }
    }
  });
});
