/**
 * A quantized graph as a QONNX model: the float operators of the prepared
 * graph and QONNX's `Quant` (domain qonnx.custom_op.general, opset 1; see
 * src/import/onnx/quantized/qonnx-op.ts for its arithmetic), which carries
 * any bit width, so every config is written (QDQ holds 8-bit activations only):
 *
 * - every integer tensor: a Quant right after its producer (graph inputs
 *   included) with its scale, zero point and bit width, `signed` 0 for affine
 *   codes and 1 for symmetric and power-of-two ones, `narrow` where the range
 *   is QONNX's narrow one; its integer range is exactly our code range. A
 *   range narrower than that comes from a fused ReLU or clip, which the float
 *   layer before the Quant applies (checked here, not assumed);
 * - weights: a float initializer holding code * S_w[c] (float32; the Quant
 *   divides it back to the very code, so AdaRound's codes survive) and a
 *   signed, narrow Quant of the layer's weight bits with one scale per
 *   output channel (shaped [M, 1, ...] to broadcast along axis 0), or one
 *   scale where every channel has the same;
 * - biases: a Quant of the float bias as Brevitas' QONNX export writes one
 *   (its bias quantizer's Quant node, with the scale S_in * S_w and, for
 *   Int32Bias, bit width 32): a float initializer of code * S_in * S_w[c] and
 *   a signed Quant of 32 bits whose scale is float32(S_in * S_w[c]), zero
 *   point 0. Our int32 codes, exactly where the spec's float32 steps give
 *   each code back (checked: |code| below about 2^22 always does).
 * Float islands stay float.
 *
 * Against our golden model, Quant differs in two places only, both at or
 * next to ties: it adds the zero point before rounding, in float32 (with an
 * odd zero point a tie rounds to the other neighbour, and the sum can round
 * onto a tie), and it rounds a fused clip's bound half to even where our
 * clamp bound rounds it half up (qparams.ts, clampedParams). A reader of QONNX runs its float operators with its own
 * roundings, so its outputs agree with ours up to those and to the
 * requantization's (tools/train/qonnx_reference.py, test/export/qonnx.test.ts).
 */
import { QuantConfigError } from '../../errors.js';
import { intQuantRange, QONNX_DOMAIN, QONNX_OPSET } from '../../import/onnx/quantized/qonnx-op.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import { roundHalfEven } from '../../quant/rounding.js';
import type { OnnxModelBuilder } from './builder.js';
import type { TensorRewrite } from './float-graph.js';
import { fusedClamps, writeQuantizedGraph } from './quantized-model.js';

/** The QONNX model's bytes. */
export function qonnxToOnnx(qg: QuantizedGraph): Uint8Array {
  const clampOf = fusedClamps(qg);
  return writeQuantizedGraph(qg, {
    name: 'QONNX',
    tensor: (p, t) => activationQuant(p, t, clampOf),
    weights: quantizedWeights,
    bias: quantizedBias,
  });
}

interface QuantAttrs {
  bits: number;
  signed: boolean;
  narrow: boolean;
}

/** A Quant node x -> y in QONNX's domain, rounding half to even. */
function quant(b: OnnxModelBuilder, x: string, y: string, scale: string, zeroPoint: string, a: QuantAttrs): void {
  b.useOpset(QONNX_DOMAIN, QONNX_OPSET);
  const attrs = { signed: { int: a.signed ? 1 : 0 }, narrow: { int: a.narrow ? 1 : 0 }, rounding_mode: { string: 'ROUND' } };
  b.node('Quant', [x, scale, zeroPoint, b.floatScalar(a.bits)], [y], attrs, undefined, QONNX_DOMAIN);
}

/** The Quant attributes whose range is exactly [lo, hi], if any. */
function exactRange(bits: number, signed: boolean, lo: number, hi: number): QuantAttrs | undefined {
  for (const narrow of [false, true]) {
    const r = intQuantRange(bits, signed, narrow);
    if (r.lo === lo && r.hi === hi) return { bits, signed, narrow };
  }
  return undefined;
}

/** An integer tensor's Quant; a clamp narrower than its bits' range must be a fused activation's (see fusedClamps). */
function activationQuant(p: QParams, tensor: string, clampOf: (t: string) => QParams | undefined): TensorRewrite {
  const signed = p.scheme !== 'affine';
  let attrs = exactRange(p.bits, signed, p.lo, p.hi);
  if (attrs === undefined) {
    const full = intQuantRange(p.bits, signed, false);
    const clamped = clampOf(tensor);
    if (clamped === undefined || clamped.lo !== p.lo || clamped.hi !== p.hi) {
      throw new QuantConfigError(`tensor '${tensor}': its ${p.bits}-bit codes are clamped to [${p.lo}, ${p.hi}], inside [${full.lo}, ${full.hi}], by no fused ReLU or clip the float graph applies; QONNX's Quant cannot hold that range`);
    }
    attrs = { bits: p.bits, signed, narrow: false };
  }
  const a = attrs;
  return (b, raw, out) => quant(b, raw, out, b.floatScalar(p.scale), b.floatScalar(p.zeroPoint), a);
}

/** The layer's weights: code * S_w[c] as float32, and a signed Quant of its weight bits per output channel into `name`. */
function quantizedWeights(b: OnnxModelBuilder, name: string, l: QMatmulLayer): void {
  const m = l.weightShape[0]!;
  const k = l.weights.length / m;
  const scales = l.weightScales;
  const values = Float32Array.from(l.weights, (q, i) => q * scales[Math.floor(i / k)]!);
  const full = intQuantRange(l.weightBits, true, false);
  let lo = 0;
  let hi = 0;
  for (const q of l.weights) {
    lo = Math.min(lo, q);
    hi = Math.max(hi, q);
  }
  if (lo < full.lo || hi > full.hi) throw new QuantConfigError(`layer '${l.name}': its weight codes span [${lo}, ${hi}], beyond ${l.weightBits} signed bits`);
  // Our quantizer's weights are narrow (eq. 2a); a file's imported codes may use the full signed range.
  const narrow = lo >= full.lo + 1;
  const perTensor = scales.every((s) => s === scales[0]);
  const scale = perTensor
    ? b.floatScalar(scales[0]!)
    : b.initializer(b.fresh(`${name}_scale`), [m, ...Array<number>(l.weightShape.length - 1).fill(1)], 'float32', Float32Array.from(scales));
  const x = b.initializer(b.fresh(`${name}_float`), l.weightShape, 'float32', values);
  quant(b, x, name, scale, b.floatScalar(0), { bits: l.weightBits, signed: true, narrow });
}

/** The layer's int32 bias: code * float32(S_in * S_w[c]) as float32, and a 32-bit signed Quant of that scale into `name`. */
function quantizedBias(b: OnnxModelBuilder, name: string, l: QMatmulLayer, inP: QParams): void {
  const m = l.weightShape[0]!;
  const unit = Float32Array.from(l.weightScales, (s) => inP.scale * s);
  const values = Float32Array.from(l.bias, (q, c) => q * unit[c]!);
  for (let c = 0; c < m; c++) {
    // The spec's steps in float32: the division, then rounding half to even.
    const back = roundHalfEven(Math.fround(values[c]! / unit[c]!));
    if (back !== l.bias[c]) throw new QuantConfigError(`layer '${l.name}': its bias code ${l.bias[c]} (channel ${c}) comes back from a float32 Quant as ${back}; QONNX cannot hold it exactly`);
  }
  const scale = b.initializer(b.fresh(`${name}_scale`), [m], 'float32', unit);
  const x = b.initializer(b.fresh(`${name}_float`), [m], 'float32', values);
  quant(b, x, name, scale, b.floatScalar(0), { bits: 32, signed: true, narrow: false });
}
