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
import { QuantConfigError, UnsupportedOperatorError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import type { OnnxModelBuilder } from './builder.js';
import { quantizeDequantize } from './fake-quant.js';
import { writeGraph } from './float-graph.js';

/** Why a quantized graph has no QDQ form (activations wider or narrower than 8 bits), or []. */
export function qdqProblems(qg: QuantizedGraph): string[] {
  const problems: string[] = [];
  for (const [name, p] of qg.tensors) if (p.bits !== 8) problems.push(`tensor '${name}' has ${p.bits}-bit codes`);
  return problems;
}

/** The QDQ model's bytes; a config QDQ cannot hold is a QuantConfigError naming the tensors. */
export function qdqToOnnx(qg: QuantizedGraph): Uint8Array {
  const problems = qdqProblems(qg);
  if (problems.length > 0) {
    throw new QuantConfigError(`QDQ holds 8-bit activations only: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}; export a config with 8-bit activations`);
  }
  const weights = new Map<string, (b: OnnxModelBuilder, name: string) => void>();
  for (const l of qg.layers) {
    if (l.kind !== 'conv' && l.kind !== 'dense') continue;
    const inP = qg.tensors.get(l.inputs[0]!)!;
    // A constant shared by two layers would carry one layer's codes and scales for both.
    for (const c of [l.layer.inputs[1]!, l.layer.inputs[2]]) {
      if (c !== undefined && qg.float.layers.filter((x) => x.inputs.includes(c)).length > 1) throw new UnsupportedOperatorError(l.name, l.layer.op, `shares its constant '${c}' with another layer, which QDQ export does not write`);
    }
    weights.set(l.layer.inputs[1]!, (b, name) => quantizedWeights(b, name, l));
    // A layer without a bias keeps none: its integer bias is all zero.
    const bias = l.layer.inputs[2];
    if (bias !== undefined) weights.set(bias, (b, name) => quantizedBias(b, name, l, inP));
  }
  return writeGraph(qg.float, {
    rewrite: (t) => {
      const p = qg.tensors.get(t);
      return p === undefined ? undefined : quantizeDequantize(p);
    },
    constant: (name) => weights.get(name),
  }).bytes;
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
