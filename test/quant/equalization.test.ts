import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { QuantConfigError } from '../../src/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModel } from '../../src/model/load-model.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { equalizeGraph, formatEqualization } from '../../src/ir/passes/cross-layer-equalization.js';
import { CalibratedTensors } from '../../src/quant/calibration/calibrated-tensors.js';
import { statsFromFile, statsToFile } from '../../src/quant/calibration/stats-file.js';
import { PRESETS, type QuantConfig } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { buildModel, randomArray } from '../helpers/onnx-builder.js';
import { realInputs, zooModels } from '../helpers/zoo.js';

/** Cross-layer equalization (Nagel et al. 2019, section 4.1): same function, evened-out channel ranges. */

function maxRelativeDiff(a: Tensor, b: Tensor): number {
  let peak = 0;
  for (const v of a.data) peak = Math.max(peak, Math.abs(v));
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i]! - b.data[i]!));
  return diff / peak;
}

function outputsOf(graph: Graph, x: Tensor): Tensor[] {
  return Object.values(runGraph(graph, { [graph.inputs[0]!.name]: x }));
}

/** Per output channel of a weight [M, ...]: max |w|. */
function channelRanges(graph: Graph, layer: string): number[] {
  const l = graph.layers.find((q) => q.name === layer)!;
  const w = graph.constants.get(l.inputs[1]!)!;
  const m = w.shape[0]!;
  const per = w.data.length / m;
  return Array.from({ length: m }, (_, c) => w.data.subarray(c * per, (c + 1) * per).reduce((a, v) => Math.max(a, Math.abs(v)), 0));
}

/** Smallest over largest channel range: 1 when every channel spans the same range (per-tensor grids lose nothing). */
function evenness(ranges: number[]): number {
  return Math.min(...ranges) / Math.max(...ranges);
}

/**
 * conv(3x3) -> ReLU -> depthwise(3x3) -> ReLU -> pointwise conv -> flatten -> dense,
 * with output channels of very different ranges (channel c's filter scaled by 4^c / 16).
 */
function chainModel(activation: 'Relu' | 'Clip'): Graph {
  const C = 4;
  const spread = (n: number, per: number, seed: number): Float32Array => randomArray(n * per, seed).map((v, i) => (v * 4 ** Math.floor(i / per)) / 16);
  const relu = (x: string, y: string) => (activation === 'Relu' ? { op: 'Relu', inputs: [x], outputs: [y] } : { op: 'Clip', inputs: [x, 'zero', 'six'], outputs: [y] });
  return loadModel(
    buildModel({
      inputs: [{ name: 'x', shape: ['N', 2, 6, 6] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Conv', name: 'conv1', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        relu('c1', 'r1'),
        { op: 'Conv', name: 'dw', inputs: ['r1', 'w2', 'b2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: C } },
        relu('c2', 'r2'),
        { op: 'Conv', name: 'pw', inputs: ['r2', 'w3', 'b3'], outputs: ['c3'], attrs: { kernel_shape: [1, 1] } },
        { op: 'MaxPool', name: 'pool', inputs: ['c3'], outputs: ['p3'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Flatten', name: 'flat', inputs: ['p3'], outputs: ['f'], attrs: { axis: 1 } },
        { op: 'Gemm', name: 'fc', inputs: ['f', 'w4', 'b4'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      initializers: {
        w1: { dims: [C, 2, 3, 3], data: spread(C, 18, 1) },
        b1: { dims: [C], data: randomArray(C, 2) },
        w2: { dims: [C, 1, 3, 3], data: spread(C, 9, 3).reverse() },
        b2: { dims: [C], data: randomArray(C, 4) },
        w3: { dims: [C, C, 1, 1], data: spread(C, C, 5) },
        b3: { dims: [C], data: randomArray(C, 6) },
        w4: { dims: [3, C * 9], data: randomArray(3 * C * 9, 7) },
        b4: { dims: [3], data: randomArray(3, 8) },
        zero: { dims: [], data: [0] },
        six: { dims: [], data: [6] },
      },
    }),
  );
}

describe('cross-layer equalization', () => {
  const x: Tensor = { shape: [2, 2, 6, 6], data: randomArray(2 * 2 * 36, 11).map((v) => v * 3) };

  it('conv -> ReLU -> depthwise -> ReLU -> pointwise -> pool -> flatten -> dense: same outputs, even ranges', () => {
    const plain = prepareForQuantization(chainModel('Relu'));
    const eq = prepareForQuantization(plain, { equalize: true });
    expect(eq.equalization!.equalized.map((p) => `${p.first}>${p.second}`)).toEqual(['conv1>dw', 'dw>pw', 'pw>fc']);
    expect(eq.equalization!.equalized[2]!.between).toEqual(['maxPool', 'flatten']);
    expect(maxRelativeDiff(outputsOf(plain, x)[0]!, outputsOf(eq, x)[0]!)).toBeLessThan(1e-5);
    for (const layer of ['conv1', 'dw', 'pw']) {
      const before = evenness(channelRanges(plain, layer));
      const after = evenness(channelRanges(eq, layer));
      // Channels built 4^3 = 64x apart in range.
      expect(before, layer).toBeLessThan(0.1);
      expect(after, layer).toBeGreaterThan(before * 3);
    }
    // Once the scales settle, conv1's output channel c and dw's channel c (its input) span one range.
    const [conv1, dw] = [channelRanges(eq, 'conv1'), channelRanges(eq, 'dw')];
    conv1.forEach((r, c) => expect(Math.abs(r - dw[c]!) / r, `channel ${c}`).toBeLessThan(1e-3));
    // Equalizing an equalized graph again changes nothing.
    expect(prepareForQuantization(eq, { equalize: true }).constants).toBe(eq.constants);
  });

  it('leaves ReLU6 pairs alone and says why', () => {
    const plain = prepareForQuantization(chainModel('Clip'));
    const eq = prepareForQuantization(plain, { equalize: true });
    const s = eq.equalization!;
    expect(s.equalized.map((p) => `${p.first}>${p.second}`)).toEqual(['pw>fc']);
    expect(s.skipped.find((p) => p.first === 'conv1')!.reason).toMatch(/ReLU6/);
    expect(s.skipped.find((p) => p.first === 'dw')!.reason).toMatch(/ReLU6/);
    expect(formatEqualization(s)).toMatch(/skipped conv1: ReLU6 between/);
    expect(maxRelativeDiff(outputsOf(plain, x)[0]!, outputsOf(eq, x)[0]!)).toBeLessThan(1e-5);
    // Untouched pairs keep their weights bit for bit.
    expect(channelRanges(eq, 'conv1')).toEqual(channelRanges(plain, 'conv1'));
  });

  for (const model of zooModels()) {
    it(`${model.name}: float outputs unchanged, per-tensor range evenness up`, async () => {
      const plain = prepareForQuantization(loadModelFile(model.path));
      const eq = prepareForQuantization(plain, { equalize: true });
      const s = eq.equalization!;
      expect(s.equalized.length + s.skipped.length).toBe(plain.layers.filter((l) => l.op === 'conv' || l.op === 'dense').length);
      const images = await realInputs(model, 0, 16);
      const [a, b] = [outputsOf(plain, images)[0]!, outputsOf(eq, images)[0]!];
      expect(maxRelativeDiff(a, b)).toBeLessThan(1e-4);
      if (model.name.startsWith('fashion-mbv') || model.name.endsWith('resnet')) {
        // Residual adds and ReLU6 leave few pairs; the ones left still balance.
        expect(s.skipped.some((p) => /residual|ReLU6/.test(p.reason))).toBe(true);
      }
      // Over every layer of an equalized pair, the geometric mean of smallest/largest output-channel range
      // (a per-tensor grid gives the narrowest channel that share of its levels): today 0.26 -> 0.46 on
      // fashion-vgg, 0.35 -> 0.41 on fashion-mbv2, at least 0.52 -> 0.60 elsewhere.
      const names = [...new Set(s.equalized.flatMap((p) => [p.first, p.second]))];
      const meanEvenness = (g: Graph): number => Math.exp(names.reduce((a, n) => a + Math.log(evenness(channelRanges(g, n))), 0) / names.length);
      expect(names.length).toBeGreaterThan(0);
      expect(meanEvenness(eq)).toBeGreaterThan(meanEvenness(plain) * 1.1);
    });
  }

  it('equalizeGraph leaves its input graph untouched', () => {
    const plain = prepareForQuantization(chainModel('Relu'));
    const before = Float32Array.from(plain.constants.get(plain.layers[0]!.inputs[1]!)!.data);
    equalizeGraph(plain);
    expect(plain.constants.get(plain.layers[0]!.inputs[1]!)!.data).toEqual(before);
  });
});

describe('statistics carry equalization', () => {
  const graph = chainModel('Relu');
  const calib: Tensor = { shape: [8, 2, 6, 6], data: randomArray(8 * 72, 21) };
  const w8a8: QuantConfig = PRESETS.w8a8!;

  it('calibrate({ equalize }) marks its statistics, and the stats file keeps the mark', async () => {
    const eqStats = await calibrate(graph, calib, { executor: 'js', equalize: true });
    const plainStats = await calibrate(graph, calib, { executor: 'js' });
    expect(eqStats.equalized).toBe(true);
    expect(plainStats.equalized).toBe(false);
    const file = JSON.parse(JSON.stringify(statsToFile(eqStats)));
    expect(file.equalized).toBe(true);
    expect(statsFromFile(file).equalized).toBe(true);
    expect(statsFromFile({ ...file, equalized: undefined }).equalized).toBe(false);
    expect(() => statsFromFile({ ...file, equalized: 'yes' })).toThrow(/stats\.equalized: expected true or false/);
    // Matching pairs quantize; the equalized statistics measure smaller ranges on conv1's output.
    const qe = quantize(graph, eqStats, { ...w8a8, equalize: true });
    expect(qe.float.equalization?.equalized.length).toBe(3);
    expect(quantize(graph, plainStats, w8a8).float.equalization).toBeUndefined();
  });

  it('a mismatch between config and statistics is a QuantConfigError saying what to do', async () => {
    const eqStats = await calibrate(graph, calib, { executor: 'js', equalize: true });
    const plainStats = await calibrate(graph, calib, { executor: 'js' });
    expect(() => quantize(graph, plainStats, { ...w8a8, equalize: true })).toThrow(QuantConfigError);
    expect(() => quantize(graph, plainStats, { ...w8a8, equalize: true })).toThrow(/calibrate again with equalization/);
    expect(() => quantize(graph, eqStats, w8a8)).toThrow(/add "equalize": true to the config/);
    // A hand-made Map counts as statistics of the plain graph.
    expect(() => quantize(graph, new Map(eqStats), { ...w8a8, equalize: true })).toThrow(QuantConfigError);
    expect(() => quantize(graph, new CalibratedTensors(eqStats, true), { ...w8a8, equalize: true })).not.toThrow();
  });

  it('a graph equalized once serves configs that do not ask again (what search --equalize does), with the same integers', async () => {
    const eqGraph = prepareForQuantization(graph, { equalize: true });
    const eqStats = await calibrate(eqGraph, calib, { executor: 'js' });
    expect(eqStats.equalized).toBe(true);
    const viaGraph = quantize(eqGraph, eqStats, w8a8);
    const viaConfig = quantize(graph, eqStats, { ...w8a8, equalize: true });
    const weights = (q: typeof viaGraph) => q.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [Array.from(l.weights), Array.from(l.bias)] : []));
    expect(weights(viaGraph)).toEqual(weights(viaConfig));
    // Statistics of the plain graph do not fit the equalized one.
    const plainStats = await calibrate(graph, calib, { executor: 'js' });
    expect(() => quantize(eqGraph, plainStats, w8a8)).toThrow(/calibrate again with equalization/);
  });
});
