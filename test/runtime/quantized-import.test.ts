/**
 * Models quantized elsewhere run on the GPU kernels bit-exact with the golden
 * model, on both runners: the third-party files of tools/train/quantized.py
 * (ONNX Runtime's QDQ layout, torch.ao's export) on real test images, batch
 * 1 and 8, ONNX's QLinearConv and QLinearMatMul cases (their float
 * islands included), and a zoo model exported as QONNX at w4a4 (4-bit
 * weights and activations read from its Quant nodes). Through describeOnHosts: a WebGPU error or a buffer left
 * alive fails the test.
 */
import { expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { loadImages } from '../../src/data/load-images.js';
import { qonnxToOnnx } from '../../src/export/onnx/qonnx.js';
import { loadQuantizedModel } from '../../src/model/load-model.js';
import { loadModelFile, loadQuantizedModelFile } from '../../src/model/load-model-file.js';
import { PRESETS } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import type { GpuTestHost } from '../gpu/harness/hosts.js';
import { thirdPartyFiles } from '../helpers/quantized-files.js';
import { loadQuantizedCase } from '../helpers/quantized-testdata.js';
import { realInputs, zooModels } from '../helpers/zoo.js';

async function expectGpuEqualsGolden(host: GpuTestHost, qg: QuantizedGraph, inputs: readonly Tensor[], what: string): Promise<void> {
  const session = await host.runner.createSession(qg);
  try {
    for (const x of inputs) {
      const golden = runQuantized(qg, { [qg.inputs[0]!.name]: x });
      const gpu = await session.run(x);
      expect(Object.keys(golden.integers).length, `${what}: integer outputs`).toBeGreaterThan(0);
      for (const [name, ints] of Object.entries(golden.integers)) {
        const got = gpu.integers[name]!;
        const bad = ints.findIndex((v, i) => v !== got[i]);
        expect(got.length, `${what} batch ${x.shape[0]} ${name}`).toBe(ints.length);
        expect(bad, `${what} batch ${x.shape[0]}: first differing code of '${name}' (golden ${ints[bad]}, gpu ${got[bad]})`).toBe(-1);
      }
    }
  } finally {
    await session.dispose();
  }
}

describeOnHosts((host) => {
  it('third-party files (ONNX Runtime QDQ layout, torch.ao export): GPU equal to the golden model, batch 1 and 8', async () => {
    for (const f of thirdPartyFiles()) {
      const qg = loadQuantizedModelFile(f.path)!.quantized;
      const x8 = await realInputs(f.source, 0, 8);
      const x1 = { shape: [1, ...x8.shape.slice(1)], data: x8.data.slice(0, x8.data.length / 8) };
      await expectGpuEqualsGolden(host(), qg, [x1, x8], f.name);
    }
  }, 300_000);

  it("ONNX's QLinearConv and QLinearMatMul cases, float islands included: GPU equal to the golden model", async () => {
    for (const id of ['node/test_qlinearconv', 'node/test_qlinearmatmul_2D']) {
      const c = loadQuantizedCase(id);
      await expectGpuEqualsGolden(host(), c.imported.quantized, [c.input], id);
    }
  }, 120_000);

  it('a zoo model exported as QONNX at w4a4 and imported (4-bit weights and activations from its Quant nodes): GPU equal to the golden model, batch 1 and 8', async () => {
    const model = zooModels().find((m) => m.name === 'fashion-vgg')!;
    const graph = loadModelFile(model.path);
    const calib = await loadImages(model.card.dataset!, graph, { split: 'train', count: 64, modelPath: model.path });
    const qg = loadQuantizedModel(qonnxToOnnx(quantize(graph, await calibrate(graph, calib.x), PRESETS.w4a4!)))!.quantized;
    expect(qg.layers.filter((l) => l.kind === 'conv' || l.kind === 'dense').map((l) => (l.kind === 'conv' || l.kind === 'dense' ? l.weightBits : 0))).toEqual([4, 4, 4, 4, 4, 4]);
    const x8 = await realInputs(model, 0, 8);
    const x1 = { shape: [1, ...x8.shape.slice(1)], data: x8.data.slice(0, x8.data.length / 8) };
    await expectGpuEqualsGolden(host(), qg, [x1, x8], 'fashion-vgg w4a4 QONNX');
  }, 300_000);
}, { title: 'quantized import' });
