import { describe, expect, it } from 'vitest';
import { InputError, QuantConfigError } from '../../src/errors.js';
import { loadImages } from '../../src/data/load-images.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { costReport } from '../../src/quant/cost.js';
import { parseQuantConfig } from '../../src/quant/config-json.js';
import { CostModel } from '../../src/search/cost-model.js';
import { configKey, Evaluator } from '../../src/search/evaluator.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { firstChangedLayer } from '../../src/search/prefix-reuse.js';
import { paretoFront } from '../../src/search/pareto.js';
import { mergeResults, type ResultsDoc } from '../../src/search/results.js';
import { inShard, parseShard } from '../../src/search/shard.js';
import { splitEvalSet } from '../../src/search/sets.js';
import { assignmentConfig, SEARCH_BASE, searchSpace, type Assignment } from '../../src/search/space.js';
import { mulberry32 } from '../helpers/random.js';
import { zooModels } from '../helpers/zoo.js';

describe('search building blocks', () => {
  it('the cost model gives costReport’s size and bit-operations for any assignment, scaled and pow2, on every zoo model', async () => {
    for (const model of zooModels()) {
      const graph = loadModelFile(model.path);
      const stats = await calibrate(graph, (await loadImages(model.card.dataset!, graph, { split: 'train', count: 32, modelPath: model.path })).x);
      for (const scheme of ['scaled', 'pow2'] as const) {
        const base = SEARCH_BASE[scheme];
        const reference = quantize(graph, stats, { default: base });
        const space = searchSpace(reference);
        const cm = new CostModel(reference, base);
        const rnd = mulberry32(7);
        const bits = [8, 6, 5, 4, 3, 2] as const;
        for (let trial = 0; trial < 3; trial++) {
          const pick = () => bits[Math.floor(rnd() * bits.length)]!;
          const a: Assignment = {
            weights: Object.fromEntries(space.weightLayers.map((l) => [l, pick()])),
            activations: Object.fromEntries(space.activationLayers.map((l) => [l, pick()])),
            // pow2: the sequential search's bias widths too.
            ...(scheme === 'pow2' ? { biasBits: Object.fromEntries(space.weightLayers.map((l) => [l, [32, 16, 12][Math.floor(rnd() * 3)]!])) } : {}),
          };
          const c = costReport(quantize(graph, stats, assignmentConfig(base, a)));
          expect(cm.sizeBytes(a), `${model.name} ${scheme} size`).toBeCloseTo(c.sizeBytes, 6);
          expect(cm.bops(a), `${model.name} ${scheme} bit-operations`).toBe(c.bops);
          expect(cm.int8Bytes).toBeCloseTo(c.int8Bytes, 6);
          expect(cm.int8Bops).toBe(c.int8Bops);
          expect(cm.cost(a, 'size+bops')).toBeCloseTo(c.sizeBytes / c.int8Bytes + c.bops / c.int8Bops, 9);
          expect(cm.vsInt8(a, 'size+bops')).toBeCloseTo((c.sizeBytes / c.int8Bytes + c.bops / c.int8Bops) / 2, 9);
        }
      }
    }
  });

  it('Pareto front: the points no other beats on both accuracy and cost, by rising cost', () => {
    const pts = [
      { accuracy: 0.9, cost: 10 },
      { accuracy: 0.8, cost: 5 },
      { accuracy: 0.85, cost: 12 },
      { accuracy: 0.95, cost: 20 },
      { accuracy: 0.8, cost: 6 },
    ];
    expect(paretoFront(pts)).toEqual([1, 0, 3]);
  });

  it('shards: K/N splits the items, bad shards are InputErrors naming the flag', () => {
    const s = parseShard('2/3');
    expect([0, 1, 2, 3, 4, 5].filter((i) => inShard(i, s))).toEqual([1, 4]);
    for (const bad of ['0/3', '4/3', '1', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(InputError);
    expect(() => parseShard('4/3')).toThrow('--shard 4/3: give K/N with 1 <= K <= N');
  });

  it('merging refuses shards of other jobs, missing shards and duplicates', () => {
    const doc = (index: number, count: number, model = 'm.onnx'): ResultsDoc => ({
      format: 'quantgpu-search-results', version: 1, command: 'sweep', model, dataset: 'd',
      sets: { calibration: { split: 'train', start: 0, count: 8 } }, floatAccuracy: {}, environment: {}, shard: { index, count }, points: [],
    });
    expect(() => mergeResults([doc(1, 2), doc(2, 2, 'other.onnx')], ['a', 'b'])).toThrow(/b is another job/);
    expect(() => mergeResults([doc(1, 3), doc(2, 3)], ['a', 'b'])).toThrow(/shards 1, 2 given; a job of 3 needs each of 1, 2, 3 once/);
    expect(() => mergeResults([doc(1, 2), doc(1, 2)], ['a', 'b'])).toThrow(/shards 1, 1 given/);
    expect(mergeResults([doc(2, 2), doc(1, 2)], ['a', 'b']).shard).toBeUndefined();
  });

  it('pow2 offsets given in the config set the scales; on another scheme they are refused, naming the layer', async () => {
    const model = zooModels().find((m) => m.name === 'digits-vgg')!;
    const graph = loadModelFile(model.path);
    const stats = await calibrate(graph, (await loadImages('digits', graph, { split: 'train', count: 32, modelPath: model.path })).x);
    const conv = graph.layers.find((l) => l.op === 'conv')!.name;
    const config = parseQuantConfig({ default: { weightBits: 8, activationBits: 8, scheme: 'pow2' }, layers: { [conv]: { weightFractionalBits: 9, activationFractionalBits: 3, biasFractionalBits: 6, biasBits: 12 } } });
    const qg = quantize(graph, stats, config);
    const q = qg.layers.find((l) => l.name === conv)!;
    if (q.kind !== 'conv') throw new Error('expected the conv layer');
    expect([...q.weightScales].every((s) => s === 2 ** -9)).toBe(true);
    expect(qg.tensors.get(q.outputs[0]!)!.scale).toBe(2 ** -3);
    // Biases on a 2^-6 grid, saturated at 12 bits, then in accumulator units (2^-(9 + n_in)).
    const accScale = 2 ** -9 * qg.tensors.get(q.inputs[0]!)!.scale;
    for (const b of q.bias) {
      const real = b * accScale;
      expect(Math.abs(real * 64 - Math.round(real * 64))).toBeLessThan(1e-9);
      expect(Math.abs(real * 64)).toBeLessThanOrEqual(2047);
    }
    expect(() => quantize(graph, stats, parseQuantConfig({ default: { weightBits: 8, activationBits: 8 }, layers: { [conv]: { weightFractionalBits: 9 } } }))).toThrow(QuantConfigError);
    expect(() => quantize(graph, stats, parseQuantConfig({ default: { weightBits: 8, activationBits: 8 }, layers: { [conv]: { weightFractionalBits: 9 } } }))).toThrow(`layer '${conv}': weightFractionalBits needs scheme pow2 (it is affine)`);
  });

  it('an evaluation anchored on a config that differs in one layer runs from that layer on, with the same numbers', async () => {
    const model = zooModels().find((m) => m.name === 'fashion-resnet')!;
    const graph = loadModelFile(model.path);
    const stats = await calibrate(graph, (await loadImages('fashion-mnist', graph, { split: 'train', count: 64, modelPath: model.path })).x);
    const v = await loadImages('fashion-mnist', graph, { split: 'train', count: 200, modelPath: model.path });
    const set = { name: 'validation', batches: [v.x], labels: Int32Array.from(v.labels) };
    const [plain, anchored] = [await Evaluator.create(graph, stats, set), await Evaluator.create(graph, stats, set)];
    const base = SEARCH_BASE.scaled;
    const anchor = { default: base };
    const reference = plain.quantize(anchor);
    const space = searchSpace(reference);
    const cells: Assignment[] = [
      { weights: { [space.weightLayers[2]!]: 3 }, activations: {} },
      { weights: { [space.weightLayers[2]!]: 5 }, activations: {} },
      { weights: {}, activations: { [space.activationLayers.at(-2)!]: 4 } },
    ];
    for (const a of cells) {
      const config = assignmentConfig(base, a);
      const layer = Object.keys(a.weights)[0] ?? Object.keys(a.activations)[0]!;
      expect(firstChangedLayer(reference, plain.quantize(config))).toBe(reference.float.layers.findIndex((l) => l.name === layer));
      for (const backend of ['fake-quant', 'fake-quant-fast'] as const) {
        const { seconds: _s1, ...whole } = await plain.evaluate(config, backend);
        const { seconds: _s2, ...fromCut } = await anchored.evaluate(config, backend, { anchor });
        expect(fromCut, `${layer} ${backend}`).toEqual(whole);
      }
    }
    expect([plain.evaluationsFromCut, anchored.evaluationsFromCut]).toEqual([0, 6]);
    expect(firstChangedLayer(reference, plain.quantize(anchor))).toBe(reference.float.layers.length);
  });

  it('a config that sets a layer the quantizer splits out (a fused HardSwish) is a config of its own', () => {
    const mbv3 = zooModels().find((m) => m.name === 'fashion-mbv3')!;
    const prepared = prepareForQuantization(loadModelFile(mbv3.path));
    const split = prepared.layers.find((l) => l.name.endsWith('/hardSwish'));
    expect(split, 'fashion-mbv3 has a fused HardSwish split out').toBeDefined();
    const base = SEARCH_BASE.scaled;
    expect(configKey(prepared, { default: base, layers: { [split!.name]: { activationBits: 4 } } })).not.toBe(configKey(prepared, { default: base }));
  });
});

describe('sets cut in two', () => {
  const set = (sizes: readonly number[], batch?: number) => {
    let at = 0;
    const batches = sizes.map((n) => {
      const t = { shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => at + i) };
      at += n;
      return t;
    });
    return { name: 'validation', batches, labels: Int32Array.from({ length: at }, (_, i) => i), ...(batch === undefined ? {} : { batch }) };
  };

  it('slices the batch that straddles the cut for a free batch; cuts between batches of a fixed one', () => {
    const [a, b] = splitEvalSet(set([4, 4, 4]), 6, ['choose', 'confirm']);
    expect(a.batches.map((t) => t.shape[0])).toEqual([4, 2]);
    expect(b.batches.map((t) => t.shape[0])).toEqual([2, 4]);
    expect(Array.from(b.batches[0]!.data)).toEqual([6, 7]);
    const [c, d] = splitEvalSet(set([4, 4, 4], 4), 6, ['choose', 'confirm']);
    expect(c.batches.map((t) => t.shape[0])).toEqual([4, 4]);
    expect(d.batches.map((t) => t.shape[0])).toEqual([4]);
    expect([c.labels.length, d.labels.length, c.batch, d.batch]).toEqual([8, 4, 4, 4]);
    expect(() => splitEvalSet(set([4], 4), 2, ['choose', 'confirm'])).toThrow(/cannot split the 4 images of the validation set at 4 \(whole batches of 4\)/);
  });
});
