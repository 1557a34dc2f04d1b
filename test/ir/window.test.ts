import { describe, expect, it } from 'vitest';
import { endInside, firstInside, resolveAxisPads, resolvePads2d, resolveWindow2d, transposedAxisSize, windowAxisSize, windowOutputSize } from '../../src/ir/window.js';

/** The one definition of window sizes that shape inference, the GPU planners and the CPU kernels share. */

describe('window arithmetic', () => {
  it('windowAxisSize: floor and ceil mode, the ceil-mode window starting in the end padding dropped', () => {
    // [input, kernel, stride, dilation, padBegin, padEnd, ceil, expected]
    const known: Array<[number, number, number, number, number, number, boolean, number]> = [
      [7, 2, 2, 1, 0, 0, false, 3],
      [7, 2, 2, 1, 0, 0, true, 4],
      [112, 3, 2, 1, 1, 1, false, 56],
      [6, 2, 2, 1, 0, 1, true, 3],
      [5, 3, 3, 1, 1, 1, true, 2],
      [4, 3, 2, 1, 1, 1, true, 3],
      [10, 3, 1, 2, 2, 2, false, 10],
      [3, 5, 1, 1, 1, 1, false, 1],
    ];
    for (const [input, k, s, d, pb, pe, ceil, want] of known) {
      expect(windowAxisSize(input, k, s, d, pb, pe, ceil), `in ${input} k ${k} s ${s} d ${d} pads ${pb},${pe} ceil ${ceil}`).toBe(want);
    }
  });

  it('windowAxisSize: a window that does not fit the padded input has no output, in either mode', () => {
    expect(windowAxisSize(2, 3, 1, 1, 0, 0)).toBe(0);
    expect(windowAxisSize(2, 3, 3, 1, 0, 0, true)).toBe(0);
    expect(windowAxisSize(1, 7, 2, 1, 1, 1)).toBe(0);
  });

  it('windowOutputSize resolves auto_pad and agrees with windowAxisSize on numbers', () => {
    expect(windowOutputSize(9, 3, 2, 1, 'SAME_UPPER', [0, 0])).toBe(5);
    expect(windowOutputSize(9, 3, 2, 1, 'VALID', [5, 5])).toBe(4);
    expect(windowOutputSize(9, 3, 2, 1, 'NOTSET', [1, 0], true)).toBe(windowAxisSize(9, 3, 2, 1, 1, 0, true));
    expect(windowOutputSize('H', 3, 2, 1, 'NOTSET', [1, 1])).toBe('floor((H-1)/2)+1');
    for (const input of [5, 6, 7, 8]) {
      for (const autoPad of ['SAME_UPPER', 'SAME_LOWER'] as const) {
        const [b, e] = resolveAxisPads(input, 3, 2, 2, autoPad, [0, 0]);
        expect(windowAxisSize(input, 3, 2, 2, b, e)).toBe(windowOutputSize(input, 3, 2, 2, autoPad, [0, 0]));
      }
    }
  });

  it('resolveWindow2d: pads and sizes per axis', () => {
    const w = resolveWindow2d(7, 10, [3, 2], { strides: [2, 3], dilations: [1, 1], pads: [1, 0, 2, 1], autoPad: 'NOTSET' }, true);
    expect(w).toEqual({ padTop: 1, padBottom: 2, padLeft: 0, padRight: 1, outH: windowAxisSize(7, 3, 2, 1, 1, 2, true), outW: windowAxisSize(10, 2, 3, 1, 0, 1, true) });
  });

  it('resolvePads2d: ONNX order, SAME split with the odd pad at the end (UPPER) or the start (LOWER)', () => {
    const window = { strides: [2, 1] as [number, number], dilations: [1, 1] as [number, number], pads: [9, 9, 9, 9] as [number, number, number, number] };
    expect(resolvePads2d(8, 5, [3, 2], { ...window, autoPad: 'NOTSET' })).toEqual([9, 9, 9, 9]);
    expect(resolvePads2d(8, 5, [3, 2], { ...window, autoPad: 'VALID' })).toEqual([0, 0, 0, 0]);
    expect(resolvePads2d(8, 5, [3, 2], { ...window, autoPad: 'SAME_UPPER' })).toEqual([0, 0, 1, 1]);
    expect(resolvePads2d(8, 5, [3, 2], { ...window, autoPad: 'SAME_LOWER' })).toEqual([1, 1, 0, 0]);
  });

  it('transposedAxisSize is the input size of the forward window it is the adjoint of', () => {
    for (const [input, k, s, d, pb, pe] of [[5, 3, 2, 1, 1, 1], [4, 4, 2, 1, 1, 1], [3, 3, 1, 2, 0, 2]] as const) {
      const out = transposedAxisSize(input, k, s, d, pb, pe, 0);
      expect(windowAxisSize(out, k, s, d, pb, pe)).toBe(input);
    }
  });

  it('firstInside and endInside bound the positions offset + i * step inside [0, size)', () => {
    for (const offset of [-7, -3, -1, 0, 2, 5]) {
      for (const step of [1, 2, 3]) {
        for (const size of [0, 1, 4, 9]) {
          const inside = (i: number): boolean => offset + i * step >= 0 && offset + i * step < size;
          const first = firstInside(offset, step);
          const end = endInside(offset, step, size);
          expect(offset + first * step >= 0 && (first === 0 || offset + (first - 1) * step < 0)).toBe(true);
          for (let i = 0; i < 12; i++) expect(inside(i), `offset ${offset} step ${step} size ${size} i ${i}`).toBe(i >= first && i < end);
        }
      }
    }
  });
});
