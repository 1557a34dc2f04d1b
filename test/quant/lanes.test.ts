/**
 * Packing at the true bitwidth: the bit layout checked against a reference
 * written with plain arithmetic (no bit operators), round trips at every
 * bitwidth with odd row lengths, and unpackLane against the same reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { laneBits, nonzeroPadding, packActivations, packRows, unpackActivations, unpackLane, unpackRows } from '../../src/quant/lanes.js';

const SEED = 20240608;

/** Word `k` of a row, built as sum of (v mod 2^w) * 2^(lane * w). */
function refWord(row: ArrayLike<number>, k: number, w: number): number {
  const lanes = 32 / w;
  let word = 0;
  for (let i = 0; i < lanes; i++) {
    const j = k * lanes + i;
    const v = j < row.length ? row[j]! : 0;
    word += (((v % 2 ** w) + 2 ** w) % 2 ** w) * 2 ** (i * w);
  }
  return word;
}

/** Lane `lane` of a u32 word, sign-extended, by division and remainder. */
function refLane(word: number, lane: number, w: number): number {
  const u = Math.floor(word / 2 ** (lane * w)) % 2 ** w;
  return u >= 2 ** (w - 1) ? u - 2 ** w : u;
}

const BITS = [2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16];

/** rows x rowLength values of `bits` bits, row lengths odd and not multiples of the lane count. */
const packCase = fc
  .record({
    bits: fc.constantFrom(...BITS),
    rows: fc.integer({ min: 1, max: 6 }),
    rowLength: fc.oneof(fc.constantFrom(1, 3, 5, 7, 9, 15, 17, 31, 33), fc.integer({ min: 0, max: 70 })),
  })
  .chain(({ bits, rows, rowLength }) =>
    fc
      .array(fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 }), {
        minLength: rows * rowLength,
        maxLength: rows * rowLength,
      })
      .map((values) => ({ bits, rows, rowLength, values })),
  );

describe('laneBits', () => {
  it('maps each bitwidth to its lane: 2 -> 2, 3..4 -> 4, 5..8 -> 8, 9..16 -> 16', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 9, 15, 16].map(laneBits)).toEqual([2, 4, 4, 8, 8, 8, 8, 16, 16, 16]);
  });

  it('rejects other widths with a RangeError naming the value', () => {
    for (const b of [0, 1, 17, 32, 2.5, Number.NaN]) {
      expect(() => laneBits(b), `bits = ${b}`).toThrow(RangeError);
      expect(() => laneBits(b)).toThrow(`bits = ${b}`);
    }
  });
});

describe('packRows / unpackRows', () => {
  it('lays lanes out little-end first, two\'s complement, one example per lane width', () => {
    expect([...packRows([1, -1, 2, -128], 1, 4, 8).data]).toEqual([0x8002ff01]);
    expect([...packRows([1, -1, 7, -8, 0, 3, -2, 5], 1, 8, 4).data]).toEqual([0x5e3087f1]);
    expect([...packRows([1, -1, 0, -2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, -1], 1, 16, 2).data]).toEqual([0xc000558d]);
    expect([...packRows([-32768, 32767], 1, 2, 16).data]).toEqual([0x7fff8000]);
  });

  it('pads every row to whole words with zero lanes (3 rows of 5 at 4 bits)', () => {
    const values = [-1, -1, -1, -1, -1, 1, 2, 3, 4, 5, -8, 7, -8, 7, -8];
    const { data, wordsPerRow, laneBits: w } = packRows(values, 3, 5, 4);
    expect(w).toBe(4);
    expect(wordsPerRow).toBe(1);
    expect([...data]).toEqual([0x000fffff, 0x00054321, 0x00087878]);
  });

  it('3-bit values use 4-bit lanes and 5..7-bit values 8-bit lanes', () => {
    const three = packRows([-4, 3, -1], 1, 3, 3);
    expect(three.laneBits).toBe(4);
    expect([...three.data]).toEqual([0x00000f3c]);
    const six = packRows([-32, 31, 5], 1, 3, 6);
    expect(six.laneBits).toBe(8);
    expect([...six.data]).toEqual([0x00051fe0]);
  });

  it('matches the arithmetic reference layout and round-trips (seeded random, bits 2..16, odd row lengths)', () => {
    fc.assert(
      fc.property(packCase, ({ bits, rows, rowLength, values }) => {
        const packed = packRows(values, rows, rowLength, bits);
        const w = laneBits(bits);
        const wordsPerRow = Math.ceil(rowLength / (32 / w));
        if (packed.laneBits !== w || packed.wordsPerRow !== wordsPerRow || packed.data.length !== rows * wordsPerRow) return false;
        for (let r = 0; r < rows; r++) {
          const row = values.slice(r * rowLength, (r + 1) * rowLength);
          for (let k = 0; k < wordsPerRow; k++) if (packed.data[r * wordsPerRow + k] !== refWord(row, k, w)) return false;
        }
        const back = unpackRows(packed.data, rows, rowLength, bits);
        const fromTyped = packRows(Int32Array.from(values), rows, rowLength, bits).data;
        return values.every((v, i) => back[i] === v) && fromTyped.every((x, i) => x === packed.data[i]);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('round-trips the extremes of every bitwidth 2..8 and 16 at odd row lengths', () => {
    for (const bits of [2, 3, 4, 5, 6, 7, 8, 16]) {
      const lo = -(2 ** (bits - 1));
      const hi = 2 ** (bits - 1) - 1;
      for (const rowLength of [1, 3, 7, 13, 33]) {
        const values = Array.from({ length: 3 * rowLength }, (_, i) => [lo, hi, 0, -1, 1][i % 5]!);
        const { data } = packRows(values, 3, rowLength, bits);
        expect([...unpackRows(data, 3, rowLength, bits)], `bits ${bits}, rowLength ${rowLength}`).toEqual(values);
      }
    }
  });

  it('rejects a value outside its bitwidth (not just its lane), a fraction or NaN, naming value, row and column', () => {
    expect(() => packRows([0, 0, 0, 4], 2, 2, 3)).toThrow(/value 4 at row 1, column 1 does not fit 3 bits \(range -4\.\.3\)/);
    expect(() => packRows([2], 1, 1, 2)).toThrow(RangeError);
    expect(() => packRows([-129], 1, 1, 8)).toThrow(RangeError);
    expect(() => packRows([32768], 1, 1, 16)).toThrow(RangeError);
    expect(() => packRows([0.5], 1, 1, 8)).toThrow(/value 0\.5/);
    expect(() => packRows([Number.NaN], 1, 1, 8)).toThrow(/value NaN/);
  });

  it('rejects a wrong value count, a bad shape and a short buffer', () => {
    expect(() => packRows([1, 2, 3], 2, 2, 8)).toThrow(/3 values given for 2 rows of 2/);
    expect(() => packRows([], -1, 0, 8)).toThrow(/rows = -1/);
    expect(() => packRows([1], 1, 1, 1)).toThrow(/bits = 1/);
    expect(() => unpackRows(new Uint32Array(1), 2, 4, 8)).toThrow(/need 2/);
  });
});

describe('unpackLane', () => {
  it('sign-extends each lane as the WGSL shift-left, arithmetic-shift-right does (seeded random words)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(2, 4, 8, 16), (word, w) => {
        for (let lane = 0; lane < 32 / w; lane++) {
          if (unpackLane(word, lane, w) !== refLane(word, lane, w)) return false;
        }
        return true;
      }),
      { seed: SEED + 1, numRuns: 3000 },
    );
  });

  it('reads edge words: all ones, alternating bits, the top lane', () => {
    expect([0, 1, 2, 3].map((l) => unpackLane(0xffffffff, l, 8))).toEqual([-1, -1, -1, -1]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((l) => unpackLane(0x80000000, l, 4))).toEqual([0, 0, 0, 0, 0, 0, 0, -8]);
    expect(unpackLane(0xaaaaaaaa, 15, 2)).toBe(-2);
    expect(unpackLane(0x55555555, 0, 2)).toBe(1);
    expect(unpackLane(0x7fff8000, 0, 16)).toBe(-32768);
    expect(unpackLane(0x7fff8000, 1, 16)).toBe(32767);
  });
});

describe('packActivations (NCHW codes to NHWC 8-bit lanes)', () => {
  it('packs 4 channels per word, channels last, and pads channels to a multiple of 4 with the pad code', () => {
    // n = 1, c = 5, h = 1, w = 2: NCHW order is channel-major.
    const codes = Int32Array.from([1, 2, -1, 3, 127, 4, -128, 5, 5, 6]);
    const s = { n: 1, c: 5, h: 1, w: 2 };
    expect([...packActivations(codes, s, 0)]).toEqual([0x807fff01, 0x00000005, 0x05040302, 0x00000006]);
    // An affine tensor: lanes q - 128, padding lanes the zero point's.
    const affine = packActivations(codes.map((q) => q + 128), s, 128, 130);
    expect(affine[1]).toBe(0x02020205);
    expect([...unpackActivations(affine, s, 128)]).toEqual([...codes.map((q) => q + 128)]);
    expect(nonzeroPadding(affine, s, 2)).toEqual([]);
    expect(nonzeroPadding(affine, s)).toEqual([1, 3]);
  });

  it('round-trips seeded random tensors of any shape', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (n, c, hw, seed) => {
          const s = { n, c, h: hw, w: 1 };
          const values = Array.from({ length: n * c * hw }, (_, i) => ((Math.imul(i + 1, 2654435761) ^ seed) & 0xff) - 128);
          const words = packActivations(values, s, 0);
          expect(words.length).toBe(n * hw * Math.ceil(c / 4));
          expect([...unpackActivations(words, s, 0)]).toEqual(values);
          expect(nonzeroPadding(words, s)).toEqual([]);
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('rejects codes that are not a signed byte after the offset (unsigned codes need the offset 128)', () => {
    expect(() => packActivations([200], { n: 1, c: 1, h: 1, w: 1 }, 0)).toThrow(/packActivations: code 200 at batch 0, channel 0, position 0 minus offset 0 is not a signed byte/);
  });
});
