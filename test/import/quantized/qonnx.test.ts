/**
 * Reading QONNX (Quant / IntQuant) on the tiny model quantized at w4a4 and
 * exported by qonnxToOnnx: its bit widths are carried onto the integer
 * layers, IntQuant in FINN's domain reads as Quant, and what quantgpu cannot
 * carry is a one-line typed error or a named float island. The zoo models'
 * round trip and the independent reference are in test/export/qonnx.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import { ModelFormatError, QuantConfigError, UnsupportedOperatorError } from '../../../src/errors.js';
import { qdqToOnnx } from '../../../src/export/onnx/qdq.js';
import { qonnxToOnnx } from '../../../src/export/onnx/qonnx.js';
import { onnx } from '../../../src/import/onnx/proto.js';
import { loadQuantizedModel } from '../../../src/model/load-model.js';
import { collectStats } from '../../../src/quant/calibrate-graph.js';
import { PRESETS, type LayerQuant } from '../../../src/quant/config.js';
import { quantize } from '../../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../../src/quant/prepare.js';
import type { QMatmulLayer, QuantizedGraph } from '../../../src/quant/quantized-graph.js';
import { tinyGraph, tinyInput } from '../../helpers/tiny-model.js';

async function tinyW4a4(): Promise<QuantizedGraph> {
  const graph = prepareForQuantization(tinyGraph());
  const { tensors } = await collectStats(graph, [tinyInput(16, 99)]);
  return quantize(graph, tensors, PRESETS.w4a4!);
}

/** The exported model with `change` applied to its decoded form. */
function edited(bytes: Uint8Array, change: (m: onnx.ModelProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  change(m);
  return onnx.ModelProto.encode(m).finish();
}

/** The Quant node whose output is `tensor`. */
function quantOf(m: onnx.ModelProto, tensor: string): onnx.INodeProto {
  const n = m.graph!.node!.find((x) => x.opType === 'Quant' && x.output![0] === tensor);
  if (!n) throw new Error(`no Quant writes '${tensor}'`);
  return n;
}

/** A new float32 initializer; returns its name. */
function floats(m: onnx.ModelProto, name: string, dims: number[], values: number[]): string {
  const data = Float32Array.from(values);
  m.graph!.initializer!.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) }));
  return name;
}

describe('QONNX import', () => {
  it('carries the file\'s bit widths onto the integer layers, with the golden outputs of the config it came from; IntQuant in FINN\'s domain reads the same', async () => {
    const qg = await tinyW4a4();
    const bytes = qonnxToOnnx(qg);
    const x = tinyInput(4, 5);
    const ours = runQuantized(qg, { x }).integers;
    const finn = edited(bytes, (m) => {
      for (const n of m.graph!.node!) if (n.opType === 'Quant') Object.assign(n, { opType: 'IntQuant', domain: 'finn.custom_op.general' });
    });
    for (const file of [bytes, finn]) {
      const imported = loadQuantizedModel(file)!;
      const iq = imported.quantized;
      for (const name of ['c1', 'c2']) {
        const l = iq.layers.find((q) => q.name === name);
        expect(l?.kind === 'conv' && l.weightBits, name).toBe(4);
        expect(iq.settings.get(name), name).toMatchObject({ weightBits: 4, activationBits: 4 });
      }
      expect([...iq.tensors.values()].every((p) => p.bits === 4)).toBe(true);
      expect(runQuantized(iq, { x }).integers).toEqual(ours);
    }
  });

  it('refuses what it cannot carry in one typed line, naming the node; weights wider than 8 bits are a named float island', async () => {
    const bytes = qonnxToOnnx(await tinyW4a4());
    const load = (change: (m: onnx.ModelProto) => void) => () => loadQuantizedModel(edited(bytes, change));
    const attr = (n: onnx.INodeProto, name: string) => n.attribute!.find((a) => a.name === name)!;
    expect(load((m) => (attr(quantOf(m, 'h'), 'rounding_mode').s = new TextEncoder().encode('FLOOR')))).toThrow(UnsupportedOperatorError);
    expect(load((m) => (attr(quantOf(m, 'h'), 'rounding_mode').s = new TextEncoder().encode('FLOOR')))).toThrow(/^node '.*': operator qonnx\.custom_op\.general\.Quant with rounding_mode FLOOR is not supported \(ROUND, half to even, is\)$/);
    expect(load((m) => (quantOf(m, 'h').input![3] = floats(m, 'bits_4_5', [], [4.5])))).toThrow(ModelFormatError);
    expect(load((m) => (quantOf(m, 'h').input![3] = floats(m, 'bits_4_5', [], [4.5])))).toThrow(/bitwidth \[4\.5\] is not one positive integer$/);
    expect(load((m) => (quantOf(m, 'h').input![1] = floats(m, 'scales_4', [1, 4, 1, 1], [0.1, 0.2, 0.3, 0.4])))).toThrow(/^node '.*': operator qonnx\.custom_op\.general\.Quant of the run-time tensor 'h\/raw' with 4 scales and 1 zero points \(per-channel activations\) is not supported; activations take one scale$/);
    expect(load((m) => (quantOf(m, 'h').input![3] = floats(m, 'bits_12', [], [12])))).toThrow(/^node '.*': operator qonnx\.custom_op\.general\.Quant with 12-bit codes of the run-time tensor 'h\/raw' is not supported \(quantgpu's integer activations take 2 to 8 bits\)$/);
    expect(load((m) => (quantOf(m, 'h').input![2] = floats(m, 'zero_half', [], [0.5])))).toThrow(/with the non-integer zero point 0\.5 is not supported/);
    // QONNX reads a signed 1-bit Quant as bipolar (+-1): not a range of ours.
    expect(load((m) => (quantOf(m, 'w2').input![3] = floats(m, 'bits_1', [], [1])))).toThrow(/^node '.*': operator qonnx\.custom_op\.general\.Quant with 1-bit \(bipolar\) codes of constant '.*' is not supported \(2 bits at least\)$/);
    // A second Quant of the same tensor with other codes (here 8 bits beside 4) would give its readers the wrong ones.
    const twice = load((m) => {
      const first = quantOf(m, 'h');
      const second = onnx.NodeProto.create({ ...first, name: 'h_quant_8', output: ['h_8bit'], input: [first.input![0]!, first.input![1]!, first.input![2]!, floats(m, 'bits_8', [], [8])] });
      m.graph!.node!.splice(m.graph!.node!.indexOf(first) + 1, 0, second);
    });
    expect(twice).toThrow(UnsupportedOperatorError);
    expect(twice).toThrow(/^node 'h_quant_8': operator qonnx\.custom_op\.general\.Quant quantizes 'h\/raw' with scale \S+, zero point 0 and 8-bit unsigned codes, but '.*' already gave it scale \S+, zero point 0 and 4-bit unsigned codes$/);

    // 12-bit weights have no lanes of ours: the layer runs in float, and the notes say why.
    const wide = loadQuantizedModel(edited(bytes, (m) => (quantOf(m, 'w2').input![3] = floats(m, 'bits_12', [], [12]))))!;
    expect(wide.quantized.layers.find((l) => l.name === 'c2')!.kind).toBe('float');
    expect(wide.notes).toContainEqual(expect.stringMatching(/^layer 'c2' \(conv\) runs in float between dequantize and quantize: its weights are 12-bit codes, wider than our 8-bit lanes$/));
  });

  it('export: a clamp narrower than the bit range that no fused activation explains is refused; QDQ points to --format qonnx', async () => {
    const qg = await tinyW4a4();
    // c1's ReLU narrows 'h' (fine: the float Relu comes before the Quant); c2 has no activation.
    const p = qg.tensors.get('y')!;
    const narrowed: QuantizedGraph = { ...qg, tensors: new Map(qg.tensors).set('y', { ...p, hi: p.hi - 2 }) };
    expect(() => qonnxToOnnx(narrowed)).toThrow(QuantConfigError);
    expect(() => qonnxToOnnx(narrowed)).toThrow(/^tensor 'y': its 4-bit codes are clamped to \[0, 13\], inside \[0, 15\], by no fused ReLU or clip the float graph applies; QONNX's Quant cannot hold that range$/);
    expect(() => qdqToOnnx(qg)).toThrow(/^QDQ holds 8-bit activations only: .*; export a config with 8-bit activations, or any config with --format qonnx$/);
  });

  it('a bias the float model lacks (a learned correction) is written, QDQ and QONNX, and read back', async () => {
    const graph = prepareForQuantization(tinyGraph());
    const { tensors } = await collectStats(graph, [tinyInput(16, 99)]);
    const x = tinyInput(4, 5);
    for (const [config, write] of [[PRESETS.w8a8!, qdqToOnnx], [PRESETS.w4a4!, qonnxToOnnx]] as const) {
      const qg = quantize(graph, tensors, config);
      // c2 as if its float layer had no bias and its integer bias came from empirical bias correction.
      const c2 = qg.layers.find((l): l is QMatmulLayer => l.name === 'c2' && l.kind === 'conv')!;
      const bare = { ...c2.layer, inputs: c2.layer.inputs.slice(0, 2) };
      const learned: QuantizedGraph = {
        ...qg,
        float: { ...qg.float, layers: qg.float.layers.map((l) => (l.name === 'c2' ? bare : l)) },
        layers: qg.layers.map((l) => (l === c2 ? { ...c2, layer: bare } : l)),
      };
      const back = loadQuantizedModel(write(learned))!.quantized;
      const l = back.layers.find((q) => q.name === 'c2')!;
      expect(l.kind === 'conv' && [...l.bias], config.name).toEqual([...(learned.layers.find((q) => q.name === 'c2') as { bias: Int32Array }).bias]);
      expect(runQuantized(back, { x }).integers, config.name).toEqual(runQuantized(learned, { x }).integers);
    }
  });

  it('a QONNX file\'s narrow 8-bit activations read back keep their range, which QDQ export refuses rather than widen', async () => {
    const graph = prepareForQuantization(tinyGraph());
    const { tensors } = await collectStats(graph, [tinyInput(16, 99)]);
    const qg = quantize(graph, tensors, { name: 'w8a8-symmetric', default: { ...(PRESETS.w8a8!.default as LayerQuant), scheme: 'symmetric' } });
    const narrow = edited(qonnxToOnnx(qg), (m) => (quantOf(m, 'y').attribute!.find((a) => a.name === 'narrow')!.i = 1));
    const imported = loadQuantizedModel(narrow)!.quantized;
    expect([...imported.tensors.values()]).toContainEqual(expect.objectContaining({ lo: -127, hi: 127 }));
    expect(() => qdqToOnnx(imported)).toThrow(/^QDQ holds 8-bit activations only: tensor '.*' has codes \[-127, 127\], inside its type's \[-128, 127\] with no fused ReLU or clip to explain it; /);
    // QONNX writes it as it read it.
    const again = loadQuantizedModel(qonnxToOnnx(imported))!.quantized;
    expect([...again.tensors.values()]).toContainEqual(expect.objectContaining({ lo: -127, hi: 127 }));
  });
});
