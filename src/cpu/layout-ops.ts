import { stridesOf } from '../ir/shape.js';
import type { PadLayer, ResizeLayer } from '../ir/layers.js';

/** Data-movement layers: transpose, concat, pad, nearest resize. */

export function transpose(x: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const st = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(x.length);
  const counter = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = x[src]!;
    for (let ax = rank - 1; ax >= 0; ax--) {
      src += st[ax]!;
      if (++counter[ax]! < outShape[ax]!) break;
      counter[ax] = 0;
      src -= st[ax]! * outShape[ax]!;
    }
  }
  return out;
}

export function concat(parts: ReadonlyArray<{ shape: readonly number[]; data: Float32Array }>, axis: number, outShape: readonly number[]): Float32Array {
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const outRow = outShape.slice(axis).reduce((a, b) => a * b, 1);
  let offset = 0;
  for (const p of parts) {
    const row = p.shape.slice(axis).reduce((a, b) => a * b, 1);
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * row, (o + 1) * row), o * outRow + offset);
    offset += row;
  }
  return out;
}

/** ONNX Pad: constant, reflect or edge; negative pads crop. */
export function pad(x: Float32Array, shape: readonly number[], layer: PadLayer, outShape: readonly number[]): Float32Array {
  const rank = shape.length;
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  const inStrides = stridesOf(shape);
  const begin = layer.pads.slice(0, rank);
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    let inside = true;
    for (let ax = 0; ax < rank; ax++) {
      let c = coord[ax]! - begin[ax]!;
      const n = shape[ax]!;
      if (c < 0 || c >= n) {
        if (layer.mode === 'constant') {
          inside = false;
          break;
        }
        if (layer.mode === 'edge') c = c < 0 ? 0 : n - 1;
        else {
          // Reflect without repeating the edge; a period of 2n-2 covers pads longer than the axis.
          const period = Math.max(1, 2 * n - 2);
          c = ((c % period) + period) % period;
          if (c >= n) c = period - c;
        }
      }
      src += c * inStrides[ax]!;
    }
    out[i] = inside ? x[src]! : layer.value;
    for (let ax = rank - 1; ax >= 0; ax--) {
      if (++coord[ax]! < outShape[ax]!) break;
      coord[ax] = 0;
    }
  }
  return out;
}

/** Source index along one axis of a nearest-neighbour resize (ONNX coordinate and rounding modes). */
function nearestIndex(o: number, inSize: number, outSize: number, scale: number, layer: ResizeLayer): number {
  let x: number;
  switch (layer.coordinateMode) {
    case 'half_pixel':
      x = (o + 0.5) / scale - 0.5;
      break;
    case 'pytorch_half_pixel':
      x = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
      break;
    case 'align_corners':
      x = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
      break;
    case 'asymmetric':
      x = o / scale;
      break;
    case 'tf_half_pixel_for_nn':
      x = (o + 0.5) / scale;
      break;
  }
  let i: number;
  switch (layer.nearestMode) {
    case 'round_prefer_floor':
      i = x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
      break;
    case 'round_prefer_ceil':
      i = Math.round(x);
      break;
    case 'floor':
      i = Math.floor(x);
      break;
    case 'ceil':
      i = Math.ceil(x);
      break;
  }
  return Math.min(Math.max(i, 0), inSize - 1);
}

export function resizeNearest(x: Float32Array, shape: readonly number[], layer: ResizeLayer, outShape: readonly number[]): Float32Array {
  const rank = shape.length;
  const inStrides = stridesOf(shape);
  // Per axis, the source offset of every output coordinate.
  const maps = outShape.map((o, ax) => {
    const scale = layer.scales ? layer.scales[ax]! : o / shape[ax]!;
    return Int32Array.from({ length: o }, (_, k) => nearestIndex(k, shape[ax]!, o, scale, layer) * inStrides[ax]!);
  });
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let ax = 0; ax < rank; ax++) src += maps[ax]![coord[ax]!]!;
    out[i] = x[src]!;
    for (let ax = rank - 1; ax >= 0; ax--) {
      if (++coord[ax]! < outShape[ax]!) break;
      coord[ax] = 0;
    }
  }
  return out;
}

/** Softmax over `inner`-strided groups of length `n`: shape seen as [outer, n, inner]. */
export function softmax(x: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const base = o * n * inner + k;
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, x[base + i * inner]!);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.exp(x[base + i * inner]! - max);
        out[base + i * inner] = e;
        sum += e;
      }
      for (let i = 0; i < n; i++) out[base + i * inner]! /= sum;
    }
  }
  return out;
}
