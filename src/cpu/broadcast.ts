import { stridesOf } from '../ir/shape.js';

/**
 * Elementwise binary op with numpy broadcasting. Adjacent axes on which both
 * inputs broadcast the same way are merged first, so the common cases (equal
 * shapes, a scalar, a per-channel [C,1,1] operand such as squeeze-excitation)
 * become one or two flat loops.
 */
export function broadcastBinary(
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  outShape: readonly number[],
  op: (x: number, y: number) => number,
): Float32Array {
  const rank = outShape.length;
  const pad = (s: readonly number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = stridesOf(pad(aShape)).map((s, i) => (pad(aShape)[i] === 1 ? 0 : s));
  const sb = stridesOf(pad(bShape)).map((s, i) => (pad(bShape)[i] === 1 ? 0 : s));
  // Merge axis i into i+1 when both strides stay consistent (contiguous, or both broadcast).
  const dims: number[] = [];
  const stA: number[] = [];
  const stB: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = outShape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && stA[last] === sa[i]! * d && stB[last] === sb[i]! * d) {
      dims[last]! *= d;
      stA[last] = sa[i]!;
      stB[last] = sb[i]!;
    } else {
      dims.push(d);
      stA.push(sa[i]!);
      stB.push(sb[i]!);
    }
  }
  const total = outShape.reduce((p, q) => p * q, 1);
  const out = new Float32Array(total);
  if (dims.length === 0) {
    if (total > 0) out[0] = op(a[0]!, b[0]!);
    return out;
  }
  const inner = dims[dims.length - 1]!;
  const ia = stA[stA.length - 1]!;
  const ib = stB[stB.length - 1]!;
  const outer = total / inner;
  const counter = new Array<number>(dims.length - 1).fill(0);
  let offA = 0;
  let offB = 0;
  for (let o = 0, p = 0; o < outer; o++) {
    for (let k = 0, pa = offA, pb = offB; k < inner; k++, pa += ia, pb += ib) out[p++] = op(a[pa]!, b[pb]!);
    // Odometer over the outer axes.
    for (let ax = dims.length - 2; ax >= 0; ax--) {
      offA += stA[ax]!;
      offB += stB[ax]!;
      if (++counter[ax]! < dims[ax]!) break;
      counter[ax] = 0;
      offA -= stA[ax]! * dims[ax]!;
      offB -= stB[ax]! * dims[ax]!;
    }
  }
  return out;
}
