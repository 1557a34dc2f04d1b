import { InputError } from '../../errors.js';
import { multiplyByQuantizedMultiplier, requantize, saturatingLeftShift } from '../../quant/fixed-point.js';
import type { QParams } from '../../quant/qparams.js';
import type { QLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import { dequantizeValue, quantizeValue } from '../../quant/rounding.js';
import { broadcastBinary } from '../broadcast.js';
import { bindInputs } from '../float-executor.js';
import { concat } from '../layout-ops.js';
import { runLayer } from '../run-layer.js';
import type { Tensor } from '../tensor.js';
import { intMatmulLayer } from './int-conv.js';
import { intAvgPool, intGlobalAvgPool } from './int-pool.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import { normalizeAxis } from '../../ir/shape.js';

export interface GoldenResult {
  /** Float outputs (dequantized logits, or the float tail's outputs). */
  outputs: Record<string, Tensor>;
  /** The integer tensors the outputs were dequantized from, by output name. */
  integers: Record<string, Int32Array>;
}

export interface GoldenOptions {
  /** Called with every integer tensor as it is produced (per-layer comparisons, SQNR). */
  onInteger?: (name: string, t: Tensor, params: QParams) => void;
}

/**
 * The integer golden executor: every layer with exactly the integer steps the
 * shaders run. Integer tensors live in Float32Arrays (their values are exact
 * integers below 2^24), so that data-movement layers and max pools can reuse
 * the float kernels unchanged.
 */
export function runQuantized(qg: QuantizedGraph, inputs: Readonly<Record<string, Tensor>>, options: GoldenOptions = {}): GoldenResult {
  const bindings = bindInputs(qg.float, inputs);
  const floats = new Map<string, Tensor>();
  const ints = new Map<string, Tensor>();
  for (const i of qg.inputs) floats.set(i.name, inputs[i.name]!);
  for (const [name, c] of qg.constants) floats.set(name, { shape: c.shape, data: c.data });
  const P = (t: string): QParams => qg.tensors.get(t)!;
  const int = (t: string): Tensor => {
    const v = ints.get(t);
    if (!v) throw new InputError(`golden executor: integer tensor '${t}' is missing`);
    return v;
  };
  for (const layer of qg.layers) {
    const out = layer.outputs[0]!;
    if (layer.kind === 'float') {
      const res = runLayer(layer.layer, layer.inputs.map((i) => floats.get(i)!), bindings);
      layer.outputs.forEach((o, k) => floats.set(o, res[k]!));
      continue;
    }
    if (layer.kind === 'dequantize') {
      const x = int(layer.inputs[0]!);
      const p = P(layer.inputs[0]!);
      floats.set(out, { shape: x.shape, data: x.data.map((q) => dequantizeValue(q, p.scale, p.zeroPoint)) });
      continue;
    }
    const result = runIntegerLayer(layer, P, int, floats, bindings);
    ints.set(out, result);
    options.onInteger?.(out, result, P(out));
  }
  const outputs: Record<string, Tensor> = {};
  const integers: Record<string, Int32Array> = {};
  for (const o of qg.outputs) {
    outputs[o.name] = floats.get(o.name)!;
    if (o.integer) integers[o.name] = Int32Array.from(int(o.integer).data);
  }
  return { outputs, integers };
}

function runIntegerLayer(
  layer: Exclude<QLayer, { kind: 'float' | 'dequantize' }>,
  P: (t: string) => QParams,
  int: (t: string) => Tensor,
  floats: Map<string, Tensor>,
  bindings: ReadonlyMap<string, number>,
): Tensor {
  const out = layer.outputs[0]!;
  const o = P(out);
  switch (layer.kind) {
    case 'quantize': {
      const x = floats.get(layer.inputs[0]!)!;
      return { shape: x.shape, data: x.data.map((r) => quantizeValue(r, o.scale, o.zeroPoint, o.lo, o.hi)) };
    }
    case 'conv':
    case 'dense':
      return intMatmulLayer(layer, int(layer.inputs[0]!), P(layer.inputs[0]!), o);
    case 'lut': {
      const x = int(layer.inputs[0]!);
      const lo = P(layer.inputs[0]!).lo;
      return { shape: x.shape, data: x.data.map((q) => layer.table[q - lo]!) };
    }
    case 'add':
    case 'sub':
    case 'mul': {
      const [a, b] = [int(layer.inputs[0]!), int(layer.inputs[1]!)];
      const [pa, pb] = [P(layer.inputs[0]!), P(layer.inputs[1]!)];
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
    case 'concat': {
      const parts = layer.inputs.map((i, k) => {
        const x = int(i);
        const p = P(i);
        const r = layer.inputRequant[k]!;
        return { shape: x.shape, data: x.data.map((q) => requantize(q - p.zeroPoint, r.m0[0]!, r.shift[0]!, o.zeroPoint, o.lo, o.hi)) };
      });
      const shape = inferLayerShapes({ name: layer.name, op: 'concat', axis: layer.axis, inputs: [], outputs: [] }, parts.map((p) => p.shape))[0] as number[];
      return { shape, data: concat(parts, normalizeAxis(layer.axis, shape.length, layer.name), shape) };
    }
    case 'avgPool':
      return intAvgPool(int(layer.inputs[0]!), layer.layer as Extract<typeof layer.layer, { op: 'avgPool' }>, o.zeroPoint);
    case 'globalAvgPool':
      return intGlobalAvgPool(int(layer.inputs[0]!), o.zeroPoint);
    case 'maxPool':
    case 'globalMaxPool':
      // The max of integers is an integer: the float kernel is exact here.
      return runLayer(layer.layer, [int(layer.inputs[0]!)], bindings)[0]!;
    case 'move': {
      const l = layer.layer.op === 'pad' ? { ...layer.layer, value: layer.padValue! } : layer.layer;
      return runLayer(l, [int(layer.inputs[0]!)], bindings)[0]!;
    }
  }
}
