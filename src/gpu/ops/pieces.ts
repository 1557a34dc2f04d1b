/**
 * One item's tensor larger than the adapter binds at once
 * (maxStorageBufferBindingSize) but within one buffer (maxBufferSize) lives
 * in one buffer and is bound in ranges: a layer that can runs as several
 * dispatches (pieces), each binding a byte range of each large tensor, its
 * offset a multiple of minStorageBufferOffsetAlignment, with uniforms that
 * say where the range starts so the shader indexes relative to it. The
 * arithmetic every kind of piece shares; the kernels cut their own (conv.ts:
 * output rows with the input rows their windows read; the grid kernels whose
 * output word i reads input word i: flat runs of words).
 */
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

/** A plan whose tensor bindings named in `ranges` bind those byte ranges of their tensors. */
export function withRanges<P extends KernelPlan>(plan: P, ranges: Readonly<Record<string, ByteRange>>): P {
  const buffers = Object.fromEntries(
    Object.entries(plan.buffers).map(([name, role]) => {
      const range = ranges[name];
      if (range === undefined) return [name, role];
      if (role.role === 'constant') throw new Error(`withRanges: binding '${name}' is a constant, not a tensor`);
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
