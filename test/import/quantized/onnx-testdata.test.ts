/**
 * ONNX's own QLinearConv, QLinearMatMul, QuantizeLinear and DequantizeLinear
 * cases (Debian's libonnx-testdata) imported as models through the quantized
 * importer and run by the golden model: quantized outputs within one step of
 * the expected codes (ONNX rounds the float product once; a layer our kernels
 * cannot hold exactly runs as a float island, said in the notes), dequantized
 * outputs equal to float32. Per-axis activation parameters, dynamic
 * quantization and ConvInteger/MatMulInteger without their rescale are
 * refused with a typed error naming the node. The GPU runs
 * of these cases are in test/runtime/quantized-import.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import { UnsupportedOperatorError } from '../../../src/errors.js';
import { importQuantizedOnnx } from '../../../src/import/onnx/quantized/import-quantized.js';
import { onnx } from '../../../src/import/onnx/proto.js';
import { requireTestdata } from '../../helpers/onnx-testdata.js';
import { frozenCaseModel, loadQuantizedCase } from '../../helpers/quantized-testdata.js';

requireTestdata();

/** Cases run, each with the float island its notes must name (the layer our 8-bit lanes cannot hold), if any. */
const RUN: Readonly<Record<string, RegExp | undefined>> = {
  'node/test_qlinearconv': /runs in float .*beyond a signed byte/,
  'node/test_qlinearmatmul_2D': /runs in float .*beyond a signed byte/,
  'node/test_qlinearmatmul_3D': /runs in float .*no integer kernel/,
  'node/test_quantizelinear': undefined,
  'node/test_dequantizelinear': undefined,
};

/** Cases refused, with the error each must give. */
const REFUSED: Readonly<Record<string, RegExp>> = {
  'node/test_quantizelinear_axis': /^node '.*': operator QuantizeLinear with 3 scales \(per-axis activations\) is not supported/,
  'node/test_dequantizelinear_axis': /^node '.*': operator DequantizeLinear of graph input 'x' with 3 scales is not supported/,
  // Alone, their int32 accumulator is the graph's output: no rescale gives it a scale (test/import/quantized/integer-ops.test.ts has the rescaled form).
  'node/test_convinteger_with_padding': /^node '.*': operator ConvInteger is not supported here: its int32 output is not rescaled by a Cast to float/,
  'node/test_matmulinteger': /^node '.*': operator MatMulInteger is not supported here: its int32 output is not rescaled/,
  'node/test_dynamicquantizelinear': /^node '.*': operator DynamicQuantizeLinear is not supported: it chooses scales at run time/,
};

describe('ONNX quantized-operator cases through the importer and the golden model', () => {
  for (const [id, island] of Object.entries(RUN)) {
    it(`${id}: ${island ? 'a float island, said so; ' : ''}outputs as expected`, () => {
      const c = loadQuantizedCase(id);
      const floats = c.imported.quantized.layers.filter((l) => l.kind === 'float');
      if (island) {
        expect(floats.length, 'one float island').toBe(1);
        expect(c.imported.notes.some((n) => island.test(n)), c.imported.notes.join('\n')).toBe(true);
      } else expect(floats).toEqual([]);
      const r = runQuantized(c.imported.quantized, { [c.inputName]: c.input });
      if (c.expected.codes) {
        const got = r.integers[c.expected.name]!;
        expect(got.length).toBe(c.expected.data.length);
        const off = c.expected.data.map((e, i) => Math.abs(got[i]! - e));
        expect(Math.max(...off), `codes ${Array.from(got).join(',')} vs ${c.expected.data.join(',')}`).toBeLessThanOrEqual(1);
      } else {
        expect(Array.from(r.outputs[c.expected.name]!.data)).toEqual(c.expected.data.map(Math.fround));
      }
    });
  }

  for (const [id, message] of Object.entries(REFUSED)) {
    it(`${id}: refused with a typed one-line error naming the node`, () => {
      const { model } = frozenCaseModel(id);
      const run = (): unknown => importQuantizedOnnx(onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish()));
      expect(run).toThrow(UnsupportedOperatorError);
      expect(run).toThrow(message);
    });
  }
});
