/**
 * A quantized graph as an ONNX QDQ model, laid out as ONNX Runtime's
 * `quantize_static` writes one: the float operators of the prepared graph,
 * every integer tensor followed where it is produced by a QuantizeLinear /
 * DequantizeLinear pair with its scale and zero point (uint8 for affine
 * tensors, int8 for symmetric and power-of-two ones), and the weights of
 * every integer convolution and dense layer stored as int8 with a
 * per-output-channel DequantizeLinear on axis 0, their biases as int32 with
 * the scale S_in * S_w[c]. A tool that reads QDQ reads it as a quantized
 * model (TensorRT wants int8 activations with zero point 0: a symmetric
 * config); ONNX Runtime runs it with its own kernels and roundings, so its
 * outputs agree with the golden model's up to those (test/export/qdq.test.ts
 * measures how far). Power-of-two configs drift most: the golden model's
 * shifts round ties away from zero, QuantizeLinear to even.
 *
 * QDQ holds 8-bit activations only (QuantizeLinear saturates to its type's
 * range, not to a narrower one); weights of 2 to 8 bits fit int8 exactly.
 */
import { QuantConfigError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import type { OnnxModelBuilder } from './builder.js';
import { quantizeDequantize } from './fake-quant.js';
import { intQuantRange } from '../../import/onnx/quantized/qonnx-op.js';
import { fusedClamps, writeQuantizedGraph } from './quantized-model.js';

/**
 * Why a quantized graph has no QDQ form, or []: activations wider or narrower
 * than 8 bits, or 8-bit codes on a range narrower than their type's that no
 * fused ReLU or clip explains (QuantizeLinear saturates to the type's range).
 */
export function qdqProblems(qg: QuantizedGraph): string[] {
  const problems: string[] = [];
  const clampOf = fusedClamps(qg);
  for (const [name, p] of qg.tensors) {
    if (p.bits !== 8) {
      problems.push(`tensor '${name}' has ${p.bits}-bit codes`);
      continue;
    }
    const full = intQuantRange(8, p.scheme !== 'affine', false);
    const clamped = clampOf(name);
    const explained = clamped !== undefined && clamped.lo === p.lo && clamped.hi === p.hi;
    if ((p.lo !== full.lo || p.hi !== full.hi) && !explained) problems.push(`tensor '${name}' has codes [${p.lo}, ${p.hi}], inside its type's [${full.lo}, ${full.hi}] with no fused ReLU or clip to explain it`);
  }
  return problems;
}

/** The QDQ model's bytes; a config QDQ cannot hold is a QuantConfigError naming the tensors. */
export function qdqToOnnx(qg: QuantizedGraph): Uint8Array {
  const problems = qdqProblems(qg);
  if (problems.length > 0) {
    throw new QuantConfigError(`QDQ holds 8-bit activations only: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}; export a config with 8-bit activations, or any config with --format qonnx`);
  }
  return writeQuantizedGraph(qg, { name: 'QDQ', tensor: (p) => quantizeDequantize(p), weights: quantizedWeights, bias: quantizedBias });
}

/** The layer's integer weights as int8 [M, ...], dequantized per output channel (axis 0) into `name`. */
function quantizedWeights(b: OnnxModelBuilder, name: string, l: QMatmulLayer): void {
  const m = l.weightShape[0]!;
  const q = b.initializer(b.fresh(`${name}_quantized`), l.weightShape, 'int8', Int8Array.from(l.weights));
  const scale = b.initializer(b.fresh(`${name}_scale`), [m], 'float32', Float32Array.from(l.weightScales));
  const zp = b.initializer(b.fresh(`${name}_zero_point`), [m], 'int8', new Int8Array(m));
  b.node('DequantizeLinear', [q, scale, zp], [name], { axis: { int: 0 } });
}

/**
 * The layer's int32 bias in units of S_in * S_w[c] (the golden model's, which
 * subtracts the input's zero point from the codes, not from the bias),
 * dequantized into `name`.
 */
function quantizedBias(b: OnnxModelBuilder, name: string, l: QMatmulLayer, inP: QParams): void {
  const m = l.weightShape[0]!;
  const q = b.initializer(b.fresh(`${name}_quantized`), [m], 'int32', Int32Array.from(l.bias));
  const scale = b.initializer(b.fresh(`${name}_scale`), [m], 'float32', Float32Array.from({ length: m }, (_, c) => inP.scale * l.weightScales[c]!));
  const zp = b.initializer(b.fresh(`${name}_zero_point`), [m], 'int32', new Int32Array(m));
  b.node('DequantizeLinear', [q, scale, zp], [name], { axis: { int: 0 } });
}
