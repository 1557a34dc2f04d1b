/**
 * The golden functions of the integer operators other than convolution
 * (int-conv.ts) and the average pools (int-pool.ts): exactly the integer
 * steps the shaders run. Integer tensors live in Float32Arrays (their values
 * are exact integers below 2^24), so that data movement and max pools reuse
 * the float kernels unchanged. The operator table (src/runtime/operators.ts)
 * names each one next to its kernel.
 */
import { multiplyByQuantizedMultiplier, requantize, saturatingLeftShift } from '../../quant/fixed-point.js';
import type { QParams } from '../../quant/qparams.js';
import type { QBinaryLayer, QConcatLayer, QLutLayer, QMoveLayer } from '../../quant/quantized-graph.js';
import { dequantizeValue, quantizeValue } from '../../quant/rounding.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import { normalizeAxis } from '../../ir/shape.js';
import { broadcastBinary } from '../broadcast.js';
import { concat } from '../layout-ops.js';
import { runLayer } from '../run-layer.js';
import type { Tensor } from '../tensor.js';

/** Float to codes: round half to even, then saturate (eq. 4-5). */
export function goldenQuantize(x: Tensor, p: QParams): Tensor {
  return { shape: x.shape, data: x.data.map((r) => quantizeValue(r, p.scale, p.zeroPoint, p.lo, p.hi)) };
}

/** Codes to float (eq. 1). */
export function goldenDequantize(x: Tensor, p: QParams): Tensor {
  return { shape: x.shape, data: x.data.map((q) => dequantizeValue(q, p.scale, p.zeroPoint)) };
}

/** table[q - lo] (eq. 21). */
export function goldenLut(layer: QLutLayer, x: Tensor, inP: QParams): Tensor {
  return { shape: x.shape, data: x.data.map((q) => layer.table[q - inP.lo]!) };
}

/** Add and Sub rescale each input to a common fixed-point scale, then requantize; Mul requantizes the product (TFLite's scheme). */
export function goldenBinary(layer: QBinaryLayer, a: Tensor, b: Tensor, pa: QParams, pb: QParams, o: QParams): Tensor {
  const [ra, rb] = layer.inputRequant;
  const ro = layer.outputRequant;
  const shape = inferLayerShapes({ name: layer.name, op: 'add', inputs: [], outputs: [] }, [a.shape, b.shape])[0] as number[];
  const op =
    layer.kind === 'mul'
      ? (x: number, y: number) => requantize((x - pa.zeroPoint) * (y - pb.zeroPoint), ro.m0[0]!, ro.shift[0]!, o.zeroPoint, o.lo, o.hi)
      : (x: number, y: number) => {
          const sa = multiplyByQuantizedMultiplier(saturatingLeftShift(x - pa.zeroPoint, layer.leftShift), ra.m0[0]!, ra.shift[0]!);
          const sb = multiplyByQuantizedMultiplier(saturatingLeftShift(y - pb.zeroPoint, layer.leftShift), rb.m0[0]!, rb.shift[0]!);
          return requantize(layer.kind === 'add' ? sa + sb : sa - sb, ro.m0[0]!, ro.shift[0]!, o.zeroPoint, o.lo, o.hi);
        };
  return { shape, data: broadcastBinary(a.data, a.shape, b.data, b.shape, shape, op) };
}

/** Each input requantized to the output's parameters, then joined. */
export function goldenConcat(layer: QConcatLayer, xs: readonly Tensor[], ps: readonly QParams[], o: QParams): Tensor {
  const parts = xs.map((x, k) => {
    const p = ps[k]!;
    const r = layer.inputRequant[k]!;
    return { shape: x.shape, data: x.data.map((q) => requantize(q - p.zeroPoint, r.m0[0]!, r.shift[0]!, o.zeroPoint, o.lo, o.hi)) };
  });
  const shape = inferLayerShapes({ name: layer.name, op: 'concat', axis: layer.axis, inputs: [], outputs: [] }, parts.map((p) => p.shape))[0] as number[];
  return { shape, data: concat(parts, normalizeAxis(layer.axis, shape.length, layer.name), shape) };
}

/** Layers that only move integers run the float kernel on the codes; a pad fills with the code of its value. Max pools too: the max of integers is an integer. */
export function goldenMove(layer: QMoveLayer | { readonly layer: QMoveLayer['layer']; readonly padValue?: number }, x: Tensor, bindings: ReadonlyMap<string, number>): Tensor {
  const l = layer.layer.op === 'pad' ? { ...layer.layer, value: layer.padValue! } : layer.layer;
  return runLayer(l, [x], bindings)[0]!;
}
