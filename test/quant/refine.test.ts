/**
 * refine(): AdaRound and empirical bias correction. AdaRound lowers a
 * layer's output error below nearest rounding on images it did not learn on
 * (convolution and depthwise, 4 and 2 bits); bias correction removes a mean
 * error built into the weights, to the value computed by hand; a refinement
 * survives its JSON file; quantize refuses what does not fit, naming why.
 */
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { QuantConfigError } from '../../src/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import type { TensorStats } from '../../src/quant/calibration/tensor-stats.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import type { QMatmulLayer, QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { refine } from '../../src/quant/refine/refine.js';
import { refinementFromFile, refinementToFile, type Refinement } from '../../src/quant/refine/refinement.js';
import { realInputs, zooModels } from '../helpers/zoo.js';
import { convGraph, images } from './refine-helpers.js';

const BASE: LayerQuant = { ...(PRESETS.w4a8!.default as LayerQuant) };
const config = (extra: Partial<LayerQuant>): QuantConfig => ({ default: { ...BASE, ...extra } });

/** Mean squared difference of the golden model's output and the float one. */
function outputError(g: Graph, qg: QuantizedGraph, x: Tensor): number {
  const f = runGraph(g, { x }).y!.data;
  const q = runQuantized(qg, { x }).outputs.y!.data;
  let e = 0;
  for (let i = 0; i < f.length; i++) e += (q[i]! - f[i]!) ** 2;
  return e / f.length;
}

/** Mean of (golden - float) per output channel over images and positions. */
function channelMeanError(g: Graph, qg: QuantizedGraph, x: Tensor, channels: number): number[] {
  const f = runGraph(g, { x }).y!.data;
  const q = runQuantized(qg, { x }).outputs.y!.data;
  const plane = f.length / (x.shape[0]! * channels);
  const sum = new Array<number>(channels).fill(0);
  for (let i = 0; i < f.length; i++) sum[Math.floor(i / plane) % channels]! += q[i]! - f[i]!;
  return sum.map((s) => s / (f.length / channels));
}

async function statsOf(g: Graph, x: Tensor): Promise<Map<string, TensorStats>> {
  return (await collectStats(g, [x])).tensors;
}

describe('AdaRound on a single layer', () => {
  const calib = images(48, 8, 8, 1);
  const heldOut = images(32, 8, 8, 2);
  for (const { what, group } of [{ what: 'convolution', group: 1 }, { what: 'depthwise convolution', group: 8 }]) {
    for (const bits of [4, 2] as const) {
      it(`${what}, ${bits}-bit weights: a lower output error than nearest rounding on held-out images`, async () => {
        const g = convGraph({ channels: 8, outChannels: 8, group, seed: 12 + group + bits });
        const stats = await statsOf(g, calib);
        const nearest = quantize(g, stats, config({ weightBits: bits }));
        const cfg = config({ weightBits: bits, rounding: 'adaround' });
        const r = await refine(g, stats, cfg, calib, { iterations: 300 });
        const learned = quantize(g, stats, cfg, { refinement: r });
        const codes = (learned.layers.find((l) => l.kind === 'conv') as QMatmulLayer).weights;
        const near = (nearest.layers.find((l) => l.kind === 'conv') as QMatmulLayer).weights;
        // Every learned code is the nearest one or its neighbour across the rounding point.
        codes.forEach((c, i) => expect(Math.abs(c - near[i]!)).toBeLessThanOrEqual(1));
        expect(codes.some((c, i) => c !== near[i]), 'AdaRound changed some codes').toBe(true);
        const before = outputError(g, nearest, heldOut);
        const after = outputError(g, learned, heldOut);
        expect(after, `held-out MSE ${after} vs nearest ${before}`).toBeLessThan(0.95 * before);
      });
    }
  }
});

describe('empirical bias correction', () => {
  it('removes a mean error built into the weights, by the amount computed by hand', async () => {
    // Per output channel, one weight sits on the top level (it sets the scale, 0.07 / 7 = 0.01
    // at 4 bits, max calibrator) and the others 0.4 steps above a level: nearest rounding takes
    // 0.004 off each, so channel c's output is short by 0.004 * (the sum of the other taps' mean inputs).
    const channels = 4;
    const taps = channels * 9;
    const weights = new Float32Array(channels * taps);
    for (let c = 0; c < channels; c++) for (let i = 0; i < taps; i++) weights[c * taps + i] = i === c ? 0.07 : ((i % 6) + 0.4) * 0.01;
    const g = convGraph({ channels, outChannels: channels, weights, bias: new Float32Array(channels), size: 6 });
    const calib = images(64, channels, 6, 3);
    const stats = await statsOf(g, calib);
    const cfg = config({ weightCalibrator: 'max', biasCorrection: 'empirical' });
    const r = await refine(g, stats, cfg, calib);
    // The mean im2col column, by hand: mean over images and positions of each tap's input (zero in the padding).
    const mean = new Float64Array(taps);
    const s = 6;
    for (let n = 0; n < 64; n++) {
      for (let ci = 0; ci < channels; ci++) {
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            for (let y = 0; y < s; y++) {
              for (let x = 0; x < s; x++) {
                const iy = y + ky - 1;
                const ix = x + kx - 1;
                if (iy >= 0 && iy < s && ix >= 0 && ix < s) mean[ci * 9 + ky * 3 + kx]! += calib.data[((n * channels + ci) * s + iy) * s + ix]! / (64 * s * s);
              }
            }
          }
        }
      }
    }
    const correction = r.layers.get('conv')!.biasCorrection!;
    for (let c = 0; c < channels; c++) {
      let injected = 0;
      for (let i = 0; i < taps; i++) if (i !== c) injected += 0.004 * mean[i]!;
      // The rest is the 8-bit input's rounding: a small part of the injected error.
      expect(Math.abs(correction[c]! - injected), `channel ${c}: correction ${correction[c]} vs injected ${injected}`).toBeLessThan(0.05 * injected);
    }
    const before = channelMeanError(g, quantize(g, stats, config({ weightCalibrator: 'max' })), calib, channels);
    const after = channelMeanError(g, quantize(g, stats, cfg, { refinement: r }), calib, channels);
    for (let c = 0; c < channels; c++) {
      expect(before[c]!).toBeLessThan(-0.01);
      expect(Math.abs(after[c]!), `channel ${c}: mean error ${after[c]} after, ${before[c]} before`).toBeLessThan(0.05 * Math.abs(before[c]!));
    }
  });
});

describe('refinements as files, and the errors of quantize', () => {
  const g = convGraph({ channels: 8, outChannels: 8, seed: 5 });
  const calib = images(32, 8, 8, 1);
  const cfg = config({ rounding: 'adaround', biasCorrection: 'empirical' });
  let stats: Map<string, TensorStats>;
  let r: Refinement;
  const learn = async (): Promise<void> => {
    stats ??= await statsOf(g, calib);
    r ??= await refine(g, stats, cfg, calib, { iterations: 50 });
  };

  it('a refinement saved as JSON and read back quantizes to the same integers', async () => {
    await learn();
    const back = refinementFromFile(JSON.parse(JSON.stringify(refinementToFile(r))));
    expect(back.learnedFor).toEqual(r.learnedFor);
    expect([...back.layers.keys()]).toEqual(['conv']);
    expect(back.layers.get('conv')!.weights).toEqual(r.layers.get('conv')!.weights);
    expect(back.layers.get('conv')!.biasCorrection).toEqual(r.layers.get('conv')!.biasCorrection);
    const a = quantize(g, stats, cfg, { refinement: r }).layers.find((l) => l.kind === 'conv') as QMatmulLayer;
    const b = quantize(g, stats, cfg, { refinement: back }).layers.find((l) => l.kind === 'conv') as QMatmulLayer;
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toEqual(a.bias);
  });

  it('a config that asks for learning, without a refinement, is a QuantConfigError naming the layer and how to learn', async () => {
    await learn();
    for (const extra of [{ rounding: 'adaround' }, { biasCorrection: 'empirical' }] as const) {
      expect(() => quantize(g, stats, config(extra))).toThrow(QuantConfigError);
      expect(() => quantize(g, stats, config(extra))).toThrow(/layer 'conv' asks for .*quantgpu refine/);
    }
    // Nearest rounding and no correction need nothing learned; a preset that asks does.
    expect(() => quantize(g, stats, config({ rounding: 'nearest', biasCorrection: 'none' }))).not.toThrow();
    expect(() => quantize(g, stats, PRESETS['w4a8-adaround']!)).toThrow(/no refinement was given/);
    // With equalization, the statistics must be those of the equalized graph, and the refinement is still missing.
    const equalized = await calibrate(g, calib, { equalize: true });
    expect(() => quantize(g, equalized, { ...PRESETS['w4a8-adaround']!, equalize: true })).toThrow(/no refinement was given/);
    // Learned codes are 8-bit lanes at most.
    await expect(refine(g, stats, config({ weightBits: 16, rounding: 'adaround' }), calib)).rejects.toThrow(/AdaRound learns 2- to 8-bit weights; layer\(s\) 'conv'/);
  });

  it('a refinement learned for another model, config or calibration is refused, naming which', async () => {
    await learn();
    const other = convGraph({ channels: 8, outChannels: 8, seed: 6 });
    expect(() => quantize(other, stats, cfg, { refinement: r })).toThrow(/learned for another model/);
    expect(() => quantize(g, stats, config({ rounding: 'adaround', biasCorrection: 'empirical', weightBits: 3 }), { refinement: r })).toThrow(/learned for another config/);
    const otherStats = await statsOf(g, images(32, 8, 8, 9));
    expect(() => quantize(g, otherStats, cfg, { refinement: r })).toThrow(/learned for other calibration statistics/);
    // Learned for bias correction only: the same fingerprints cannot stand for a config that also asks for AdaRound.
    const partial: Refinement = { ...r, layers: new Map([['conv', { biasCorrection: r.layers.get('conv')!.biasCorrection! }]]) };
    expect(() => quantize(g, stats, cfg, { refinement: partial })).toThrow(/has nothing learned for layer 'conv'/);
  });

  it('a malformed refinement file is a QuantConfigError naming the field', () => {
    const good = { format: 'quantgpu-refinement', version: 1, learnedFor: { model: 'a', config: 'b', ranges: 'c' }, images: 1, seconds: 1, layers: {} };
    expect(() => refinementFromFile({ ...good, format: 'x' })).toThrow(/refinement.format/);
    expect(() => refinementFromFile({ ...good, version: 2 })).toThrow(/refinement.version/);
    expect(() => refinementFromFile({ ...good, learnedFor: { model: 'a' } })).toThrow(/refinement.learnedFor.config/);
    expect(() => refinementFromFile({ ...good, layers: { conv: { weights: 3 } } })).toThrow(/layers\['conv'\].weights: expected a base64 string/);
    expect(() => refinementFromFile({ ...good, layers: { conv: { biasCorrection: 'AAA' } } })).toThrow(QuantConfigError);
    expect(() => refinementFromFile(null)).toThrow(QuantConfigError);
  });

  it('refine with a config that asks for nothing learns nothing, and returns the fingerprints', async () => {
    await learn();
    const none = await refine(g, stats, PRESETS.w4a8!, calib);
    expect(none.layers.size).toBe(0);
    expect(() => quantize(g, stats, PRESETS.w4a8!, { refinement: none })).not.toThrow();
  });
});

describe('refine on a zoo model', () => {
  it('fashion-mbv2: every convolution and dense layer learned over two batches, quantized and run by the golden model', async () => {
    const model = zooModels().find((m) => m.name === 'fashion-mbv2')!;
    const graph = prepareForQuantization(loadModelFile(model.path));
    const input = graph.inputs[0]!.name;
    const calib = await realInputs(model, 100, 16);
    const half = (from: number): Tensor => ({ shape: [8, ...calib.shape.slice(1)], data: calib.data.slice((from * calib.data.length) / 16, ((from + 8) * calib.data.length) / 16) });
    // With equalization: calibrated on the equalized graph, as refine and quantize will see it.
    const tensors = await calibrate(graph, calib, { equalize: true });
    const cfg: QuantConfig = { ...PRESETS['w4a8-adaround']!, equalize: true };
    const seen: string[] = [];
    const r = await refine(graph, tensors, cfg, [half(0), half(8)], { iterations: 10, maxColumns: 256, onProgress: (p) => (seen.at(-1) === p.layer ? undefined : seen.push(p.layer)) });
    const matmuls = graph.layers.filter((l) => l.op === 'conv' || l.op === 'dense').map((l) => l.name);
    expect([...r.layers.keys()]).toEqual(matmuls);
    expect(seen).toEqual(matmuls);
    const qg = quantize(graph, tensors, cfg, { refinement: r });
    const out = runQuantized(qg, { [input]: calib });
    expect(Object.values(out.integers)[0]!.length).toBe(16 * 10);
  }, 120_000);
});
