import { describe, expect, it } from 'vitest';
import { relativeError } from '../helpers/compare.js';
import { runGraph } from '../../src/cpu/float-executor.js';
import { ExecutorUnavailableError, InputError, ShapeError, UnsupportedOperatorError } from '../../src/errors.js';
import { createFakeQuantExecutor, createFloatExecutor, parseExecutorChoice } from '../../src/executor/executor.js';
import { cutTensors, sliceGraph } from '../../src/ir/slice-graph.js';
import { loadModel } from '../../src/model/load-model.js';
import { PRESETS } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { dilatedAvgPoolGraph, randomArray } from '../helpers/onnx-builder.js';
import { modelBytes, realInputs, zooModels } from '../helpers/zoo.js';


const mbv2 = zooModels().find((m) => m.name === 'fashion-mbv2')!;

describe('float executors', () => {
  it('onnxruntime-node, onnxruntime-web and ours give the same logits and extra tensors', async () => {
    const graph = loadModel(modelBytes(mbv2));
    const x = await realInputs(mbv2, 0, 32);
    const extra = graph.layers.slice(0, 3).map((l) => l.outputs[0]!);
    const ref = runGraph(graph, { input: x }, { keepIntermediates: true });
    for (const ortPackage of ['onnxruntime-node', 'onnxruntime-web'] as const) {
      const exec = await createFloatExecutor(graph, { executor: 'ort', ortPackage, outputs: extra });
      try {
        expect(exec.kind).toBe('ort');
        expect(exec.runtime).toMatch(new RegExp(`^${ortPackage} \\d+\\.\\d+`));
        const out = await exec.run({ input: x });
        for (const name of ['logits', ...extra]) {
          expect(out[name]!.shape, name).toEqual(ref[name]!.shape);
          expect(relativeError([out[name]!], [ref[name]!]), `${ortPackage} ${name}`).toBeLessThan(1e-4);
        }
      } finally {
        await exec.dispose();
      }
    }
  });

  it('several runs may be in flight at once, and each gets its own outputs', async () => {
    const graph = loadModel(modelBytes(mbv2));
    const exec = await createFloatExecutor(graph, { executor: 'ort' });
    try {
      const xs = await Promise.all([0, 8, 16].map((start) => realInputs(mbv2, start, 8)));
      const outs = await Promise.all(xs.map((x) => exec.run({ input: x })));
      outs.forEach((o, i) => expect(relativeError([o.logits!], [runGraph(graph, { input: xs[i]! }).logits!])).toBeLessThan(1e-4));
    } finally {
      await exec.dispose();
    }
  });

  it('checks inputs as our executor does, with the same typed error', async () => {
    const graph = loadModel(modelBytes(mbv2));
    const bad = { shape: [2, 3, 28, 28], data: new Float32Array(2 * 3 * 28 * 28) };
    for (const executor of ['ort', 'js'] as const) {
      const exec = await createFloatExecutor(graph, { executor });
      await expect(exec.run({ input: bad })).rejects.toThrow(ShapeError);
      await exec.dispose();
    }
  });

  it('a disposed executor refuses to run', async () => {
    const exec = await createFloatExecutor(loadModel(modelBytes(mbv2)), { executor: 'ort' });
    await exec.dispose();
    await expect(exec.run({ input: await realInputs(mbv2, 0, 1) })).rejects.toThrow(ExecutorUnavailableError);
  });

  it("auto falls back to our executor, saying why, where ONNX Runtime cannot take a graph; 'ort' throws instead", async () => {
    const graph = dilatedAvgPoolGraph();
    const reasons: string[] = [];
    const exec = await createFloatExecutor(graph, { onFallback: (r) => reasons.push(r) });
    expect(exec.kind).toBe('js');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/ONNX Runtime cannot run this graph .*AveragePool with dilations.*quantgpu's own executor/);
    const x = { shape: [1, 2, 6, 6], data: randomArray(72, 3) };
    expect((await exec.run({ x })).y!.data).toEqual(runGraph(graph, { x }).y!.data);
    await expect(createFloatExecutor(graph, { executor: 'ort' })).rejects.toThrow(UnsupportedOperatorError);
  });

  it('--executor takes auto, ort or js and names the choices otherwise', () => {
    expect(parseExecutorChoice('ort', '--executor')).toBe('ort');
    expect(() => parseExecutorChoice('tvm', '--executor')).toThrow(InputError);
    expect(() => parseExecutorChoice('tvm', '--executor')).toThrow('--executor tvm: choose one of auto, ort, js');
  });
});

describe('fake quantization on ONNX Runtime', () => {
  it('matches our fake-quant simulator on every bitwidth and scheme (QDQ at 8 bits, Round/Clip arithmetic elsewhere)', async () => {
    const graph = loadModel(modelBytes(mbv2));
    const stats = await calibrate(graph, await realInputs(mbv2, 1000, 128), { executor: 'js' });
    const x = await realInputs(mbv2, 0, 200);
    for (const preset of ['w8a8', 'w4a8', 'w4a4', 'w8a8-pow2', 'w2a8']) {
      const qg = quantize(graph, stats, PRESETS[preset]!);
      const ort = await createFakeQuantExecutor(qg, { executor: 'ort' });
      const js = await createFakeQuantExecutor(qg, { executor: 'js' });
      try {
        const a = (await ort.run({ input: x })).logits!;
        const b = (await js.run({ input: x })).logits!;
        // Both round every integer tensor to its grid; they may differ where float order puts a value on the other side of a tie.
        let same = 0;
        for (let r = 0; r < 200; r++) {
          const row = (t: Float32Array) => Array.from(t.subarray(r * 10, r * 10 + 10));
          const [ra, rb] = [row(a.data), row(b.data)];
          if (ra.indexOf(Math.max(...ra)) === rb.indexOf(Math.max(...rb))) same++;
        }
        expect(same / 200, preset).toBeGreaterThanOrEqual(0.98);
        expect(relativeError([a], [b]), preset).toBeLessThan(0.05);
      } finally {
        await ort.dispose();
        await js.dispose();
      }
    }
  });

  it('a slice run from the tensors at a cut gives exactly the whole run, on both executors, skip connections across the cut included', async () => {
    const resnet = zooModels().find((m) => m.name === 'fashion-resnet')!;
    const graph = loadModel(modelBytes(resnet));
    const stats = await calibrate(graph, await realInputs(resnet, 1000, 64));
    const x = await realInputs(resnet, 0, 50);
    const qg = quantize(graph, stats, PRESETS.w4a8!);
    const layers = qg.float.layers;
    // A cut where a residual branch is open: more than one tensor crosses it.
    const at = layers.findIndex((_, i) => i > 0 && cutTensors(qg.float, i).length > 1);
    expect(at).toBeGreaterThan(0);
    for (const executor of ['ort', 'js'] as const) {
      const whole = await createFakeQuantExecutor(qg, { executor });
      const prefix = await createFakeQuantExecutor(qg, { executor, slice: { from: 0, to: at, outputs: cutTensors(qg.float, at) } });
      const suffix = await createFakeQuantExecutor(qg, { executor, slice: { from: at } });
      try {
        const cut = await prefix.run({ input: x });
        expect(Object.keys(cut).sort()).toEqual([...cutTensors(qg.float, at)].sort());
        expect(Array.from((await suffix.run(cut)).logits!.data), executor).toEqual(Array.from((await whole.run({ input: x })).logits!.data));
      } finally {
        await Promise.all([whole.dispose(), prefix.dispose(), suffix.dispose()]);
      }
    }
    expect(() => sliceGraph(qg.float, 3, 2)).toThrow(InputError);
    expect(() => sliceGraph(qg.float, 0, 2)).toThrow(/do not make any output/);
  });
});
