import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModel } from '../../src/model/load-model.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { clippedNormalMean, expectedInput, normalCdf, tapShares } from '../../src/quant/bias-correction.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { buildModel, randomArray } from '../helpers/onnx-builder.js';
import { mulberry32 } from '../helpers/random.js';
import { zooModels } from '../helpers/zoo.js';

/** Analytic bias correction (Nagel et al. 2019, section 4.2). */

/** E[min(max(X, lo), hi)] by the trapezoid rule over mean +- 12 std: an independent reference. */
function integratedMean(mean: number, std: number, lo: number, hi: number): number {
  const n = 200_000;
  const [a, b] = [mean - 12 * std, mean + 12 * std];
  const h = (b - a) / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const x = a + i * h;
    const f = (Math.exp(-0.5 * ((x - mean) / std) ** 2) / (std * Math.sqrt(2 * Math.PI))) * Math.min(hi, Math.max(lo, x));
    sum += i === 0 || i === n ? f / 2 : f;
  }
  return sum * h;
}

const C = 6;
const M = 8;
/** The batch-norm's statistics: its input is N(mean, var), its output N(beta, gamma^2) per channel. */
const bn = {
  gamma: Float32Array.from({ length: C }, (_, c) => 0.5 + 0.3 * c),
  beta: Float32Array.from({ length: C }, (_, c) => 1.5 - 0.4 * c),
  mean: Float32Array.from({ length: C }, (_, c) => 0.2 * c - 0.5),
  variance: Float32Array.from({ length: C }, (_, c) => 0.5 + 0.25 * c),
};

/** x -> 1x1 conv (identity) -> BatchNormalization -> ReLU -> 3x3 conv (padded by `pad`) -> y. */
function bnModel(pad = 0): Graph {
  const identity = new Float32Array(C * C);
  for (let c = 0; c < C; c++) identity[c * C + c] = 1;
  return loadModel(
    buildModel({
      inputs: [{ name: 'x', shape: ['N', C, 5, 5] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Conv', name: 'conv1', inputs: ['x', 'w1'], outputs: ['c1'], attrs: { kernel_shape: [1, 1] } },
        { op: 'BatchNormalization', name: 'bn', inputs: ['c1', 'gamma', 'beta', 'mean', 'var'], outputs: ['n1'], attrs: { epsilon: { float: 0 } } },
        { op: 'Relu', inputs: ['n1'], outputs: ['r1'] },
        { op: 'Conv', name: 'conv2', inputs: ['r1', 'w2', 'b2'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [pad, pad, pad, pad] } },
      ],
      initializers: {
        w1: { dims: [C, C, 1, 1], data: identity },
        gamma: { dims: [C], data: bn.gamma },
        beta: { dims: [C], data: bn.beta },
        mean: { dims: [C], data: bn.mean },
        var: { dims: [C], data: bn.variance },
        w2: { dims: [M, C, 3, 3], data: randomArray(M * C * 9, 5) },
        b2: { dims: [M], data: randomArray(M, 6) },
      },
    }),
  );
}

/** Images whose channel c is N(mean_c, var_c): the batch-norm's output is then N(beta_c, gamma_c^2). */
function bnInputs(n: number, seed: number): Tensor {
  const r = mulberry32(seed);
  const data = new Float32Array(n * C * 25);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / 25) % C;
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()); // Box-Muller
    data[i] = bn.mean[c]! + Math.sqrt(bn.variance[c]!) * z;
  }
  return { shape: [n, C, 5, 5], data };
}

/** Per output channel, the mean over images and positions of (quantized - float); then the mean of its magnitude over channels. */
function meanOutputError(q: Tensor, f: Tensor): number {
  const [n, m, h, w] = q.shape as [number, number, number, number];
  let total = 0;
  for (let c = 0; c < m; c++) {
    let e = 0;
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) e += q.data[(i * m + c) * h * w + p]! - f.data[(i * m + c) * h * w + p]!;
    total += Math.abs(e / (n * h * w));
  }
  return total / m;
}

describe('clipped normal mean', () => {
  it('matches numerical integration (ReLU, ReLU6, none, degenerate)', () => {
    expect(Math.abs(normalCdf(1.96) - 0.975)).toBeLessThan(1e-4);
    for (const [mean, std, lo, hi] of [[0.3, 1.2, 0, Infinity], [-1, 0.5, 0, Infinity], [4, 2, 0, 6], [7, 1, 0, 6], [0.5, 2, -Infinity, Infinity]] as const) {
      expect(clippedNormalMean(mean, std, lo, hi), `N(${mean}, ${std}^2) clipped to [${lo}, ${hi}]`).toBeCloseTo(integratedMean(mean, std, lo, hi), 5);
    }
    expect(clippedNormalMean(-2, 0, 0, Infinity)).toBe(0);
  });
});

describe('analytic bias correction', () => {
  const graph = bnModel();
  const perTensorW4: LayerQuant = { ...(PRESETS.w4a8!.default as LayerQuant), weightGranularity: 'per-tensor', weightCalibrator: 'max' };
  // conv1 (the batch-norm's scales, folded) at 8 bits per channel, so that conv2's input is close to the distribution the batch-norm states.
  const layers = { conv1: { weightBits: 8 as const, weightGranularity: 'per-channel' as const } };
  const plain: QuantConfig = { name: 'w4a8 per-tensor', default: perTensorW4, layers };
  const corrected: QuantConfig = { name: 'w4a8 per-tensor, analytic', default: { ...perTensorW4, biasCorrection: 'analytic' }, layers };

  it('keeps the folded batch-norm on the layer and knows E[x] of the next', () => {
    const g = prepareForQuantization(graph);
    const conv1 = g.layers.find((l) => l.name === 'conv1')!;
    expect(conv1.op === 'conv' && conv1.outputDistribution).toBeTruthy();
    const conv2 = g.layers.find((l) => l.name === 'conv2')!;
    const ex = expectedInput(g, conv2 as Extract<typeof conv2, { op: 'conv' }>) as Float64Array;
    for (let c = 0; c < C; c++) expect(ex[c]).toBeCloseTo(integratedMean(bn.beta[c]!, bn.gamma[c]!, 0, Infinity), 4);
  });

  it('lowers the mean output error of a 4-bit layer on inputs drawn from the batch-norm distribution', async () => {
    const stats = await calibrate(graph, bnInputs(32, 1), { executor: 'js' });
    const x = bnInputs(256, 2);
    const float = Object.values(runGraph(prepareForQuantization(graph), { x }))[0]!;
    const err = (config: QuantConfig): number => meanOutputError(Object.values(runQuantized(quantize(graph, stats, config), { x }).outputs)[0]!, float);
    const qc = quantize(graph, stats, corrected);
    expect(qc.analyticBiasCorrection!.corrected).toEqual(['conv2']);
    expect(qc.analyticBiasCorrection!.skipped).toEqual([{ layer: 'conv1', reason: expect.stringMatching(/graph input/) }]);
    expect(quantize(graph, stats, plain).analyticBiasCorrection).toBeUndefined();
    const [before, after] = [err(plain), err(corrected)];
    // Today 0.211 -> 0.0042: what remains is the activations' rounding and the sampling noise of 256 images.
    expect(before).toBeGreaterThan(0.05);
    expect(after).toBeLessThan(before / 10);
  });

  it('on a padded convolution, weighs each tap by the share of outputs where it reads the input', async () => {
    const padded = bnModel(1);
    const g = prepareForQuantization(padded);
    const conv2 = g.layers.find((l) => l.name === 'conv2') as Extract<Graph['layers'][number], { op: 'conv' }>;
    // 5x5 input, 3x3 kernel, pad 1: a corner tap reads the input at 4 of 5 rows and 4 of 5 columns.
    const shares = tapShares(g, conv2, [3, 3]);
    [16, 20, 16, 20, 25, 20, 16, 20, 16].forEach((v, t) => expect(shares[t], `tap ${t}`).toBeCloseTo(v / 25, 12));
    const stats = await calibrate(padded, bnInputs(32, 1), { executor: 'js' });
    const x = bnInputs(256, 2);
    const float = Object.values(runGraph(g, { x }))[0]!;
    const err = (config: QuantConfig): number => meanOutputError(Object.values(runQuantized(quantize(padded, stats, config), { x }).outputs)[0]!, float);
    const [before, after] = [err(plain), err(corrected)];
    expect(after).toBeLessThan(before / 10);
  });

  it('after equalization the known means scale with their channels', () => {
    const p = prepareForQuantization(graph);
    const e = prepareForQuantization(graph, { equalize: true });
    expect(e.equalization!.equalized.map((q) => q.first)).toEqual(['conv1']);
    const conv2 = (g: Graph) => g.layers.find((l) => l.name === 'conv2') as Extract<Graph['layers'][number], { op: 'conv' }>;
    const [ep, ee] = [expectedInput(p, conv2(p)) as Float64Array, expectedInput(e, conv2(e)) as Float64Array];
    const w1 = (g: Graph) => g.constants.get(g.layers[0]!.inputs[1]!)!.data;
    for (let c = 0; c < C; c++) {
      const s = w1(p)[c * C + c]! / w1(e)[c * C + c]!;
      expect(ee[c]! * s).toBeCloseTo(ep[c]!, 4);
    }
  });

  it('zoo: every layer after a folded batch-norm is corrected or skipped with a reason', () => {
    const model = zooModels().find((m) => m.name === 'fashion-vgg')!;
    const g = prepareForQuantization(loadModelFile(model.path));
    const layers = g.layers.filter((l) => l.op === 'conv' || l.op === 'dense');
    expect(layers.every((l) => l.op === 'dense' || l.outputDistribution !== undefined)).toBe(true);
    const reasons = layers.map((l) => expectedInput(g, l as Extract<typeof l, { op: 'conv' | 'dense' }>));
    // The first layer reads the image; a layer after a max pool cannot know its mean, nor the last
    // dense after the first (no batch-norm there); the conv that follows a conv and its ReLU can.
    expect(reasons[0]).toMatch(/graph input/);
    expect(reasons.filter((r) => typeof r === 'string' && /maxPool/.test(r)).length).toBe(3);
    expect(reasons[5]).toMatch(/folded no batch-norm/);
    expect(reasons.filter((r) => r instanceof Float64Array).length).toBe(1);
  });

  it('zoo: through residual adds the means add up (fashion-mbv2: all but the first layer known; fashion-resnet: add+ReLU is not)', () => {
    const known = (name: string) => {
      const g = prepareForQuantization(loadModelFile(zooModels().find((m) => m.name === name)!.path));
      return g.layers.filter((l) => l.op === 'conv' || l.op === 'dense').map((l) => expectedInput(g, l as Extract<typeof l, { op: 'conv' | 'dense' }>));
    };
    const mbv2 = known('fashion-mbv2');
    expect(mbv2.slice(1).every((r) => r instanceof Float64Array)).toBe(true);
    expect(mbv2[0]).toMatch(/graph input/);
    const resnet = known('fashion-resnet');
    expect(resnet.filter((r) => typeof r === 'string' && /add with relu between/.test(r)).length).toBe(4);
  });
});
