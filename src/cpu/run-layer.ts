import { ShapeError } from '../errors.js';
import { inferLayerShapes } from '../ir/infer-shapes.js';
import type { Layer } from '../ir/layers.js';
import { normalizeAxis } from '../ir/shape.js';
import { resolvePads2d, splitSamePads, transposedAxisSize } from '../ir/window.js';
import { applyActivation } from './activation.js';
import { broadcastBinary } from './broadcast.js';
import { gemm } from './kernels/gemm.js';
import { conv2d } from './kernels/conv2d.js';
import { convTranspose2d } from './kernels/conv-transpose2d.js';
import { avgPool2d, globalAvgPool, globalMaxPool, maxPool2d } from './kernels/pool2d.js';
import { concat, pad, resizeNearest, softmax, transpose } from './layout-ops.js';
import type { Tensor } from './tensor.js';

const BINARY: Record<'add' | 'sub' | 'mul' | 'div', (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
};

/**
 * Run one layer on the CPU in float32. Output shapes come from the same
 * shape rules as the summary (`inferLayerShapes`), so a run and a summary
 * never disagree.
 */
export function runLayer(layer: Layer, ins: readonly Tensor[], bindings?: ReadonlyMap<string, number>): Tensor[] {
  const outShapes = inferLayerShapes(layer, ins.map((t) => t.shape), bindings) as number[][];
  const shape = outShapes[0]!;
  const x = ins[0]!;
  let data: Float32Array;
  switch (layer.op) {
    case 'identity':
    case 'flatten':
    case 'reshape':
    case 'squeeze':
    case 'unsqueeze':
      // Shape-only layers share the data: tensors are never written in place after they are produced.
      data = x.data;
      break;
    case 'conv': {
      const [kh, kw] = [ins[1]!.shape[2]!, ins[1]!.shape[3]!];
      const pads = resolvePads2d(x.shape[2]!, x.shape[3]!, [kh, kw], layer);
      data = conv2d(x.data, x.shape, ins[1]!.data, ins[1]!.shape, ins[2]?.data, { strides: layer.strides, dilations: layer.dilations, pads, group: layer.group });
      break;
    }
    case 'convTranspose': {
      const w = ins[1]!;
      let pads = layer.pads;
      if (layer.autoPad === 'VALID') pads = [0, 0, 0, 0];
      else if (layer.autoPad !== 'NOTSET') {
        // SAME: output = input * stride; the total padding is what the full transposed window exceeds that by.
        const p: number[] = [0, 0, 0, 0];
        for (let i = 0; i < 2; i++) {
          const full = transposedAxisSize(x.shape[2 + i]!, w.shape[2 + i]!, layer.strides[i]!, layer.dilations[i]!, 0, 0, layer.outputPadding[i]!);
          [p[i], p[i + 2]] = splitSamePads(Math.max(0, full - shape[2 + i]!), layer.autoPad);
        }
        pads = p as [number, number, number, number];
      }
      data = convTranspose2d(x.data, x.shape, w.data, w.shape, ins[2]?.data, {
        strides: layer.strides,
        dilations: layer.dilations,
        pads,
        group: layer.group,
        outputPadding: layer.outputPadding,
      });
      break;
    }
    case 'dense': {
      const w = ins[1]!;
      const [units, k] = [w.shape[0]!, w.shape[1]!];
      const rows = x.data.length / k;
      data = new Float32Array(rows * units);
      if (ins[2]) for (let r = 0; r < rows; r++) data.set(ins[2].data, r * units);
      gemm(rows, units, k, x.data, 0, k, w.data, 0, k, true, data, 0, units, ins[2] !== undefined);
      break;
    }
    case 'gemm': {
      const [m, n] = [shape[0]!, shape[1]!];
      const k = layer.transA ? x.shape[0]! : x.shape[1]!;
      // gemm() takes A untransposed: materialise A^T when asked (rare outside tests).
      const a = layer.transA ? transpose(x.data, x.shape, [1, 0]) : x.data;
      const b = ins[1]!;
      data = new Float32Array(m * n);
      gemm(m, n, k, a, 0, k, b.data, 0, layer.transB ? k : n, layer.transB, data, 0, n, false);
      if (layer.alpha !== 1) for (let i = 0; i < data.length; i++) data[i]! *= layer.alpha;
      if (ins[2] && layer.beta !== 0) {
        const c = ins[2];
        const beta = layer.beta;
        data = broadcastBinary(data, shape, c.data, c.shape, shape, (p, q) => p + beta * q);
      }
      break;
    }
    case 'matMul':
      data = matMul(x, ins[1]!, shape);
      break;
    case 'batchNorm': {
      const [scale, bias, mean, variance] = [ins[1]!.data, ins[2]!.data, ins[3]!.data, ins[4]!.data];
      const c = x.shape[1]!;
      const inner = x.shape.slice(2).reduce((p, q) => p * q, 1);
      data = new Float32Array(x.data.length);
      for (let ch = 0; ch < c; ch++) {
        const s = scale[ch]! / Math.sqrt(variance[ch]! + layer.epsilon);
        const t = bias[ch]! - mean[ch]! * s;
        for (let n = 0; n < x.shape[0]!; n++) {
          const base = (n * c + ch) * inner;
          for (let i = 0; i < inner; i++) data[base + i] = x.data[base + i]! * s + t;
        }
      }
      break;
    }
    case 'activation': {
      data = Float32Array.from(x.data);
      applyActivation(data, layer.fn);
      return [{ shape, data }];
    }
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      data = broadcastBinary(x.data, x.shape, ins[1]!.data, ins[1]!.shape, shape, BINARY[layer.op]);
      break;
    case 'concat':
      data = concat(ins, normalizeAxis(layer.axis, shape.length, layer.name), shape);
      break;
    case 'maxPool':
    case 'avgPool': {
      const pads = resolvePads2d(x.shape[2]!, x.shape[3]!, layer.kernel, layer);
      const p = { kernel: layer.kernel, strides: layer.strides, dilations: layer.dilations, pads, ceilMode: layer.ceilMode, countIncludePad: layer.countIncludePad };
      data = layer.op === 'maxPool' ? maxPool2d(x.data, x.shape, p) : avgPool2d(x.data, x.shape, p);
      break;
    }
    case 'globalAvgPool':
      data = globalAvgPool(x.data, x.shape);
      break;
    case 'globalMaxPool':
      data = globalMaxPool(x.data, x.shape);
      break;
    case 'transpose':
      data = transpose(x.data, x.shape, layer.perm.length > 0 ? layer.perm : x.shape.map((_, i) => x.shape.length - 1 - i));
      break;
    case 'pad':
      data = pad(x.data, x.shape, layer, shape);
      break;
    case 'resize':
      data = resizeNearest(x.data, x.shape, layer, shape);
      break;
    case 'softmax': {
      const axis = normalizeAxis(layer.axis, x.shape.length, layer.name);
      const prod = (a: number, b: number): number => a * b;
      const outer = x.shape.slice(0, axis).reduce(prod, 1);
      data = layer.coerce2d
        ? softmax(x.data, outer, x.shape.slice(axis).reduce(prod, 1), 1)
        : softmax(x.data, outer, x.shape[axis]!, x.shape.slice(axis + 1).reduce(prod, 1));
      break;
    }
  }
  if ('activation' in layer && layer.activation) {
    // Shape-only layers never carry activations, so `data` is always a fresh array here.
    applyActivation(data, layer.activation);
  }
  if (data.length !== shape.reduce((p, q) => p * q, 1)) {
    throw new ShapeError(`layer '${layer.name}': produced ${data.length} values for shape [${shape}]`);
  }
  return [{ shape, data }];
}

/** Batched matrix product with numpy broadcasting over the leading axes. */
function matMul(a: Tensor, b: Tensor, outShape: readonly number[]): Float32Array {
  const a2 = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const b2 = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const [m, k] = [a2[a2.length - 2]!, a2[a2.length - 1]!];
  const n = b2[b2.length - 1]!;
  const batchShape = outShape.slice(0, outShape.length - (a.shape.length > 1 ? 1 : 0) - (b.shape.length > 1 ? 1 : 0));
  const batch = batchShape.reduce((p, q) => p * q, 1);
  // Index of each batch entry in a and b, by broadcasting a ramp.
  const ramp = (s: readonly number[]): Float32Array => Float32Array.from({ length: s.reduce((p, q) => p * q, 1) }, (_, i) => i);
  const ones = (s: readonly number[]): Float32Array => new Float32Array(s.reduce((p, q) => p * q, 1));
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const ia = broadcastBinary(ramp(aBatch), aBatch, ones(bBatch), bBatch, batchShape, (p) => p);
  const ib = broadcastBinary(ones(aBatch), aBatch, ramp(bBatch), bBatch, batchShape, (_p, q) => q);
  const out = new Float32Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    gemm(m, n, k, a.data, ia[i]! * m * k, k, b.data, ib[i]! * k * n, n, false, out, i * m * n, n, false);
  }
  return out;
}

