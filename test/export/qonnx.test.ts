/**
 * The QONNX export (Quant nodes of any bit width), on two zoo models at five
 * configs (w8a8, w4a8, w4a4, w8a8-pow2, per-tensor symmetric w8a8):
 * - read back by our importer it is the same quantized graph: the golden
 *   model's integer outputs (and so `outputDigest`) are equal, and the layers
 *   carry the config's bit widths;
 * - an independent reading of the format, tools/train/qonnx_reference.py
 *   (the spec's formula as standard ONNX operators, written from the spec),
 *   run by ONNX Runtime (onnxruntime-node), agrees with our golden model on
 *   at least 99% of top-1 over 500 Fashion-MNIST test images at 8-bit
 *   activations; at w4a4 its logits lie within one step of ours on at least
 *   99% of them, and top-1 agrees on at least 95% (one step of a 16-level
 *   logit decides many a top-1; see the test). The largest difference of the
 *   logits in output steps is printed.
 * Calibration: 128 training images per model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import { loadImages } from '../../src/data/load-images.js';
import { OutputDigest } from '../../src/eval/digest.js';
import { argmaxRows } from '../../src/eval/evaluate.js';
import { QONNX_DOMAIN } from '../../src/import/onnx/quantized/qonnx-op.js';
import { importQuantizedOnnx } from '../../src/import/onnx/quantized/import-quantized.js';
import { decodeModelProto } from '../../src/import/onnx/model-proto.js';
import { qonnxToOnnx } from '../../src/export/onnx/qonnx.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { agreement } from '../../src/quant/measures.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import type { QMatmulLayer, QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { MODELS_DIR, zooModels, type ZooModel } from '../helpers/zoo.js';

const CALIB_IMAGES = 128;
const TEST_IMAGES = 500;
const MODELS = ['fashion-vgg', 'fashion-resnet'];
const REFERENCE = join(MODELS_DIR, '../tools/train/qonnx_reference.py');

const w8a8 = PRESETS.w8a8!.default as LayerQuant;
const CONFIGS: QuantConfig[] = [
  PRESETS.w8a8!,
  PRESETS.w4a8!,
  PRESETS.w4a4!,
  PRESETS['w8a8-pow2']!,
  { name: 'w8a8-symmetric-per-tensor', default: { ...w8a8, scheme: 'symmetric', weightGranularity: 'per-tensor' } },
];

const calibrated = new Map<string, Promise<{ graph: Graph; stats: Awaited<ReturnType<typeof calibrate>> }>>();

/** The model's graph and calibration statistics, once per model for every config. */
function calibration(model: ZooModel): Promise<{ graph: Graph; stats: Awaited<ReturnType<typeof calibrate>> }> {
  if (!calibrated.has(model.name)) {
    calibrated.set(model.name, (async () => {
      const graph = loadModelFile(model.path);
      const calib = await loadImages(model.card.dataset!, graph, { split: 'train', count: CALIB_IMAGES, modelPath: model.path });
      return { graph, stats: await calibrate(graph, calib.x) };
    })());
  }
  return calibrated.get(model.name)!;
}

function digestOf(integers: Record<string, Int32Array>): string {
  const d = new OutputDigest();
  for (const v of Object.values(integers)) d.add(v);
  return d.hex();
}

/** The model through tools/train/qonnx_reference.py: plain ONNX operators in place of every Quant. */
function referenceModel(bytes: Uint8Array, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-qonnx-'));
  const qonnx = join(dir, `${name}.qonnx.onnx`);
  const plain = join(dir, `${name}.plain.onnx`);
  writeFileSync(qonnx, bytes);
  execFileSync('/usr/bin/python3', [REFERENCE, qonnx, plain], { stdio: ['ignore', 'ignore', 'pipe'] });
  return plain;
}

function expectQonnxLayout(bytes: Uint8Array, qg: QuantizedGraph): void {
  const m = decodeModelProto(bytes);
  expect(m.opsetImport!.map((o) => [o.domain, Number(o.version)])).toContainEqual([QONNX_DOMAIN, 1]);
  const quants = m.graph!.node!.filter((n) => n.opType === 'Quant');
  expect(quants.every((n) => n.domain === QONNX_DOMAIN)).toBe(true);
  const matmuls = qg.layers.filter((l): l is QMatmulLayer => l.kind === 'conv' || l.kind === 'dense');
  // One Quant per integer tensor, per integer weight and per bias, nothing else quantized.
  const biases = matmuls.filter((l) => l.layer.inputs[2] !== undefined).length;
  expect(quants.length).toBe(qg.tensors.size + matmuls.length + biases);
  expect(m.graph!.node!.filter((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')).toEqual([]);
}

describe('QONNX export', () => {
  for (const name of MODELS) {
    for (const config of CONFIGS) {
      it(`${name} at ${config.name}: imported again gives its outputDigest and bit widths; ONNX Runtime on the spec's rewrite agrees with the golden model`, async () => {
        const model = zooModels().find((m) => m.name === name)!;
        const { graph, stats } = await calibration(model);
        const qg = quantize(graph, stats, config);
        const bytes = qonnxToOnnx(qg);
        expectQonnxLayout(bytes, qg);

        const imported = importQuantizedOnnx(decodeModelProto(bytes));
        // Nothing of our own export runs in float or is rewritten, but per-tensor scales (written once, repeated per channel).
        const expected = /^(requantization|outputs whose zero point|per-tensor weight scales)/;
        expect(imported.notes.filter((n) => !expected.test(n))).toEqual([]);
        const iq = imported.quantized;
        const intLayers = (q: QuantizedGraph) => q.layers.filter((l) => l.kind !== 'float' && l.kind !== 'move').map((l) => l.kind);
        expect(intLayers(iq)).toEqual(intLayers(qg));
        // The file's bit widths are carried onto the integer layers and tensors.
        const bitsOf = (q: QuantizedGraph) => q.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [l.weightBits] : []));
        expect(bitsOf(iq)).toEqual(bitsOf(qg));
        // (The importer may hold one tensor under two names, a Flatten's input and output say: the widths, not the counts.)
        const tensorBits = (q: QuantizedGraph) => new Set([...q.tensors.values()].map((p) => p.bits));
        expect(tensorBits(iq)).toEqual(tensorBits(qg));

        const test = await loadImages(model.card.dataset!, graph, { count: TEST_IMAGES, modelPath: model.path });
        const input = graph.inputs[0]!.name;
        const ours = runQuantized(qg, { [input]: test.x });
        const theirs = runQuantized(iq, { [iq.inputs[0]!.name]: test.x });
        expect(Object.keys(theirs.integers)).toEqual(Object.keys(ours.integers));
        expect(digestOf(theirs.integers)).toBe(digestOf(ours.integers));

        const session = await ort.InferenceSession.create(referenceModel(bytes, `${name}-${config.name}`));
        try {
          const out = Object.values(await session.run({ [input]: new ort.Tensor('float32', test.x.data, test.x.shape) }))[0]!;
          const logits = out.data as Float32Array;
          const a = agreement(argmaxRows({ shape: [...out.dims], data: logits }), argmaxRows(Object.values(ours.outputs)[0]!));
          const pOut = qg.tensors.get(qg.outputs[0]!.integer!)!;
          const codes = ours.integers[qg.outputs[0]!.name]!;
          let maxSteps = 0;
          let within = 0;
          for (let i = 0; i < logits.length; i++) {
            const steps = Math.abs(Math.round(logits[i]! / pOut.scale) + pOut.zeroPoint - codes[i]!);
            maxSteps = Math.max(maxSteps, steps);
            if (steps <= 1) within++;
          }
          // Golden logits whose top code is shared by two classes: argmax picks the first, a float reader either.
          const classes = out.dims[1]!;
          const tied = Array.from({ length: codes.length / classes }, (_, r) => codes.subarray(r * classes, (r + 1) * classes)).filter((row) => row.filter((v) => v === Math.max(...row)).length > 1).length;
          console.log(`[qonnx] ${name} ${config.name}: ONNX Runtime on the reference rewrite agrees on ${(100 * a).toFixed(1)}% of top-1 over ${TEST_IMAGES} (golden top code tied on ${tied}); logits within one step ${(100 * within / logits.length).toFixed(2)}%, at most ${maxSteps} steps apart`);
          if (pOut.bits === 8) expect(a).toBeGreaterThanOrEqual(0.99);
          else {
            // 4-bit logits have 16 levels: ONNX Runtime's float convolutions round near-ties of every 4-bit tensor their own way, one step
            // of which decides many a top-1 (measured 95.8% on both models, 94 and 53 images tied). A floor, not the claim; the claim is the steps.
            expect(within / logits.length).toBeGreaterThanOrEqual(0.99);
            expect(a).toBeGreaterThanOrEqual(0.95);
          }
        } finally {
          await session.release();
        }
      }, 300_000);
    }
  }
});
