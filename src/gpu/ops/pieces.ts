/**
 * One item's tensor larger than the adapter binds at once
 * (maxStorageBufferBindingSize) but within one buffer (maxBufferSize) lives
 * in one buffer and is bound in ranges: a layer that can runs as several
 * dispatches (pieces), each binding a byte range of each large tensor, its
 * offset a multiple of minStorageBufferOffsetAlignment, with uniforms that
 * say where the range starts so the shader indexes relative to it. The
 * arithmetic every kind of piece shares: windowPieces for the kernels whose
 * output positions read windows of input rows (convolutions, depthwise
 * convolutions, pools, the one-channel quantize step; conv.ts also cuts its
 * weights into runs of output channels), flatRuns for those whose output word
 * i reads input word i (tables, same-shape elementwise layers).
 */
import type { ActShape } from '../../quant/lanes.js';
import type { ByteRange, KernelPlan } from './kernel-plan.js';

/** What binding in ranges must respect. */
export interface BindingLimits {
  /** The largest range a binding holds (maxStorageBufferBindingSize). */
  readonly maxBytes: number;
  /** A range's offset is a multiple of this (minStorageBufferOffsetAlignment). */
  readonly alignment: number;
}

/** WebGPU's default minStorageBufferOffsetAlignment, where an adapter's facts do not say. */
export const DEFAULT_OFFSET_ALIGNMENT = 256;

/** The binding limits of an adapter's limits. */
export function bindingLimits(limits: Readonly<Record<string, number>>): BindingLimits {
  return { maxBytes: limits['maxStorageBufferBindingSize'] ?? 134217728, alignment: limits['minStorageBufferOffsetAlignment'] ?? DEFAULT_OFFSET_ALIGNMENT };
}

/**
 * The range that binds u32 words [start, end) of a tensor: from the aligned
 * offset at or before `start`, with `base`, the word it begins at, which the
 * shader subtracts from its indices.
 */
export function wordRange(start: number, end: number, alignment: number): { readonly range: ByteRange; readonly base: number } {
  const offset = Math.floor((start * 4) / alignment) * alignment;
  return { range: { offset, bytes: end * 4 - offset }, base: offset / 4 };
}

/**
 * Where a windowed kernel's output positions (n, oy, ox), in order, read
 * their input: the output and input sizes, the words of one position of
 * each, and the vertical window (kernel height, stride, dilation, top pad).
 */
export interface WindowGeometry {
  /** Output positions of the whole tensor: N x out_h x out_w. */
  readonly positions: number;
  readonly outH: number;
  readonly outW: number;
  readonly outWords: number;
  readonly inH: number;
  readonly inW: number;
  readonly inWords: number;
  readonly kH: number;
  readonly strideH: number;
  readonly dilH: number;
  readonly padTop: number;
}

/** The uniforms of a grid kernel with a window (pool, depthwise) that place it: output size, kernel height, stride, dilation, top pad. */
type GridWindowUniforms = Readonly<Record<'oh' | 'ow' | 'kh' | 'sh' | 'dh' | 'pad_top', number>>;

/** The window geometry of a grid kernel's plan (its `params` uniforms), over input `s` with `inWords` and `outWords` words per position. */
export function gridWindow(params: unknown, s: ActShape, inWords: number, outWords: number): WindowGeometry {
  const u = params as GridWindowUniforms;
  return { positions: s.n * u.oh * u.ow, outH: u.oh, outW: u.ow, outWords, inH: s.h, inW: s.w, inWords, kH: u.kh, strideH: u.sh, dilH: u.dh, padTop: u.pad_top };
}

/**
 * The input words [start, end) the windows of output positions [p0, p1)
 * read: whole input rows, from the top row of the first position's window to
 * the bottom row of the last one's (rows in the padding clamped away: they
 * are not read).
 */
export function windowInputWords(g: WindowGeometry, p0: number, p1: number): [number, number] {
  const perItem = g.outH * g.outW;
  const clampRow = (y: number): number => Math.min(g.inH - 1, Math.max(0, y));
  const [n0, oy0] = [Math.floor(p0 / perItem), Math.floor(p0 / g.outW) % g.outH];
  const [n1, oy1] = [Math.floor((p1 - 1) / perItem), Math.floor((p1 - 1) / g.outW) % g.outH];
  const top = clampRow(oy0 * g.strideH - g.padTop);
  const bottom = clampRow(oy1 * g.strideH - g.padTop + (g.kH - 1) * g.dilH);
  const rowWords = g.inW * g.inWords;
  return [(n0 * g.inH + top) * rowWords, (n1 * g.inH + bottom + 1) * rowWords];
}

/** Output positions [first, end) of a windowed kernel, and the ranges of its input and output they bind. */
export interface WindowPiece {
  readonly first: number;
  readonly end: number;
  readonly input: ReturnType<typeof wordRange>;
  readonly output: ReturnType<typeof wordRange>;
}

/**
 * A windowed layer whose input or output passes the binding limit, cut into
 * pieces of output positions (whole output rows where a row fits, single
 * positions where not) whose input rows (with the halo the window, stride,
 * dilation and padding need) and output words each fit a binding; with
 * `wholeRows`, whole output rows only (a kernel whose invocations span
 * several positions of a row). Undefined
 * where the layer fits whole, or where not even one position's window fits
 * (the caller plans it whole, and the builder refuses it, the limit named).
 */
export function windowPieces(g: WindowGeometry, limits: BindingLimits, wholeRows = false): WindowPiece[] | undefined {
  const whole = (g.positions / (g.outH * g.outW)) * g.inH * g.inW * g.inWords;
  if (whole * 4 <= limits.maxBytes && g.positions * g.outWords * 4 <= limits.maxBytes) return undefined;
  const rangesOf = (p0: number, p1: number): Pick<WindowPiece, 'input' | 'output'> => ({
    input: wordRange(...windowInputWords(g, p0, p1), limits.alignment),
    output: wordRange(p0 * g.outWords, p1 * g.outWords, limits.alignment),
  });
  const fits = (p0: number, p1: number): boolean => {
    const r = rangesOf(p0, p1);
    return r.input.range.bytes <= limits.maxBytes && r.output.range.bytes <= limits.maxBytes;
  };
  const pieces: WindowPiece[] = [];
  for (let first = 0; first < g.positions; ) {
    let end = wholeRows ? first + g.outW : first + 1;
    if (!fits(first, end)) return undefined;
    for (;;) {
      // Up to the end of the output row one position at a time, then whole rows (with `wholeRows`, whole rows only).
      const next = Math.min(g.positions, end % g.outW === 0 ? end + g.outW : end + 1);
      if (next === end || !fits(first, next)) break;
      end = next;
    }
    pieces.push({ first, end, ...rangesOf(first, end) });
    first = end;
  }
  return pieces;
}

/** `total` split in proportion to `parts` (a layer's MACs over its pieces' sizes), in integers that add up to it. */
export function proportionalShares(total: number, parts: readonly number[]): number[] {
  const sum = parts.reduce((a, b) => a + b, 0);
  let before = 0;
  return parts.map((part) => {
    const share = Math.round((total * (before + part)) / sum) - Math.round((total * before) / sum);
    before += part;
    return share;
  });
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Runs [start, end) covering `total` words, each starting at a multiple of
 * `unit` words and of the alignment (so its range starts exactly there), as
 * long as a binding holds; undefined where even one such unit does not fit
 * (the caller refuses, naming the limit).
 */
export function flatPieces(total: number, unit: number, limits: BindingLimits): Array<readonly [number, number]> | undefined {
  const alignWords = limits.alignment / 4;
  const step = (unit / gcd(unit, alignWords)) * alignWords;
  const size = Math.floor(limits.maxBytes / 4 / step) * step;
  if (size === 0) return undefined;
  const pieces: Array<readonly [number, number]> = [];
  for (let start = 0; start < total; start += size) pieces.push([start, Math.min(total, start + size)]);
  return pieces;
}

/** A plan whose bindings named in `ranges` bind those byte ranges of their tensors or constants. */
export function withRanges<P extends KernelPlan>(plan: P, ranges: Readonly<Record<string, ByteRange>>): P {
  const buffers = Object.fromEntries(
    Object.entries(plan.buffers).map(([name, role]) => {
      const range = ranges[name];
      if (range === undefined) return [name, role];
      return [name, { ...role, range }];
    }),
  );
  return { ...plan, buffers };
}

/**
 * A layer whose output word i reads word i of each of its tensors (the same
 * layout throughout): the whole plan where its `words` fit a binding, else
 * one plan per flat run, each starting on a multiple of `unit` words (the
 * words of one position, so that a run is whole positions and indexes its
 * channels as the whole does), made by `plan(start, end)` with every binding
 * in `bindings` ranged to the run. Where even one unit does not fit, the
 * whole plan, which the builder refuses with the limit named.
 */
export function flatRuns<P extends KernelPlan>(words: number, unit: number, limits: BindingLimits, bindings: readonly string[], plan: (start: number, end: number) => P): P[] {
  const runs = words * 4 <= limits.maxBytes ? undefined : flatPieces(words, unit, limits);
  if (runs === undefined) return [plan(0, words)];
  return runs.map(([start, end]) => {
    const range = { offset: start * 4, bytes: (end - start) * 4 };
    return withRanges(plan(start, end), Object.fromEntries(bindings.map((b) => [b, range])));
  });
}
