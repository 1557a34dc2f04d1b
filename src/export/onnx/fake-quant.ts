import { fakeQuantGraph } from '../../quant/fake-quant.js';
import type { QParams } from '../../quant/qparams.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { writeGraph, type TensorRewrite, type WrittenGraph } from './float-graph.js';

/**
 * The fake-quantized graph (the simulation of `fakeQuantGraph`/`runFakeQuant`)
 * as an ONNX model: the float layers with their quantized-then-dequantized
 * weights and biases, and every tensor that is an integer in the quantized
 * graph rounded to its grid where it is produced (graph inputs included).
 */
export function fakeQuantToOnnx(qg: QuantizedGraph): WrittenGraph {
  return writeGraph(fakeQuantGraph(qg), {
    rewrite: (t) => {
      const p = qg.tensors.get(t);
      return p ? roundToGrid(p) : undefined;
    },
  });
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
  if (p.bits === 8 && p.scheme !== 'pow2') {
    return (b, raw, out) => {
      const scale = b.floatScalar(p.scale);
      const zp = b.intScalar(p.zeroPoint, p.scheme === 'affine' ? 'uint8' : 'int8');
      const q = b.fresh(`${out}/quantized`);
      b.node('QuantizeLinear', [raw, scale, zp], [q]);
      b.node('DequantizeLinear', [q, scale, zp], [out]);
    };
  }
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
