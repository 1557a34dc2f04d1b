import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { ModelFormatError, UnsupportedOperatorError } from '../../src/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { importTfjs, type TfjsArtifacts } from '../../src/import/tfjs/index.js';
import { randomizeWeights, rng, saveArtifacts } from '../helpers/tfjs-keras.js';
import { nsfwjsArtifacts } from '../helpers/tfjs-nsfwjs.js';
import { argmaxRows, photoBatch, requirePhotos, relativeError, tfjsReference } from '../helpers/tfjs-reference.js';

const TOLERANCE = 1e-4;

function run(graph: Graph, x: Tensor): Tensor[] {
  const out = runGraph(graph, { [graph.inputs[0]!.name]: x });
  return graph.outputs.map((o) => out[o.name]!);
}

function randomInput(shape: number[], seed: number): Tensor {
  const next = rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1) };
}

/** Layers that MobileNetV2 lacks, and NHWC order traps: a Flatten of a map larger than 1x1, 4-D outputs. */
async function grabBagModel(): Promise<tf.LayersModel> {
  const L = tf.layers;
  const inp = tf.input({ shape: [9, 11, 3], name: 'img' });
  const scaled = L.rescaling({ scale: 1 / 0.7, offset: -0.2 }).apply(inp) as tf.SymbolicTensor;
  const pad = L.zeroPadding2d({ padding: [[1, 0], [2, 1]] }).apply(scaled) as tf.SymbolicTensor;
  const c1 = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6' }).apply(pad) as tf.SymbolicTensor;
  const bn = L.batchNormalization().apply(c1) as tf.SymbolicTensor;
  const dw = L.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2, padding: 'same', activation: 'hardSigmoid', useBias: true }).apply(bn) as tf.SymbolicTensor;
  const sep = L.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'swish' }).apply(bn) as tf.SymbolicTensor;
  const sum = L.add().apply([dw, sep]) as tf.SymbolicTensor;
  const prod = L.multiply().apply([sum, dw]) as tf.SymbolicTensor;
  const avg = L.average().apply([prod, sum, dw]) as tf.SymbolicTensor;
  const cat = L.concatenate().apply([avg, c1]) as tf.SymbolicTensor;
  const leaky = L.leakyReLU({ alpha: 0.1 }).apply(cat) as tf.SymbolicTensor;
  const mp = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(leaky) as tf.SymbolicTensor;
  const ap = L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(mp) as tf.SymbolicTensor;
  const up = L.upSampling2d({ size: [2, 2] }).apply(ap) as tf.SymbolicTensor;
  const crop = L.cropping2D({ cropping: [[1, 0], [0, 2]] }).apply(up) as tf.SymbolicTensor;
  const relu6 = L.reLU({ maxValue: 6 }).apply(crop) as tf.SymbolicTensor;
  const flat = L.flatten().apply(L.dropout({ rate: 0.5 }).apply(relu6)) as tf.SymbolicTensor;
  const d1 = L.dense({ units: 10, activation: 'sigmoid' }).apply(flat) as tf.SymbolicTensor;
  const d2 = L.dense({ units: 4, activation: 'softmax' }).apply(d1) as tf.SymbolicTensor;
  const gmp = L.globalMaxPooling2d({}).apply(leaky) as tf.SymbolicTensor;
  const gap = L.globalAveragePooling2d({}).apply(ap) as tf.SymbolicTensor;
  const d3 = L.dense({ units: 24, activation: 'relu' }).apply(gap) as tf.SymbolicTensor;
  const reshaped = L.reshape({ targetShape: [4, 3, 2] }).apply(d3) as tf.SymbolicTensor;
  const permuted = L.permute({ dims: [2, 1, 3] }).apply(reshaped) as tf.SymbolicTensor;
  const soft = L.softmax({ axis: -1 }).apply(permuted) as tf.SymbolicTensor;
  const denseNhwc = L.dense({ units: 3 }).apply(crop) as tf.SymbolicTensor;
  const act = L.activation({ activation: 'sigmoid' }).apply(denseNhwc) as tf.SymbolicTensor;
  // A flattened map as an output keeps its transpose to NHWC; the one feeding d1 folds into d1's weights.
  const flatOut = L.flatten().apply(mp) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: [d2, gmp, soft, act, flatOut] });
  randomizeWeights(model, 7);
  return model;
}

/** A Sequential model without an InputLayer: the first layer declares the input. */
async function sequentialModel(): Promise<tf.LayersModel> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'linear' }),
    ],
  });
  randomizeWeights(model, 11);
  return model;
}

describe('TF.js layers models', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [what, make, inputShape] of [
    ['a functional model of many layer kinds', grabBagModel, [2, 9, 11, 3]],
    ['a Sequential model without an InputLayer', sequentialModel, [2, 8, 8, 2]],
  ] as const) {
    it(`imports ${what} and matches TF.js (raw and simplified)`, async () => {
      const model = await make();
      const artifacts = await saveArtifacts(model);
      const graph = importTfjs(artifacts);
      expect(graph.inputs[0]!.shape).toEqual(['N', ...inputShape.slice(1)]);
      const x = randomInput([...inputShape], 3);
      const ref = await (await tfjsReference(artifacts, 'layers'))(x);
      const raw = run(graph, x);
      const simplified = run(simplify(graph), x);
      raw.forEach((o, k) => expect(o.shape, `output ${k}`).toEqual(ref[k]!.shape));
      expect(relativeError(raw, ref)).toBeLessThan(TOLERANCE);
      expect(relativeError(simplified, ref)).toBeLessThan(TOLERANCE);
    });
  }

  describe('nsfwjs MobileNetV2 (uint8-quantized weights) on real photos', () => {
    requirePhotos();
    let artifacts: TfjsArtifacts;
    let graph: Graph;
    let x: Tensor;
    let ref: Tensor[];
    beforeAll(async () => {
      artifacts = nsfwjsArtifacts('mobilenet_v2');
      graph = importTfjs(artifacts);
      // nsfwjs feeds pixels / 255, resized to 224x224, NHWC. Two photos: TF.js's CPU backend takes seconds per image.
      x = photoBatch(['astronaut.png', 'chelsea.png'], 224, 224, 3, { scale: 1 / 255, mean: [0], std: [1] });
      ref = await (await tfjsReference(artifacts, 'layers'))(x);
    });

    it('takes NHWC input and gives the 5 class probabilities', () => {
      expect(graph.inputs).toEqual([{ name: 'input_1', shape: ['N', 224, 224, 3] }]);
      expect(graph.outputs).toEqual([{ name: 'dense_3', shape: ['N', 5] }]);
    });

    it('has no transpose but the one after the input', () => {
      expect(graph.layers.filter((l) => l.op === 'transpose').map((l) => l.name)).toEqual(['input_1/to_nchw']);
    });

    it('matches TF.js as imported', () => {
      const ours = run(graph, x);
      expect(relativeError(ours, ref)).toBeLessThan(TOLERANCE);
      expect(argmaxRows(ours[0]!)).toEqual(argmaxRows(ref[0]!));
    });

    it('matches TF.js after simplify (BatchNorm folded, ReLU6 fused)', () => {
      const s = simplify(graph);
      expect(s.layers.some((l) => l.op === 'batchNorm')).toBe(false);
      expect(s.layers.length).toBeLessThan(graph.layers.length / 2);
      const ours = run(s, x);
      expect(relativeError(ours, ref)).toBeLessThan(TOLERANCE);
    });
  });

  describe('malformed models', () => {
    it('names an unknown layer class', async () => {
      const artifacts = await saveArtifacts(await sequentialModel());
      const json = structuredClone(artifacts.modelJson) as { modelTopology: { config: { layers: Array<{ class_name: string; config: { name: string } }> } } };
      const layer = json.modelTopology.config.layers[1]!;
      layer.class_name = 'FancyAttention';
      const err = catchError(() => importTfjs({ ...artifacts, modelJson: json }));
      expect(err).toBeInstanceOf(UnsupportedOperatorError);
      expect((err as UnsupportedOperatorError).node).toBe(layer.config.name);
      expect((err as Error).message).toMatch(/FancyAttention/);
    });

    it('names the weight a truncated shard cuts off', async () => {
      const artifacts = await saveArtifacts(await sequentialModel());
      const err = catchError(() => importTfjs({ ...artifacts, weightData: artifacts.weightData.slice(0, artifacts.weightData.byteLength - 8) }));
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/weight 'dense_\w+\/bias'.*truncated/);
    });

    it('rejects a model.json without a topology', () => {
      const err = catchError(() => importTfjs({ modelJson: { weightsManifest: [] }, weightData: new ArrayBuffer(0) }));
      expect(err).toBeInstanceOf(ModelFormatError);
    });
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
