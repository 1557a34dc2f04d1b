import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { relativeError } from '../helpers/compare.js';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { UnsupportedOperatorError } from '../../src/errors.js';
import { graphToOnnx, writeGraph } from '../../src/export/onnx/float-graph.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { loadModel, loadTfjsModel } from '../../src/model/load-model.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { buildModel, dilatedAvgPoolGraph, randomArray } from '../helpers/onnx-builder.js';
import { allClose, classify, listCases, requireTestdata, type TestCase } from '../helpers/onnx-testdata.js';
import { photoBatch } from '../helpers/tfjs-reference.js';
import { nsfwjsArtifacts } from '../helpers/tfjs-nsfwjs.js';
import { modelBytes, realInputs, zooModels } from '../helpers/zoo.js';

/**
 * The ONNX writer: graphs we imported, written back out and run by ONNX
 * Runtime, give the outputs of our executor (and, for ONNX's own test data,
 * the outputs the test data holds). ONNX Runtime is the independent reader.
 */
requireTestdata();

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, t.shape);
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: v.dims.map(Number), data: v.data as Float32Array }]));
  } finally {
    await session.release();
  }
}


/** Layers the writer refuses, with the reason: ONNX at the opset we write cannot say them. */
const UNWRITABLE = [/AveragePool with dilations/];

async function checkCase(tc: TestCase, graph: Graph): Promise<'written' | string> {
  let bytes: Uint8Array;
  try {
    bytes = graphToOnnx(graph);
  } catch (e) {
    if (e instanceof UnsupportedOperatorError && UNWRITABLE.some((r) => r.test(e.message))) return e.message;
    throw e;
  }
  for (const set of tc.sets) {
    const feeds: Record<string, Tensor> = {};
    tc.inputs.forEach((inp, i) => {
      const t = set.inputs[i]!;
      if (graph.inputs.some((g) => g.name === inp.name) && t.kind === 'float') feeds[inp.name] = { shape: t.dims, data: t.data };
    });
    const ours = runGraph(graph, feeds);
    const theirs = await runOrt(bytes, feeds);
    tc.outputs.forEach((name, i) => {
      const want = set.outputs[i]!.data as Float32Array;
      expect(theirs[name]!.shape, `${tc.id} '${name}' shape`).toEqual(ours[name]!.shape);
      const vsData = allClose(theirs[name]!.data, want);
      expect(vsData.ok, `${tc.id} '${name}' (ONNX Runtime on the written graph) against the test data: ${vsData.worst}`).toBe(true);
      const vsOurs = allClose(theirs[name]!.data, ours[name]!.data, 1e-4, 1e-6);
      expect(vsOurs.ok, `${tc.id} '${name}' against our executor: ${vsOurs.worst}`).toBe(true);
    });
  }
  return 'written';
}

for (const folder of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
  describe(`ONNX writer on ONNX test data: ${folder}`, () => {
    const runnable = listCases(folder)
      .map(classify)
      .filter((c): c is { tc: TestCase; graph: Graph } => 'tc' in c);
    const refused: string[] = [];

    it.each(runnable.map((c) => [c.tc.id, c] as const))('%s, as imported and simplified', async (_id, c) => {
      for (const g of [c.graph, simplify(c.graph)]) {
        const r = await checkCase(c.tc, g);
        if (r !== 'written') refused.push(`${c.tc.id}: ${r}`);
      }
    });

    it('writes all but the layers ONNX cannot say at our opset', () => {
      console.log(`[onnx-writer ${folder}] cases: ${runnable.length}, graphs refused: ${refused.length}${refused.length ? `\n  ${refused.join('\n  ')}` : ''}`);
      expect(refused.length).toBeLessThanOrEqual(runnable.length);
      if (runnable.length > 0) expect(refused.length).toBeLessThan(2 * runnable.length);
    });
  });
}

describe('ONNX writer on whole models: every tensor, against our executor', () => {
  // Every tensor of the graph as an output: the calibration graph ONNX Runtime runs.
  const check = async (graph: Graph, x: Tensor): Promise<void> => {
    const tensors = graph.layers.flatMap((l) => l.outputs);
    const written = writeGraph(graph, { extraOutputs: tensors });
    const input = graph.inputs[0]!.name;
    const ours = runGraph(graph, { [input]: x }, { keepIntermediates: true });
    const theirs = await runOrt(written.bytes, { [input]: x });
    for (const t of tensors) {
      const got = theirs[written.outputNames.get(t)!]!;
      expect(got.shape, t).toEqual(ours[t]!.shape);
      expect(relativeError([got], [ours[t]!]), `${graph.name} tensor '${t}'`).toBeLessThan(1e-4);
    }
  };

  for (const model of zooModels()) {
    it(`${model.name}: as loaded and prepared for quantization, on 16 test images`, async () => {
      const x = await realInputs(model, 0, 16);
      const graph = loadModel(modelBytes(model));
      await check(graph, x);
      await check(prepareForQuantization(graph), x);
    });
  }

  it('nsfwjs MobileNetV2 (a TF.js layers model, NHWC input) on two photos', async () => {
    const graph = loadTfjsModel(nsfwjsArtifacts());
    const nchw = photoBatch(['astronaut.png', 'chelsea.png'], 224, 224, 3, { scale: 1 / 255, mean: [0], std: [1] });
    await check(graph, nchw);
  });

  it('keeps symbolic input sizes symbolic: one file runs at any batch and size', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['y'] },
      ],
      initializers: { w: { dims: [4, 3, 3, 3], data: randomArray(108, 1) } },
    });
    const graph = loadModel(bytes);
    const written = graphToOnnx(graph);
    for (const shape of [[1, 3, 5, 7], [3, 3, 9, 4]]) {
      const x = { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), 2) };
      const ours = runGraph(graph, { x });
      const theirs = await runOrt(written, { x });
      expect(theirs.y!.shape).toEqual(shape.map((d, i) => (i === 1 ? 4 : d)));
      expect(relativeError([theirs.y!], [ours.y!])).toBeLessThan(1e-5);
    }
  });

  it('ConvTranspose with output_shape: the pads the importer derived, whatever auto_pad split them', async () => {
    for (const autoPad of ['NOTSET', 'SAME_UPPER', 'SAME_LOWER']) {
      const bytes = buildModel({
        inputs: [{ name: 'x', shape: [1, 2, 3, 3] }],
        outputs: [{ name: 'y' }],
        nodes: [{ op: 'ConvTranspose', name: 'up', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2], output_shape: [6, 6], auto_pad: autoPad } }],
        initializers: { w: { dims: [2, 3, 3, 3], data: randomArray(54, 5) } },
      });
      const x = { shape: [1, 2, 3, 3], data: randomArray(18, 6) };
      const original = await runOrt(bytes, { x });
      const graph = loadModel(bytes);
      expect(relativeError([runGraph(graph, { x }).y!], [original.y!]), `${autoPad}: ours against ONNX Runtime on the original`).toBeLessThan(1e-5);
      expect(relativeError([(await runOrt(graphToOnnx(graph), { x })).y!], [original.y!]), `${autoPad}: the written graph`).toBeLessThan(1e-5);
    }
  });

  it('refuses what ONNX at its opset cannot say, naming the layer', () => {
    const graph = dilatedAvgPoolGraph();
    expect(() => graphToOnnx(graph)).toThrow(UnsupportedOperatorError);
    expect(() => graphToOnnx(graph)).toThrow(/node 'pool'.*AveragePool with dilations/);
  });
});
