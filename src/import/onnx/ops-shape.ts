import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import { normalizeAxis, stridesOf, type Dim } from '../../ir/shape.js';
import { dataTypeKind } from './tensor-proto.js';
import type { ConstValue, ImportContext, NodeInfo, Value } from './context.js';

/**
 * The integer shape arithmetic that exporters write (PyTorch's `x.view(x.size(0), -1)`
 * becomes Shape, Gather, Unsqueeze, Concat, Reshape). These nodes are
 * evaluated at import time on constants, symbols included, and disappear.
 * Returns false when the node is not one of them or its inputs are not all constant.
 */
export function foldShapeArithmetic(ctx: ImportContext, node: NodeInfo): boolean {
  const v0 = ctx.input(node, 0);
  const out = node.outputs[0]!;
  switch (node.opType) {
    case 'Shape': {
      if (!v0) return false;
      const shape = [...ctx.shapeOf(v0)];
      const rank = shape.length;
      const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
      const start = clampAxis(node.attrs.int('start', 0));
      const end = node.attrs.has('end') ? clampAxis(node.attrs.int('end', rank)) : rank;
      const dims = shape.slice(start, Math.max(start, end));
      ctx.define(out, { kind: 'int', dims: [dims.length], data: dims });
      return true;
    }
    case 'Size': {
      if (!v0) return false;
      const shape = ctx.shapeOf(v0);
      if (!shape.every((d) => typeof d === 'number')) return false;
      ctx.define(out, { kind: 'int', dims: [], data: [shape.reduce<number>((a, b) => a * (b as number), 1)] });
      return true;
    }
    case 'ConstantOfShape': {
      const dims = ctx.constInts(node, 0, 'shape') ?? [];
      const fill = node.attrs.tensor('value');
      const count = dims.reduce((a, b) => a * b, 1);
      if (!fill || fill.kind === 'float') {
        const x = fill ? fill.data[0]! : 0;
        ctx.define(out, { kind: 'float', dims, data: new Float32Array(count).fill(x) });
      } else {
        ctx.define(out, { kind: 'int', dims, data: new Array<Dim>(count).fill(fill.data[0]!) });
      }
      return true;
    }
  }
  const ins: ConstValue[] = [];
  for (let i = 0; i < node.inputs.length; i++) {
    const v = ctx.input(node, i);
    if (v === undefined) continue;
    if (v.kind === 'tensor') return false;
    ins.push(v);
  }
  if (ins.length === 0) return false;
  // Float constants go through the CPU executor like any layer; here only integers
  // (and the few ops that need an integer view of their inputs) are handled.
  const hasInt = ins.some((v) => v.kind === 'int');
  const result = evaluate(ctx, node, ins, hasInt);
  if (!result) return false;
  ctx.define(out, result);
  return true;
}

function evaluate(ctx: ImportContext, node: NodeInfo, ins: ConstValue[], hasInt: boolean): ConstValue | undefined {
  const x = ins[0]!;
  switch (node.opType) {
    case 'Cast': {
      const to = dataTypeKind(node.attrs.int('to', 1));
      if (to === 'float') return { kind: 'float', dims: x.dims, data: Float32Array.from(numbers(x, node)) };
      if (to === 'int') return { kind: 'int', dims: x.dims, data: x.kind === 'int' ? x.data : Array.from(x.data, Math.trunc) };
      throw new UnsupportedOperatorError(node.name, node.opType, `to type ${node.attrs.int('to', 0)} is not supported`);
    }
    case 'Gather': {
      const axis = normalizeAxis(node.attrs.int('axis', 0), x.dims.length, `node '${node.name}'`);
      const idx = ins[1]!;
      const indices = numbers(idx, node).map((i) => (i < 0 ? i + x.dims[axis]! : i));
      return gather(x, axis, indices, idx.dims);
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = node.opset >= 13 ? (ctx.constInts(node, 1, 'axes') ?? []) : (node.attrs.ints('axes') ?? []);
      const dims = node.opType === 'Unsqueeze' ? unsqueezeDims(x.dims, axes) : squeezeDims(x.dims, axes);
      return { ...x, dims } as ConstValue;
    }
    case 'Concat': {
      if (!hasInt) return undefined;
      const axis = normalizeAxis(node.attrs.int('axis', 0), x.dims.length, `node '${node.name}'`);
      if (axis !== 0 || ins.some((v) => v.dims.length !== 1)) return undefined;
      const data = ins.flatMap((v) => Array.from<Dim>(v.data));
      return { kind: 'int', dims: [data.length], data };
    }
    case 'Slice': {
      if (!hasInt && x.dims.length !== 1) return undefined;
      const starts = sliceArg(ctx, node, 1, 'starts');
      const ends = sliceArg(ctx, node, 2, 'ends');
      if (x.dims.length !== 1) return undefined;
      const axes = node.opset >= 10 ? ctx.constInts(node, 3, 'axes') : node.attrs.ints('axes');
      const steps = node.opset >= 10 ? ctx.constInts(node, 4, 'steps') : undefined;
      if (axes && axes.some((a) => a !== 0 && a !== -1)) return undefined;
      const n = x.dims[0]!;
      const step = steps?.[0] ?? 1;
      const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
      let s = starts[0]!;
      let e = ends[0]!;
      s = s < 0 ? s + n : s;
      e = e < 0 ? e + n : e;
      const picked: number[] = [];
      if (step > 0) for (let i = clamp(s, 0, n); i < clamp(e, 0, n); i += step) picked.push(i);
      else for (let i = clamp(s, -1, n - 1); i > clamp(e, -1, n - 1); i += step) picked.push(i);
      return gather(x, 0, picked, [picked.length]);
    }
    case 'Reshape': {
      if (!hasInt) return undefined;
      const target = numbers(ins[1]!, node);
      const count = x.data.length;
      const dims = target.map((d, i) => (d === 0 && node.attrs.int('allowzero', 0) === 0 ? x.dims[i]! : d));
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { ...x, dims: dims.map((d) => (d === -1 ? count / known : d)) } as ConstValue;
    }
    case 'Identity':
      return x;
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      if (!hasInt) return undefined;
      const y = ins[1]!;
      if (ins.some((v) => v.kind === 'float')) return undefined;
      return intArithmetic(node, x as Extract<ConstValue, { kind: 'int' }>, y as Extract<ConstValue, { kind: 'int' }>);
    }
    default:
      return undefined;
  }
}

function sliceArg(ctx: ImportContext, node: NodeInfo, i: number, name: string): number[] {
  const v = node.opset >= 10 ? ctx.constInts(node, i, name) : node.attrs.ints(name);
  if (!v) throw new ModelFormatError(`node '${node.name}' (Slice) lacks '${name}'`);
  return v;
}

function numbers(v: ConstValue, node: NodeInfo): number[] {
  return Array.from<Dim, number>(v.data, (d) => {
    if (typeof d !== 'number') throw new UnsupportedOperatorError(node.name, node.opType, `cannot compute with the symbolic dimension '${d}' here`);
    return d;
  });
}

function gather(x: ConstValue, axis: number, indices: number[], indexDims: number[]): ConstValue {
  const outer = x.dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = x.dims[axis]!;
  const dims = [...x.dims.slice(0, axis), ...indexDims, ...x.dims.slice(axis + 1)];
  const src = x.data as ArrayLike<Dim>;
  const data: Dim[] = [];
  for (let o = 0; o < outer; o++) for (const i of indices) for (let k = 0; k < inner; k++) data.push(src[(o * n + i) * inner + k]!);
  return x.kind === 'float' ? { kind: 'float', dims, data: Float32Array.from(data as number[]) } : { kind: 'int', dims, data };
}

function unsqueezeDims(dims: number[], axes: number[]): number[] {
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : dims[j++]!);
  return out;
}

function squeezeDims(dims: number[], axes: number[]): number[] {
  const norm = axes.map((a) => (a < 0 ? a + dims.length : a));
  return dims.filter((d, i) => (norm.length === 0 ? d !== 1 : !norm.includes(i)));
}

/** Elementwise integer arithmetic with broadcasting; a symbol survives multiplication or division by 1 only. */
function intArithmetic(node: NodeInfo, a: Extract<ConstValue, { kind: 'int' }>, b: Extract<ConstValue, { kind: 'int' }>): ConstValue {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]): number[] => [...new Array<number>(rank - d.length).fill(1), ...d];
  const da = pad(a.dims);
  const db = pad(b.dims);
  const dims = da.map((x, i) => Math.max(x, db[i]!));
  const sa = stridesOf(da).map((s, i) => (da[i] === 1 ? 0 : s));
  const sb = stridesOf(db).map((s, i) => (db[i] === 1 ? 0 : s));
  const so = stridesOf(dims);
  const count = dims.reduce((p, q) => p * q, 1);
  const data: Dim[] = [];
  for (let i = 0; i < count; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      const c = Math.floor(i / so[k]!) % dims[k]!;
      ia += c * sa[k]!;
      ib += c * sb[k]!;
    }
    data.push(intOp(node, a.data[ia]!, b.data[ib]!));
  }
  return { kind: 'int', dims, data };
}

function intOp(node: NodeInfo, x: Dim, y: Dim): Dim {
  if (typeof x === 'number' && typeof y === 'number') {
    switch (node.opType) {
      case 'Add': return x + y;
      case 'Sub': return x - y;
      case 'Mul': return x * y;
      default: return Math.trunc(x / y);
    }
  }
  if ((node.opType === 'Mul' && (x === 1 || y === 1)) || (node.opType === 'Div' && y === 1)) return x === 1 && node.opType === 'Mul' ? y : x;
  if ((node.opType === 'Add' || node.opType === 'Sub') && y === 0) return x;
  throw new UnsupportedOperatorError(node.name, node.opType, `cannot compute ${x} ${node.opType} ${y} on a symbolic dimension; fix the input shape (--shape)`);
}

export type { Value };
