/**
 * The integer primitives against BigInt references (STYLE.md point 8): edge
 * values (±2^i ± {0, 1, 2}, INT32_MIN, INT32_MAX, 0) exhaustively in pairs, and
 * seeded random ones through fast-check, with zero tolerance. The references
 * transcribe gemmlowp's and TFLite's definitions literally (64-bit product,
 * sign-dependent nudge, division truncating toward zero), independently of
 * the 16-bit-halves implementation under test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  highMul,
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  requantize,
  roundingShift,
  saturatingLeftShift,
} from '../../src/quant/fixed-point.js';
import { dequantizeValue, qRange, quantizeValue, roundHalfEven, saturate } from '../../src/quant/rounding.js';

const SEED = 20240607;
const RUNS = 5000;
const int32 = fc.integer({ min: INT32_MIN, max: INT32_MAX });

// ---------------------------------------------------------------- references

/** gemmlowp SaturatingRoundingDoublingHighMul<int32>, word for word, in BigInt. */
function refHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
}

/** x / 2^e rounded to nearest, ties away from zero, on exact integers. */
function refRoundingShift(x: number, e: number): number {
  if (e === 0) return x;
  const ax = BigInt(Math.abs(x));
  const q = (ax + (1n << BigInt(e - 1))) >> BigInt(e);
  return x < 0 ? -Number(q) : Number(q);
}

function refSaturatingLeftShift(x: number, n: number): number {
  const y = BigInt(x) << BigInt(n);
  return y > BigInt(INT32_MAX) ? INT32_MAX : y < BigInt(INT32_MIN) ? INT32_MIN : Number(y);
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding), our shift sign: > 0 right. */
function refMbqm(acc: number, m0: number, shift: number): number {
  const left = shift < 0 ? -shift : 0;
  const right = shift > 0 ? shift : 0;
  return refRoundingShift(refHighMul(refSaturatingLeftShift(acc, left), m0), right);
}

/** round(acc * m0 * 2^-(31 + shift)) with one rounding (half away from zero), exact. */
function refSingleRounding(acc: number, m0: number, shift: number): number {
  const p = BigInt(acc) * BigInt(m0);
  const s = 31n + BigInt(shift);
  const ap = p < 0n ? -p : p;
  const q = s > 0n ? (ap + (1n << (s - 1n))) >> s : ap << -s;
  return Number(p < 0n ? -q : q);
}

/** ±2^i ± {0, 1, 2} wrapped to int32, with 0, INT32_MIN and INT32_MAX. */
function edgeValues(): number[] {
  const s = new Set<number>([0, INT32_MIN, INT32_MAX]);
  for (let i = 0; i <= 31; i++) {
    for (const d of [-2, -1, 0, 1, 2]) {
      s.add((2 ** i + d) | 0);
      s.add((-(2 ** i) + d) | 0);
    }
  }
  return [...s].sort((x, y) => x - y);
}
const EDGES = edgeValues();

/** Multipliers covering every shift, both ends of the m0 range, and the rounding carry. */
const EDGE_MULTIPLIERS: { m0: number; shift: number }[] = (() => {
  const out: { m0: number; shift: number }[] = [];
  for (let shift = -31; shift <= 31; shift++) {
    for (const m0 of [2 ** 30, 2 ** 30 + 1, 1518500250, 2 ** 31 - 2, 2 ** 31 - 1]) out.push({ m0, shift });
  }
  out.push({ m0: 0, shift: 0 });
  return out;
})();

// ---------------------------------------------------------------- highMul

describe('highMul (SaturatingRoundingDoublingHighMul)', () => {
  it(`equals the BigInt reference on all ${EDGES.length}^2 pairs of edge values`, () => {
    let mismatches = 0;
    for (const a of EDGES) {
      for (const b of EDGES) if (highMul(a, b) !== refHighMul(a, b)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('saturates only INT32_MIN * INT32_MIN', () => {
    expect(highMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(highMul(INT32_MIN, INT32_MAX)).toBe(INT32_MIN + 1);
    expect(highMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    expect(highMul(INT32_MIN, -INT32_MAX)).toBe(INT32_MAX);
  });

  it('rounds ties toward +infinity: a*b = ±2^30 gives 1 and 0', () => {
    expect(highMul(2 ** 15, 2 ** 15)).toBe(1);
    expect(highMul(-(2 ** 15), 2 ** 15)).toBe(0);
    expect(highMul(3 * 2 ** 15, 2 ** 15)).toBe(2); // 1.5 -> 2
    expect(highMul(-3 * 2 ** 15, 2 ** 15)).toBe(-1); // -1.5 -> -1
  });

  it('equals the BigInt reference on seeded random int32 pairs', () => {
    fc.assert(
      fc.property(int32, int32, (a, b) => highMul(a, b) === refHighMul(a, b)),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('is an int32 and symmetric', () => {
    fc.assert(
      fc.property(int32, int32, (a, b) => {
        const r = highMul(a, b);
        return r === (r | 0) && r === highMul(b, a);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- roundingShift

describe('roundingShift (RoundingDivideByPOT)', () => {
  it('equals the exact round-half-away-from-zero on edge values x exponents 0..31', () => {
    let mismatches = 0;
    for (const x of EDGES) {
      for (let e = 0; e <= 31; e++) if (roundingShift(x, e) !== refRoundingShift(x, e)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('rounds ties away from zero', () => {
    expect([5, 6, 7, -5, -6, -7, 2, -2].map((x) => roundingShift(x, 2))).toEqual([1, 2, 2, -1, -2, -2, 1, -1]);
    expect(roundingShift(INT32_MIN, 31)).toBe(-1);
    expect(roundingShift(-(2 ** 30), 31)).toBe(-1);
    expect(roundingShift(2 ** 30, 31)).toBe(1);
    expect(roundingShift(2 ** 30 - 1, 31)).toBe(0);
    expect(roundingShift(INT32_MAX, 31)).toBe(1);
  });

  it('equals the reference on seeded random values', () => {
    fc.assert(
      fc.property(int32, fc.integer({ min: 0, max: 31 }), (x, e) => roundingShift(x, e) === refRoundingShift(x, e)),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });
});

describe('saturatingLeftShift', () => {
  it('equals the clamped BigInt shift on edge values x 0..31', () => {
    let mismatches = 0;
    for (const x of EDGES) {
      for (let n = 0; n <= 31; n++) if (saturatingLeftShift(x, n) !== refSaturatingLeftShift(x, n)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

// ---------------------------------------------------------------- quantizeMultiplier

/** The same conditions as checkMultiplier, as a boolean (fast for property runs). */
function multiplierOk(m: number): boolean {
  const { m0, shift } = quantizeMultiplier(m);
  if (!Number.isInteger(m0) || !Number.isInteger(shift) || Object.is(shift, -0)) return false;
  if (m0 === 0) return shift === 0 && m < 2 ** -32;
  const exact = m * 2 ** (31 + shift);
  return m0 >= 2 ** 30 && m0 < 2 ** 31 && shift >= -31 && shift <= 31 && Math.abs(m0 - exact) <= 0.5 && Math.abs(m0 - exact) / exact <= 2 ** -31;
}

function checkMultiplier(m: number): void {
  const { m0, shift } = quantizeMultiplier(m);
  expect(Number.isInteger(m0) && Number.isInteger(shift)).toBe(true);
  expect(Object.is(shift, -0)).toBe(false);
  if (m0 === 0) {
    expect(shift).toBe(0);
    expect(m < 2 ** -32).toBe(true);
    return;
  }
  expect(m0).toBeGreaterThanOrEqual(2 ** 30);
  expect(m0).toBeLessThan(2 ** 31);
  expect(shift).toBeGreaterThanOrEqual(-31);
  expect(shift).toBeLessThanOrEqual(31);
  // |m0 * 2^-31 * 2^-shift - m| <= 2^-31 * m, compared exactly:
  // m0 - m * 2^(31 + shift) is exact in doubles (both near 2^30..2^31).
  const err = Math.abs(m0 - m * 2 ** (31 + shift));
  expect(err).toBeLessThanOrEqual(0.5);
  expect(err / (m * 2 ** (31 + shift))).toBeLessThanOrEqual(2 ** -31);
}

describe('quantizeMultiplier', () => {
  it('m = 0 gives {0, 0}', () => {
    expect(quantizeMultiplier(0)).toEqual({ m0: 0, shift: 0 });
  });

  it('powers of two 2^-n give m0 = 2^30 and shift = n - 1 (n = -30..32)', () => {
    for (let n = -30; n <= 32; n++) expect(quantizeMultiplier(2 ** -n), `n = ${n}`).toEqual({ m0: 2 ** 30, shift: n - 1 });
  });

  it('halves m0 and lowers shift when rounding carries to 2^31', () => {
    const justBelowOne = 1 - 2 ** -53; // frexp: q = 1 - 2^-53, q * 2^31 rounds to 2^31
    expect(quantizeMultiplier(justBelowOne)).toEqual({ m0: 2 ** 30, shift: -1 });
    expect(quantizeMultiplier(0.5 * (1 - 2 ** -40))).toEqual({ m0: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(0.75)).toEqual({ m0: 3 * 2 ** 29, shift: 0 });
    // 2^-32 * (1 - 2^-53) would need shift 32, but its rounding carry brings it back to 31.
    expect(quantizeMultiplier(2 ** -32 * (1 - 2 ** -53))).toEqual({ m0: 2 ** 30, shift: 31 });
  });

  it('multipliers below 2^-32 (shift > 31) give {0, 0}, whose product is the correctly rounded 0', () => {
    expect(quantizeMultiplier(2 ** -33)).toEqual({ m0: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -32 * 0.75)).toEqual({ m0: 0, shift: 0 });
    expect(quantizeMultiplier(Number.MIN_VALUE)).toEqual({ m0: 0, shift: 0 });
    // Every int32 times such m is below 1/2 in magnitude.
    expect(Math.abs(INT32_MIN * 2 ** -32 * (1 - 2 ** -30))).toBeLessThan(0.5);
  });

  it('reconstructs m within 2^-31 relative on edge multipliers', () => {
    const ms = [2 ** -32, 1e-9, 0.1, 1 / 3, 0.5, 0.999999, 1, 1.5, 2, 1000.5, 2 ** 31 - 1, 0.0039215686];
    for (const m of ms) checkMultiplier(m);
  });

  it('reconstructs m within 2^-31 relative on seeded random multipliers', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -40, max: 2 ** 31 - 1, noNaN: true }), multiplierOk),
      { seed: SEED + 3, numRuns: RUNS },
    );
  });

  it('rejects negative, non-finite and too large multipliers with a RangeError naming the value', () => {
    for (const m of [-0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 31 * (1 - 2 ** -53), 1e300]) {
      expect(() => quantizeMultiplier(m), `m = ${m}`).toThrow(RangeError);
      expect(() => quantizeMultiplier(m)).toThrow(String(m));
    }
  });
});

// ---------------------------------------------------------------- multiplyByQuantizedMultiplier

describe('multiplyByQuantizedMultiplier (TFLite, double rounding)', () => {
  it(`equals the BigInt chain on ${EDGES.length} edge accumulators x ${EDGE_MULTIPLIERS.length} edge multipliers`, () => {
    let mismatches = 0;
    for (const acc of EDGES) {
      for (const { m0, shift } of EDGE_MULTIPLIERS) {
        if (multiplyByQuantizedMultiplier(acc, m0, shift) !== refMbqm(acc, m0, shift)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  const multiplier = fc.record({
    m0: fc.integer({ min: 2 ** 30, max: 2 ** 31 - 1 }),
    shift: fc.integer({ min: -31, max: 31 }),
  });

  it('equals the BigInt chain on seeded random accumulators and multipliers', () => {
    fc.assert(
      fc.property(int32, multiplier, (acc, { m0, shift }) => multiplyByQuantizedMultiplier(acc, m0, shift) === refMbqm(acc, m0, shift)),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  it('is within one of the single-rounded exact product where nothing saturates', () => {
    fc.assert(
      fc.property(int32, multiplier, (acc, { m0, shift }) => {
        const exact = refSingleRounding(acc, m0, shift);
        fc.pre(Math.abs(exact) < 2 ** 30 && Math.abs(acc * 2 ** Math.max(0, -shift)) < 2 ** 31);
        return Math.abs(multiplyByQuantizedMultiplier(acc, m0, shift) - exact) <= 1;
      }),
      { seed: SEED + 5, numRuns: RUNS },
    );
  });

  it('rounds twice: acc = 1, m = 0.375 gives 1 where round(0.375) = 0', () => {
    // highMul(1, 0.75 * 2^31) = round(0.75) = 1, then roundingShift(1, 1) = round(0.5) = 1.
    const { m0, shift } = quantizeMultiplier(0.375);
    expect({ m0, shift }).toEqual({ m0: 3 * 2 ** 29, shift: 1 });
    expect(multiplyByQuantizedMultiplier(1, m0, shift)).toBe(1);
    expect(refSingleRounding(1, m0, shift)).toBe(0);
  });
});

// ---------------------------------------------------------------- requantize

describe('requantize', () => {
  const ranges = [qRange(8, true), qRange(8, false), qRange(4, true, true), qRange(16, true), qRange(2, true, true)];

  it('equals clamp(zp + BigInt chain) on edge accumulators, edge multipliers and output ranges', () => {
    const chain = EDGES.map((acc) => EDGE_MULTIPLIERS.map(({ m0, shift }) => refMbqm(acc, m0, shift)));
    let mismatches = 0;
    for (const { lo, hi } of ranges) {
      for (const zp of [lo, 0, hi, Math.round((lo + hi) / 2)]) {
        EDGES.forEach((acc, i) => {
          EDGE_MULTIPLIERS.forEach(({ m0, shift }, j) => {
            if (requantize(acc, m0, shift, zp, lo, hi) !== saturate(zp + chain[i]![j]!, lo, hi)) mismatches++;
          });
        });
      }
    }
    expect(mismatches).toBe(0);
  });

  it('equals the BigInt chain and is within one step of the float64 round(acc * m) on seeded random cases', () => {
    fc.assert(
      fc.property(
        int32,
        fc.double({ min: 2 ** -36, max: 2 ** 8, noNaN: true }),
        fc.integer({ min: 0, max: ranges.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (acc, m, ri, zpRaw) => {
          const { lo, hi } = ranges[ri]!;
          const zp = lo + (zpRaw % (hi - lo + 1));
          const { m0, shift } = quantizeMultiplier(m);
          const got = requantize(acc, m0, shift, zp, lo, hi);
          const chain = saturate(zp + refMbqm(acc, m0, shift), lo, hi);
          const float = saturate(zp + Math.round(acc * m), lo, hi);
          return got === chain && Math.abs(got - float) <= 1;
        },
      ),
      { seed: SEED + 6, numRuns: RUNS },
    );
  });

  it('applies fused ReLU / ReLU6 as clamp bounds', () => {
    const { m0, shift } = quantizeMultiplier(1 / 16); // S_out = 16 * S_w * S_in
    const zp = -10;
    const six = zp + 48; // 6 / S_out with S_out = 0.125
    expect(requantize(-1600, m0, shift, zp, zp, 127)).toBe(zp); // ReLU: negative -> zero point
    expect(requantize(1600, m0, shift, zp, zp, six)).toBe(six); // ReLU6 upper bound
    expect(requantize(160, m0, shift, zp, zp, six)).toBe(zp + 10);
  });
});

// ---------------------------------------------------------------- power-of-two scales

describe('power-of-two multipliers (Qm.n)', () => {
  // eq. 19 of docs/quantization.md: with m = 2^-n the chain is floor((acc + 1) / 2)
  // followed by roundingShift(., n - 1); it equals roundingShift(acc, n) except on
  // the accumulators below, where the double rounding adds one.
  const doubleRoundingUp = (acc: number, n: number): boolean =>
    n === 1 ? acc < 0 && acc % 2 !== 0 : acc > 0 && acc % 2 ** n === 2 ** (n - 1) - 1;

  it('requantize(acc, 2^-n) = roundingShift(acc, n), plus 1 exactly on the documented double-rounding cases (edges, n = 1..31)', () => {
    let mismatches = 0;
    let plusOne = 0;
    for (let n = 1; n <= 31; n++) {
      const { m0, shift } = quantizeMultiplier(2 ** -n);
      expect({ m0, shift }).toEqual({ m0: 2 ** 30, shift: n - 1 });
      for (const acc of EDGES) {
        const want = roundingShift(acc, n) + (doubleRoundingUp(acc, n) ? 1 : 0);
        if (doubleRoundingUp(acc, n)) plusOne++;
        if (requantize(acc, m0, shift, 0, INT32_MIN, INT32_MAX) !== want) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(plusOne).toBeGreaterThan(0);
  });

  it('the same on every accumulator in -4096..4096 and on seeded random ones', () => {
    for (let n = 1; n <= 12; n++) {
      const { m0, shift } = quantizeMultiplier(2 ** -n);
      for (let acc = -4096; acc <= 4096; acc++) {
        const want = roundingShift(acc, n) + (doubleRoundingUp(acc, n) ? 1 : 0);
        if (requantize(acc, m0, shift, 0, INT32_MIN, INT32_MAX) !== want) expect.fail(`n = ${n}, acc = ${acc}`);
      }
    }
    fc.assert(
      fc.property(int32, fc.integer({ min: 1, max: 31 }), (acc, n) => {
        const { m0, shift } = quantizeMultiplier(2 ** -n);
        const want = roundingShift(acc, n) + (doubleRoundingUp(acc, n) ? 1 : 0);
        return requantize(acc, m0, shift, 0, INT32_MIN, INT32_MAX) === want;
      }),
      { seed: SEED + 7, numRuns: RUNS },
    );
  });

  it('m = 2^k, k >= 0 (left shifts, multiplier 1 included) is exact: acc * 2^k wherever it fits', () => {
    for (let k = 0; k <= 30; k++) {
      const { m0, shift } = quantizeMultiplier(2 ** k);
      expect({ m0, shift }).toEqual({ m0: 2 ** 30, shift: -(k + 1) });
      for (const acc of EDGES) {
        if (Math.abs(acc * 2 ** (k + 1)) >= 2 ** 31) continue;
        expect(multiplyByQuantizedMultiplier(acc, m0, shift)).toBe(acc * 2 ** k);
      }
    }
  });
});

// ---------------------------------------------------------------- rounding.ts

/** Round half to even, written the long way. */
function refRoundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for |x| < 2^53
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 ? 0 : r;
}

describe('roundHalfEven', () => {
  it('rounds .5 cases to even, negatives included (numpy.rint)', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5].map(roundHalfEven)).toEqual([-2, -2, 0, 0, 2, 2, 4, -4]);
    for (let k = -1000; k <= 1000; k++) expect(roundHalfEven(k + 0.5)).toBe(k % 2 === 0 ? k : k + 1);
  });

  it('handles values near 1/2, large half-integers, zeros and non-finite values', () => {
    expect(roundHalfEven(0.49999999999999994)).toBe(0);
    expect(roundHalfEven(-0.49999999999999994)).toBe(0);
    expect(Object.is(roundHalfEven(-0.3), 0)).toBe(true);
    expect(Object.is(roundHalfEven(-0), 0)).toBe(true);
    expect(roundHalfEven(2 ** 51 + 0.5)).toBe(2 ** 51);
    expect(roundHalfEven(2 ** 51 + 1.5)).toBe(2 ** 51 + 2);
    expect(roundHalfEven(-(2 ** 51) - 0.5)).toBe(-(2 ** 51));
    expect(roundHalfEven(-(2 ** 51) + 0.5)).toBe(-(2 ** 51));
    expect(roundHalfEven(2 ** 52 - 0.5)).toBe(2 ** 52);
    expect(roundHalfEven(2 ** 53 + 2)).toBe(2 ** 53 + 2);
    expect(roundHalfEven(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundHalfEven(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundHalfEven(Number.NaN)).toBeNaN();
  });

  it('equals the long-way reference on seeded random doubles', () => {
    fc.assert(
      fc.property(fc.double({ min: -(2 ** 53), max: 2 ** 53, noNaN: true }), (x) => Object.is(roundHalfEven(x), refRoundHalfEven(x))),
      { seed: SEED + 8, numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.constantFrom(0, 0.25, 0.5, 0.75), (k, f) =>
        Object.is(roundHalfEven(k + f), refRoundHalfEven(k + f)),
      ),
      { seed: SEED + 9, numRuns: RUNS },
    );
  });
});

describe('qRange', () => {
  it('gives the narrow, full and unsigned ranges', () => {
    expect(qRange(8, true, true)).toEqual({ lo: -127, hi: 127 });
    expect(qRange(8, true)).toEqual({ lo: -128, hi: 127 });
    expect(qRange(8, false)).toEqual({ lo: 0, hi: 255 });
    expect(qRange(8, false, true)).toEqual({ lo: 1, hi: 255 });
    expect(qRange(2, true, true)).toEqual({ lo: -1, hi: 1 });
    expect(qRange(2, true)).toEqual({ lo: -2, hi: 1 });
    expect(qRange(4, true, true)).toEqual({ lo: -7, hi: 7 });
    expect(qRange(3, false)).toEqual({ lo: 0, hi: 7 });
    expect(qRange(16, true)).toEqual({ lo: -32768, hi: 32767 });
    expect(qRange(32, true)).toEqual({ lo: INT32_MIN, hi: INT32_MAX });
    expect(qRange(32, true, true)).toEqual({ lo: -INT32_MAX, hi: INT32_MAX });
  });

  it('rejects unsupported bitwidths with a RangeError naming the value', () => {
    for (const [bits, signed] of [[1, true], [17, true], [0, false], [2.5, true], [32, false], [64, true], [Number.NaN, true]] as const) {
      expect(() => qRange(bits, signed), `bits = ${bits}`).toThrow(RangeError);
      expect(() => qRange(bits, signed)).toThrow(`bits = ${bits}`);
    }
  });
});

describe('quantizeValue / dequantizeValue (ONNX QuantizeLinear / DequantizeLinear)', () => {
  it('rounds half to even, adds the zero point, saturates', () => {
    const { lo, hi } = qRange(8, false);
    expect(quantizeValue(1.25, 0.5, 128, lo, hi)).toBe(130); // 2.5 -> 2
    expect(quantizeValue(1.75, 0.5, 128, lo, hi)).toBe(132); // 3.5 -> 4
    expect(quantizeValue(-1.25, 0.5, 128, lo, hi)).toBe(126); // -2.5 -> -2
    expect(quantizeValue(1000, 0.5, 128, lo, hi)).toBe(255);
    expect(quantizeValue(-1000, 0.5, 128, lo, hi)).toBe(0);
    expect(quantizeValue(Number.POSITIVE_INFINITY, 0.5, 128, lo, hi)).toBe(255);
    expect(quantizeValue(0, 0.1, 37, lo, hi)).toBe(37); // real zero is exact
    expect(dequantizeValue(130, 0.5, 128)).toBe(1);
    expect(dequantizeValue(37, 0.1, 37)).toBe(0);
  });

  it('round trip is within half a step where it does not saturate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 255 }),
        (r, scale, zp) => {
          const { lo, hi } = qRange(8, false);
          const q = quantizeValue(r, scale, zp, lo, hi);
          if (q === lo || q === hi) return true;
          return Math.abs(dequantizeValue(q, scale, zp) - r) <= scale * (0.5 + 1e-9);
        },
      ),
      { seed: SEED + 10, numRuns: RUNS },
    );
  });

  it('saturate clamps both ends', () => {
    expect([saturate(-5, -2, 3), saturate(5, -2, 3), saturate(1, -2, 3)]).toEqual([-2, 3, 1]);
  });
});
