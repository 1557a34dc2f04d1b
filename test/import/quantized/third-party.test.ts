/**
 * Models quantized by other tools' layouts (tools/train/quantized.py: ONNX
 * Runtime's quantize_static QDQ layout, and torch.ao eager quantization
 * exported by torch.onnx.export), imported with their own scales and zero
 * points: the golden model lies within one output step of ONNX Runtime
 * (onnxruntime-node, which runs the file with its own kernels) on at least
 * 99% of the logits of the first 1000 Fashion-MNIST test images, and agrees
 * with it on at least 99% of top-1. The GPU's equality with the golden model
 * is in test/runtime/quantized-import.test.ts.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import { argmaxRows } from '../../../src/eval/evaluate.js';
import { loadQuantizedModelFile } from '../../../src/model/load-model-file.js';
import { agreement } from '../../../src/quant/measures.js';
import { thirdPartyFiles, THIRD_PARTY_LAYOUTS, type ThirdPartyFile } from '../../helpers/quantized-files.js';
import { realInputs } from '../../helpers/zoo.js';

const TEST_IMAGES = 1000;

describe('third-party quantized files against ONNX Runtime', () => {
  let files: ThirdPartyFile[];
  beforeAll(() => {
    files = thirdPartyFiles();
  }, 120_000);

  for (const [i, { model, layout, what, floatLayers }] of THIRD_PARTY_LAYOUTS.entries()) {
    it(`${model} ${layout} (${what}): golden model within one output step of ONNX Runtime on >= 99% of logits, top-1 agreement >= 99%`, async () => {
      const f = files[i]!;
      const imported = loadQuantizedModelFile(f.path)!;
      expect(imported, 'recognised as quantized').toBeDefined();
      const qg = imported.quantized;
      // Every layer maps onto an integer kernel but those the file keeps in float, which the notes name.
      expect(qg.layers.filter((l) => l.kind === 'float').map((l) => l.name)).toEqual(floatLayers);
      for (const name of floatLayers) expect(imported.notes.some((n) => n.startsWith(`layer '${name}'`)), name).toBe(true);
      const x = await realInputs(f.source, 0, TEST_IMAGES);
      const input = qg.inputs[0]!.name;
      const golden = runQuantized(qg, { [input]: x });
      const out = qg.outputs[0]!;
      const ours = golden.integers[out.name]!;
      const pOut = qg.tensors.get(out.integer!)!;
      const session = await ort.InferenceSession.create(readFileSync(f.path));
      try {
        const theirs = Object.values(await session.run({ [input]: new ort.Tensor('float32', x.data, x.shape) }))[0]!;
        const logits = theirs.data as Float32Array;
        // ONNX Runtime's logits are dequantized codes: back to codes on the same grid.
        const codes = Int32Array.from(logits, (v) => Math.round(v / pOut.scale) + pOut.zeroPoint);
        const within = codes.filter((q, k) => Math.abs(q - ours[k]!) <= 1).length / codes.length;
        const exact = codes.filter((q, k) => q === ours[k]).length / codes.length;
        const top1 = agreement(argmaxRows({ shape: [...theirs.dims], data: logits }), argmaxRows(golden.outputs[out.name]!));
        console.log(`[third-party] ${f.name}: ${(100 * exact).toFixed(2)}% of logits equal to ONNX Runtime's, ${(100 * within).toFixed(2)}% within one step; top-1 agreement ${(100 * top1).toFixed(1)}% of ${TEST_IMAGES}`);
        expect(within).toBeGreaterThanOrEqual(0.99);
        expect(top1).toBeGreaterThanOrEqual(0.99);
      } finally {
        await session.release();
      }
    }, 180_000);
  }
});
