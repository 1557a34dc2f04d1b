import { fakeQuantGraph, powerOfTwoRequant, requantizedLayers, type FakeQuantFidelity } from '../../quant/fake-quant.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer, QuantizedGraph } from '../../quant/quantized-graph.js';

/** Layers [from, to) of a graph, with the outputs wanted (default: the graph's, when `to` is the end). */
export interface GraphSlice {
  readonly from: number;
  readonly to?: number;
  readonly outputs?: readonly string[];
}
import { sliceGraph } from '../../ir/slice-graph.js';
import type { OnnxModelBuilder } from './builder.js';
import { writeGraph, type TensorRewrite, type WrittenGraph } from './float-graph.js';

/**
 * The fake-quantized graph (the simulation of `fakeQuantGraph`/`runFakeQuant`)
 * as an ONNX model: the float layers with their quantized-then-dequantized
 * weights and biases, and every tensor that is an integer in the quantized
 * graph rounded to its grid where it is produced (graph inputs included).
 * With `slice`, only layers [from, to) of it (see sliceGraph), fed the
 * rounded tensors at the cut and giving `outputs`.
 */
export function fakeQuantToOnnx(qg: QuantizedGraph, fidelity: FakeQuantFidelity = 'exact', slice?: GraphSlice): WrittenGraph {
  const whole = fakeQuantGraph(qg, fidelity);
  const fq = slice ? sliceGraph(whole, slice.from, slice.to, slice.outputs) : whole;
  // A slice's inputs at a cut arrive already rounded (and requantized) by the layers before it.
  const fedRounded = new Set(slice && slice.from > 0 ? fq.inputs.map((i) => i.name) : []);
  const matmuls = requantizedLayers(qg, fidelity);
  return writeGraph(fq, {
    rewrite: (t) => {
      if (fedRounded.has(t)) return undefined;
      const p = qg.tensors.get(t);
      const l = matmuls.get(t);
      if (l) return requantizeLike(l, qg.tensors.get(l.inputs[0]!)!, p!, fq.shapes.get(t)!.length, powerOfTwoRequant(l) ? 'float32' : 'float64');
      return p ? roundToGrid(p) : undefined;
    },
  });
}

/**
 * Nodes for the golden model's requantization of a convolution or dense
 * output (see `fakeQuantGraph`), in float64, so that acc * m0 is exact for
 * |acc| < 2^22 and off by far less than a rounding step beyond:
 *   acc = round(x / (S_in * S_w[c]))                        the accumulator, read back
 *   y   = floor(acc * m0[c] * 2^left[c] / 2^31 + 1/2)        high_mul, ties up (eq. 13)
 *   z   = sign(y) * floor(|y| * 2^-right[c] + 1/2)           rounding_shift, ties away (eq. 14)
 *   out = (clamp(z + Z_out, lo, hi) - Z_out) * S_out
 * with left = max(-shift, 0) and right = max(shift, 0) per output channel,
 * broadcast along the channel axis (1 for NCHW convolutions, last for dense).
 * Power-of-two multipliers (m0 = 2^30) make every step exact in float32,
 * which `width` then uses: half the bytes and no casts.
 * The saturations of eq. 13 and 15 are left out: no calibrated layer comes
 * near them.
 */
function requantizeLike(l: QMatmulLayer, pIn: QParams, pOut: QParams, rank: number, width: 'float32' | 'float64'): TensorRewrite {
  const m = l.weightShape[0]!;
  const perChannel = (b: OnnxModelBuilder, base: string, f: (c: number) => number, elem: 'float32' | 'float64'): string => {
    const dims = l.kind === 'conv' ? [1, m, ...Array<number>(Math.max(0, rank - 2)).fill(1)] : [m];
    const data = Float64Array.from({ length: m }, (_, c) => f(c));
    return b.initializer(b.fresh(`${l.name}/${base}`), dims, elem, elem === 'float32' ? Float32Array.from(data) : data);
  };
  return (b, raw, out) => {
    const step = (op: string, inputs: string[], name: string, attrs: Parameters<OnnxModelBuilder['node']>[3] = {}): string => {
      const t = b.fresh(`${out}/${name}`);
      b.node(op, inputs, [t], attrs);
      return t;
    };
    const half = b.scalar(0.5, width);
    const accScale = perChannel(b, 'acc_scale', (c) => pIn.scale * l.weightScales[c]!, 'float32');
    const rounded = step('Round', [step('Div', [raw, accScale], 'acc_scaled')], 'acc_float');
    const acc = width === 'float64' ? step('Cast', [rounded], 'acc', { to: { int: 11 } }) : rounded;
    const high = perChannel(b, 'high_mul', (c) => (l.requant.m0[c]! * 2 ** Math.max(-l.requant.shift[c]!, 0)) / 2 ** 31, width);
    const y = step('Floor', [step('Add', [step('Mul', [acc, high], 'high_product'), half], 'high_nudged')], 'high');
    const shifts = perChannel(b, 'shift', (c) => 2 ** -Math.max(l.requant.shift[c]!, 0), width);
    const shifted = step('Mul', [y, shifts], 'shifted');
    const magnitude = step('Floor', [step('Add', [step('Abs', [shifted], 'shifted_abs'), half], 'shifted_nudged')], 'rounded_abs');
    let q = step('Mul', [step('Sign', [shifted], 'sign'), magnitude], 'rounded');
    if (pOut.zeroPoint !== 0) q = step('Add', [q, b.scalar(pOut.zeroPoint, width)], 'code');
    q = step('Clip', [q, b.scalar(pOut.lo, width), b.scalar(pOut.hi, width)], 'clamped');
    if (pOut.zeroPoint !== 0) q = step('Sub', [q, b.scalar(pOut.zeroPoint, width)], 'centred');
    b.node('Mul', [width === 'float64' ? step('Cast', [q], 'centred_float', { to: { int: 1 } }) : q, b.floatScalar(pOut.scale)], [out]);
  };
}

/** x -> DequantizeLinear(QuantizeLinear(x)) of an 8-bit tensor: uint8 with its zero point for affine tensors, int8 for the others. */
export function quantizeDequantize(p: QParams): TensorRewrite {
  return (b, raw, out) => {
    const scale = b.floatScalar(p.scale);
    const zp = b.intScalar(p.zeroPoint, p.scheme === 'affine' ? 'uint8' : 'int8');
    const q = b.fresh(`${out}/quantized`);
    b.node('QuantizeLinear', [raw, scale, zp], [q]);
    b.node('DequantizeLinear', [q, scale, zp], [out]);
  };
}

/**
 * Nodes for x -> dequantize(quantize(x)) with parameters `p` (docs/quantization.md
 * eq. 1, 4-5): r = (clamp(roundHalfEven(x / S) + Z, lo, hi) - Z) * S.
 *
 * - 8-bit affine or symmetric: QuantizeLinear + DequantizeLinear (uint8 or
 *   int8), the pair ONNX Runtime and other tools read as quantization. A
 *   clamp tighter than the type's range only comes from a fused ReLU or
 *   clip, which the float layer has already applied.
 * - Other bitwidths, and power-of-two scales: the same steps as float
 *   arithmetic (Div, Round, which rounds half to even, Clip), since
 *   QuantizeLinear knows only the widths of its integer types.
 */
export function roundToGrid(p: QParams): TensorRewrite {
  if (p.bits === 8 && p.scheme !== 'pow2') return quantizeDequantize(p);
  return (b, raw, out) => {
    const scale = b.floatScalar(p.scale);
    const step = (op: string, input: string, operands: string[], name: string): string => {
      const t = b.fresh(`${out}/${name}`);
      b.node(op, [input, ...operands], [t]);
      return t;
    };
    let q = step('Round', step('Div', raw, [scale], 'scaled'), [], 'rounded');
    if (p.zeroPoint !== 0) q = step('Add', q, [b.floatScalar(p.zeroPoint)], 'shifted');
    q = step('Clip', q, [b.floatScalar(p.lo), b.floatScalar(p.hi)], 'clamped');
    if (p.zeroPoint !== 0) q = step('Sub', q, [b.floatScalar(p.zeroPoint)], 'centred');
    b.node('Mul', [q, scale], [out]);
  };
}
