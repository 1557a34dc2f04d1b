import { ShapeError } from '../errors.js';

/** A dimension: a known size, or a symbol (such as `N` for the batch) fixed only at run time. */
export type Dim = number | string;
export type Shape = readonly Dim[];

export function isConcrete(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Product of the dimensions that are known; symbols count as 1 (per-sample sizes). */
export function knownNumel(shape: Shape): number {
  let n = 1;
  for (const d of shape) if (typeof d === 'number') n *= d;
  return n;
}

export function normalizeAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function dimsAgree(a: Dim, b: Dim): boolean {
  return a === b;
}

/** Numpy-style multidirectional broadcasting of two shapes, symbols included. */
export function broadcastShapes(a: Shape, b: Shape, where: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === 1) out.push(db);
    else if (db === 1 || dimsAgree(da, db)) out.push(da);
    else throw new ShapeError(`${where}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
  }
  return out;
}

/** Replace symbols by their bound values; throws when a symbol is unbound. */
export function bindShape(shape: Shape, bindings: ReadonlyMap<string, number>, where: string): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const v = bindings.get(d);
    if (v === undefined) throw new ShapeError(`${where}: dimension '${d}' has no value`);
    return v;
  });
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
