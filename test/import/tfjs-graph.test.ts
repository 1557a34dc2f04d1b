import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { ModelFormatError, UnsupportedOperatorError } from '../../src/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { importTfjs, isTfjsModelJson, loadTfjsFiles, type TfjsArtifacts } from '../../src/import/tfjs/index.js';
import { attr, convAttrs, GraphDefBuilder } from '../helpers/tfjs-graphdef.js';
import { rng } from '../helpers/tfjs-keras.js';
import { argmaxRows, photoBatch, requirePhotos, relativeError, tfjsReference } from '../helpers/tfjs-reference.js';

const TOLERANCE = 1e-4;
const HUMAN = join(import.meta.dirname, '../../node_modules/@vladmandic/human/models');

function run(graph: Graph, x: Tensor): Tensor[] {
  const out = runGraph(graph, { [graph.inputs[0]!.name]: x });
  return graph.outputs.map((o) => out[o.name]!);
}

/** Ops that the two real models lack, and the layout traps of NHWC: pads, axes, reshapes, 4-D outputs. */
function opsModel(): TfjsArtifacts {
  const g = new GraphDefBuilder(5);
  const x = g.placeholder('x', [-1, 9, 11, 4]);
  const p = g.node('pad', 'Pad', [x, g.ints('pad/paddings', [0, 0, 1, 2, 0, 1, 0, 0], [4, 2])]);
  const c1 = g.node('conv1', 'Conv2D', [p, g.const('conv1/w', [3, 3, 4, 8])], convAttrs(2, 'SAME'));
  const b1 = g.node('conv1/bias', 'BiasAdd', [c1, g.const('conv1/b', [8])], { data_format: attr.s('NHWC') });
  const lo = g.node('relu6/max', 'Maximum', [b1, g.const('zero', [], [0])]);
  const r1 = g.node('relu6/min', 'Minimum', [lo, g.const('six', [], [6])]);
  const dw = g.node('dw', 'DepthwiseConv2dNative', [r1, g.const('dw/w', [3, 3, 8, 2])], convAttrs(1, 'SAME'));
  const fdw = g.node('fdw', 'FusedDepthwiseConv2dNative', [r1, g.const('fdw/w', [3, 3, 8, 2]), g.const('fdw/b', [16])], convAttrs(1, 'SAME', { fused_ops: attr.strings(['BiasAdd', 'Relu6']), num_args: attr.i(1) }));
  const s = g.node('sum', 'AddV2', [dw, fdw]);
  const m = g.node('scale', 'Mul', [s, g.const('scale/c', [16])]);
  const sub = g.node('shift', 'Sub', [m, g.const('shift/c', [], [0.1])]);
  const dv = g.node('div', 'RealDiv', [sub, g.const('div/c', [1, 1, 1, 16], undefined, 1)]);
  const bn = g.node('bn', 'FusedBatchNormV3', [dv, g.const('bn/scale', [16]), g.const('bn/offset', [16]), g.const('bn/mean', [16]), g.const('bn/var', [16], undefined, 1)], {
    epsilon: attr.f(0.001),
    data_format: attr.s('NHWC'),
    is_training: attr.b(false),
  });
  const lr = g.node('leaky', 'LeakyRelu', [bn], { alpha: attr.f(0.2) });
  const mp = g.node('mirror', 'MirrorPad', [lr, g.ints('mirror/paddings', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2])], { mode: attr.s('REFLECT') });
  const fc = g.node('fconv', '_FusedConv2D', [mp, g.const('fconv/w', [3, 3, 16, 12]), g.const('fconv/b', [12])], convAttrs(1, 'EXPLICIT', {
    explicit_paddings: attr.ints([0, 0, 1, 2, 0, 1, 0, 0]),
    fused_ops: attr.strings(['BiasAdd', 'Relu']),
    num_args: attr.i(1),
  }));
  const ap = g.node('avgpool', 'AvgPool', [fc], { ksize: attr.ints([1, 3, 3, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.s('SAME'), data_format: attr.s('NHWC') });
  const mx = g.node('maxpool', 'MaxPool', [ap], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.s('VALID'), data_format: attr.s('NHWC') });
  const sig = g.node('sigmoid', 'Sigmoid', [mx]);
  const cat = g.node('concat', 'ConcatV2', [mx, sig, g.ints('concat/axis', [-1], [])], { N: attr.i(2), Tidx: attr.type('DT_INT32') });
  const tr = g.node('transpose', 'Transpose', [cat, g.ints('transpose/perm', [0, 2, 1, 3])]);
  const rs = g.node('flatten', 'Reshape', [tr, g.ints('flatten/shape', [-1, 288])]);
  const fm = g.node('fc1', '_FusedMatMul', [rs, g.const('fc1/w', [288, 10]), g.const('fc1/b', [10])], {
    transpose_a: attr.b(false),
    transpose_b: attr.b(false),
    fused_ops: attr.strings(['BiasAdd', 'Relu6']),
    num_args: attr.i(1),
  });
  const mm = g.node('fc2', 'MatMul', [fm, g.const('fc2/w', [5, 10])], { transpose_a: attr.b(false), transpose_b: attr.b(true) });
  g.node('probs', 'Softmax', [mm]);
  const mean = g.node('mean', 'Mean', [fc, g.ints('mean/axes', [1, 2])], { keep_dims: attr.b(true) });
  const sq = g.node('squeeze', 'Squeeze', [mean], { squeeze_dims: attr.ints([1, 2]) });
  g.node('expand', 'ExpandDims', [sq, g.ints('expand/axis', [1], [])]);
  g.node('map', 'Relu6', [ap]);
  return g.artifacts();
}

function randomInput(shape: number[], seed: number): Tensor {
  const next = rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1) };
}

describe('TF.js graph models', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('imports a graph of many op kinds and matches TF.js (raw and simplified)', async () => {
    const artifacts = opsModel();
    const graph = importTfjs(artifacts);
    expect(graph.inputs).toEqual([{ name: 'x', shape: ['N', 9, 11, 4] }]);
    // Outputs are the nodes nothing reads, in TF's layout (the 4-D one NHWC).
    expect(graph.outputs).toEqual([
      { name: 'probs', shape: ['N', 5] },
      { name: 'expand', shape: ['N', 1, 12] },
      { name: 'map', shape: ['N', 5, 4, 12] },
    ]);
    // Maximum(x, 0) then Minimum(., 6) becomes one ReLU6 clamp.
    expect(graph.layers.find((l) => l.name === 'relu6/min')).toMatchObject({ op: 'activation', fn: { kind: 'clip', min: 0, max: 6 }, inputs: ['conv1/bias'] });
    expect(graph.layers.some((l) => l.name === 'relu6/max')).toBe(false);
    const x = randomInput([2, 9, 11, 4], 9);
    const ref = await (await tfjsReference(artifacts, 'graph'))(x, graph.outputs.map((o) => o.name));
    const raw = run(graph, x);
    raw.forEach((o, k) => expect(o.shape, graph.outputs[k]!.name).toEqual(ref[k]!.shape));
    expect(relativeError(raw, ref)).toBeLessThan(TOLERANCE);
    expect(relativeError(run(simplify(graph), x), ref)).toBeLessThan(TOLERANCE);
  });

  describe('@vladmandic/human models on real photos', () => {
    requirePhotos();
    for (const c of [
      // emotion: grayscale 64x64 scaled to [-1, 1], as human feeds it.
      { model: 'emotion', photos: ['astronaut.png', 'chelsea.png', 'coffee.png'], size: 64, channels: 1, pre: { scale: 1 / 255, mean: [0.5], std: [0.5] }, input: 'input_1', outputs: 7 },
      // antispoof (float16 weights): RGB 128x128 in [0, 1].
      { model: 'antispoof', photos: ['astronaut.png', 'chelsea.png'], size: 128, channels: 3, pre: { scale: 1 / 255, mean: [0], std: [1] }, input: 'conv2d_input', outputs: 1 },
    ]) {
      it(`${c.model}: matches TF.js as imported and after simplify`, async () => {
        const artifacts = loadTfjsFiles(join(HUMAN, `${c.model}.json`));
        const graph = importTfjs(artifacts);
        expect(graph.inputs).toEqual([{ name: c.input, shape: ['N', c.size, c.size, c.channels] }]);
        expect(graph.outputs).toEqual([{ name: 'Identity', shape: ['N', c.outputs] }]);
        // antispoof's Flatten folds into the Dense weights after it: no transpose back to NHWC.
        expect(graph.layers.filter((l) => l.op === 'transpose').map((l) => l.name)).toEqual(c.channels === 3 ? [`${c.input}/to_nchw`] : []);
        const x = photoBatch(c.photos, c.size, c.size, c.channels, c.pre);
        const ref = await (await tfjsReference(artifacts, 'graph'))(x);
        const raw = run(graph, x);
        const simplified = run(simplify(graph), x);
        expect(relativeError(raw, ref)).toBeLessThan(TOLERANCE);
        expect(relativeError(simplified, ref)).toBeLessThan(TOLERANCE);
        if (c.outputs > 1) expect(argmaxRows(simplified[0]!)).toEqual(argmaxRows(ref[0]!));
      });
    }
  });

  describe('malformed models', () => {
    it('names an unknown op and its node', () => {
      const g = new GraphDefBuilder(1);
      const x = g.placeholder('x', [-1, 4]);
      g.node('weird', 'Erfinv', [x]);
      const err = catchError(() => importTfjs(g.artifacts()));
      expect(err).toBeInstanceOf(UnsupportedOperatorError);
      expect(err).toMatchObject({ node: 'weird', opType: 'Erfinv' });
    });

    it('names the weight that a truncated shard cuts off', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tfjs-'));
      copyFileSync(join(HUMAN, 'emotion.json'), join(dir, 'model.json'));
      const bin = readFileSync(join(HUMAN, 'emotion.bin'));
      writeFileSync(join(dir, 'emotion.bin'), bin.subarray(0, bin.length - 100));
      const err = catchError(() => importTfjs(loadTfjsFiles(dir)));
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/weight 'StatefulPartitionedCall\/model_1\/separable_conv2d_3\/separable_conv2d_bn_offset'.*emotion\.bin.*truncated/);
    });

    it('names a missing shard file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tfjs-'));
      copyFileSync(join(HUMAN, 'antispoof.json'), join(dir, 'model.json'));
      const err = catchError(() => loadTfjsFiles(join(dir, 'model.json')));
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/antispoof\.bin/);
    });

    it('rejects a model.json that is not JSON', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tfjs-'));
      writeFileSync(join(dir, 'model.json'), '{"modelTopology": {"node": [');
      const err = catchError(() => loadTfjsFiles(dir));
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/model\.json is not valid JSON/);
    });
  });

  it('tells a TF.js model.json from other model bytes', () => {
    expect(isTfjsModelJson(new Uint8Array(readFileSync(join(HUMAN, 'emotion.json'))))).toBe(true);
    expect(isTfjsModelJson(new Uint8Array([0x08, 0x07, 0x12, 0x04]))).toBe(false);
    expect(isTfjsModelJson(new TextEncoder().encode('{"hello": 1}'))).toBe(false);
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
