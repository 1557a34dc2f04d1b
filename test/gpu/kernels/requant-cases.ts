/**
 * Inputs for the requant.wgsl primitives and their expected outputs from the
 * TypeScript golden model (src/quant/fixed-point.ts), which test/quant checks
 * against BigInt references. Edge cases follow gemmlowp's test_fixedpoint:
 * ±2^i ± {0, 1, 2}, INT32_MIN, INT32_MAX, 0, every shift, multipliers at both
 * ends of [2^30, 2^31) and from quantizeMultiplier of reals around every power
 * of two; random cases are seeded, so a failure reproduces.
 *
 * The quotient primitives (shaders/quotient.wgsl) take the bits of two f32,
 * x and a scale s, and give roundHalfEven(float32(x / s)) as quantizeValue
 * does: their edge cases sit on and one to three float32 steps around every
 * half-integer level boundary k + 1/2 (|k| <= 300) of scales from 2^-20 to
 * 2^4, with zeros, subnormals and quotients beyond QUOTIENT_LIMIT.
 * `round_quotient_off` is round_quotient on an adapter whose division is off
 * by -2..2 float32 steps (the third argument; WGSL allows 2.5): the same
 * codes, or the guard against such adapters fails.
 */
import {
  highMul,
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  requantize,
  roundingShift,
  saturatingLeftShift,
  type QuantizedMultiplier,
} from '../../../src/quant/fixed-point.js';
import { roundHalfEven } from '../../../src/quant/rounding.js';
import { ARGS_PER_CASE, type Primitive } from './requant-test-kernel.js';
import { mulberry32 } from '../../helpers/random.js';

type Args = readonly number[];

/** ±2^i ± {0, 1, 2} wrapped to int32, with 0, INT32_MIN and INT32_MAX; sorted, distinct. */
export function edgeValues(): number[] {
  const s = new Set<number>([0, INT32_MIN, INT32_MAX]);
  for (let i = 0; i <= 31; i++) {
    for (const d of [-2, -1, 0, 1, 2]) {
      s.add((2 ** i + d) | 0);
      s.add((-(2 ** i) + d) | 0);
    }
  }
  return [...s].sort((a, b) => a - b);
}

/**
 * Multipliers with shifts -8..31 (what quantizeMultiplier gives for reals in
 * [2^-32, 2^8)): m0 at 2^30, 2^30 + 1, ~2^30.5, 2^31 - 2, 2^31 - 1 for every
 * shift, then quantizeMultiplier of reals at, just above and just below each
 * power of two 2^-32..2^8 (whose rounding carry reaches shift -9), and of 0
 * and 2^-33 (both {0, 0}).
 */
export function edgeMultipliers(): QuantizedMultiplier[] {
  const out = new Map<string, QuantizedMultiplier>();
  const add = (m: QuantizedMultiplier): void => void out.set(`${m.m0},${m.shift}`, m);
  for (let shift = -8; shift <= 31; shift++) {
    for (const m0 of [2 ** 30, 2 ** 30 + 1, 1518500250, 2 ** 31 - 2, 2 ** 31 - 1]) add({ m0, shift });
  }
  for (let k = -32; k <= 7; k++) {
    for (const f of [1, 1 + 2 ** -31, 1.0000001, Math.SQRT2, 1.5, 1.9999999, 2 - 2 ** -32]) add(quantizeMultiplier(f * 2 ** k));
  }
  add(quantizeMultiplier(0));
  add(quantizeMultiplier(2 ** -33));
  return [...out.values()];
}

/** Output ranges with their zero points: (zeroPoint, lo, hi) as requantize takes them (eq. 2, 18). */
export const OUTPUT_RANGES: readonly (readonly [number, number, number])[] = [
  [0, -127, 127], // int8 symmetric
  [0, -128, 127], // int8 full
  [37, 0, 255], // uint8 affine
  [-20, -20, 101], // int8 with a fused ReLU6 (lo = zero point)
  [8, 0, 15], // uint4 affine
  [0, -1, 1], // 2-bit symmetric
  [0, -32768, 32767], // int16
  [0, INT32_MIN, INT32_MAX], // int32, no clamp
];

/** Seeded uniform 32-bit words (the generator's [0, 1) values scaled back exactly to 2^32). */
function words(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 4294967296;
}

/** Random int32: half uniform over all of int32, half with a uniformly random bit length (small values too). */
function int32Source(next: () => number): () => number {
  return () => {
    const w = next() | 0;
    if ((next() & 1) === 0) return w;
    const bits = next() % 32; // keep the sign and `bits` low bits
    return bits === 0 ? (w < 0 ? -1 : 0) : w >> (32 - bits - 1);
  };
}

/** A random real multiplier, log-uniform in [2^-32, 2^8), quantized. */
function randomMultiplier(next: () => number): QuantizedMultiplier {
  const exponent = -32 + (next() / 2 ** 32) * 40;
  return quantizeMultiplier(2 ** exponent);
}

/** quotient.wgsl's QUOTIENT_LIMIT: larger quotients saturate there. */
const QUOTIENT_LIMIT = 4096;

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);
/** The bits of a float32 as an int32, and back. */
const bitsOf = (v: number): number => ((F32[0] = v), I32[0]!);
const floatOf = (bits: number): number => ((I32[0] = bits), F32[0]!);
/** The float32 `steps` representable values away from v (towards +infinity for steps > 0; finite, nonzero v). */
const stepFrom = (v: number, steps: number): number => floatOf(bitsOf(v) + (v > 0 ? steps : -steps));

/** What quantizeValue rounds x / s to before its zero point and clamp, saturated at +-QUOTIENT_LIMIT. */
function roundedQuotient(x: number, s: number): number {
  const q = roundHalfEven(Math.fround(Math.fround(x) / Math.fround(s)));
  return Math.max(-QUOTIENT_LIMIT, Math.min(QUOTIENT_LIMIT, q));
}

/** Scales: powers of two 2^-20..2^4, and a seeded significand at each of those exponents, with 1/255 and 0.1. */
function quotientScales(): number[] {
  const next = mulberry32(7);
  const out = [Math.fround(1 / 255), Math.fround(0.1)];
  for (let e = -20; e <= 4; e += 2) out.push(2 ** e, Math.fround((1 + next()) * 2 ** e));
  return out;
}

/** (x, s) bits: every boundary k + 1/2 and its neighbours, zeros, subnormals, huge values; `exactOnly` keeps the quotients below the limit (exact_round_quotient's domain). */
function quotientEdges(exactOnly: boolean): Args[] {
  const cases: Args[] = [];
  for (const s of quotientScales()) {
    const xs = [0, -0, 1e-45, -1e-45, 1e-40, Math.fround(0.5 * s), Math.fround(-0.5 * s), Math.fround(4095.5 * s), Math.fround(-4095.5 * s), Math.fround(5000 * s), 3e38, -3e38];
    for (let k = -300; k <= 300; k++) {
      const tie = Math.fround((k + 0.5) * s);
      xs.push(tie, Math.fround(k * s));
      if (tie !== 0) for (const d of [-3, -2, -1, 1, 2, 3]) xs.push(stepFrom(tie, d));
    }
    for (const x of xs) if (!exactOnly || Math.abs(Math.fround(x) / Math.fround(s)) < QUOTIENT_LIMIT - 1) cases.push([bitsOf(x), bitsOf(s)]);
  }
  return cases;
}

function pack(cases: readonly Args[]): Int32Array {
  const out = new Int32Array(cases.length * ARGS_PER_CASE);
  cases.forEach((c, i) => out.set(c, i * ARGS_PER_CASE));
  return out;
}

/** The edge cases of one primitive, packed ARGS_PER_CASE int32 per case. */
export function edgeCases(primitive: Primitive): Int32Array {
  const edges = edgeValues();
  const cases: Args[] = [];
  switch (primitive) {
    case 'high_mul':
      for (const a of edges) for (const b of edges) cases.push([a, b]);
      break;
    case 'rounding_shift':
    case 'saturating_left_shift':
      for (const x of edges) for (let s = 0; s <= 31; s++) cases.push([x, s]);
      break;
    case 'multiply_by_quantized_multiplier':
      for (const { m0, shift } of edgeMultipliers()) for (const acc of edges) cases.push([acc, m0, shift]);
      break;
    case 'round_quotient':
    case 'exact_round_quotient':
      for (const c of quotientEdges(primitive === 'exact_round_quotient')) cases.push(c);
      break;
    case 'round_quotient_off':
      for (const [i, c] of quotientEdges(false).entries()) cases.push([...c, (i % 5) - 2]);
      break;
    case 'requantize': {
      // Every edge accumulator and every range, with a spread of the multipliers
      // (every sixth: multiply_by_quantized_multiplier already takes them all).
      const multipliers = edgeMultipliers().filter((_, i) => i % 6 === 0);
      for (const { m0, shift } of multipliers) {
        for (const [zp, lo, hi] of OUTPUT_RANGES) for (const acc of edges) cases.push([acc, m0, shift, zp, lo, hi]);
      }
      break;
    }
  }
  return pack(cases);
}

/** `count` seeded random cases of one primitive. */
export function randomCases(primitive: Primitive, count: number, seed: number): Int32Array {
  const next = words(seed);
  const int32 = int32Source(next);
  const cases: Args[] = [];
  for (let i = 0; i < count; i++) {
    switch (primitive) {
      case 'high_mul':
        cases.push([int32(), int32()]);
        break;
      case 'rounding_shift':
      case 'saturating_left_shift':
        cases.push([int32(), next() % 32]);
        break;
      case 'multiply_by_quantized_multiplier': {
        const m = randomMultiplier(next);
        cases.push([int32(), m.m0, m.shift]);
        break;
      }
      case 'round_quotient':
      case 'exact_round_quotient':
      case 'round_quotient_off': {
        // A scale log-uniform in [2^-24, 2^8); a quotient uniform in +-300, or within a few float32 steps of a boundary.
        const s = Math.fround(2 ** (-24 + (next() / 2 ** 32) * 32));
        const q = (next() / 2 ** 32) * 600 - 300;
        const x = (next() & 1) === 0 ? Math.fround(q * s) : Math.fround((Math.floor(q) + 0.5) * s);
        cases.push([bitsOf(x === 0 ? x : stepFrom(x, (next() % 7) - 3)), bitsOf(s), (next() % 5) - 2]);
        break;
      }
      case 'requantize': {
        const m = randomMultiplier(next);
        // Half the time a listed range, else a random 16-bit one with its zero point inside.
        let range = OUTPUT_RANGES[next() % OUTPUT_RANGES.length]!;
        if ((next() & 1) === 0) {
          const a = (next() % 65536) - 32768;
          const b = (next() % 65536) - 32768;
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          range = [lo + (next() % (hi - lo + 1)), lo, hi];
        }
        cases.push([int32(), m.m0, m.shift, ...range]);
        break;
      }
    }
  }
  return pack(cases);
}

/** What the TypeScript golden model gives for each case. */
export function golden(primitive: Primitive, cases: Int32Array): Int32Array {
  const n = cases.length / ARGS_PER_CASE;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b, c, d, e, f] = cases.subarray(i * ARGS_PER_CASE, (i + 1) * ARGS_PER_CASE) as unknown as [number, number, number, number, number, number];
    switch (primitive) {
      case 'high_mul':
        out[i] = highMul(a, b);
        break;
      case 'rounding_shift':
        out[i] = roundingShift(a, b);
        break;
      case 'saturating_left_shift':
        out[i] = saturatingLeftShift(a, b);
        break;
      case 'multiply_by_quantized_multiplier':
        out[i] = multiplyByQuantizedMultiplier(a, b, c);
        break;
      case 'requantize':
        out[i] = requantize(a, b, c, d, e, f);
        break;
      case 'round_quotient':
      case 'exact_round_quotient':
      case 'round_quotient_off':
        out[i] = roundedQuotient(floatOf(a), floatOf(b));
        break;
    }
  }
  return out;
}

/** The first `limit` cases where `actual` differs from `expected`, one line each, and how many differ in all. */
export function mismatches(primitive: Primitive, cases: Int32Array, expected: Int32Array, actual: Int32Array, limit = 10): { count: number; lines: string[] } {
  const arity = { high_mul: 2, rounding_shift: 2, saturating_left_shift: 2, multiply_by_quantized_multiplier: 3, requantize: 6, round_quotient: 2, exact_round_quotient: 2, round_quotient_off: 3 }[primitive];
  const lines: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue;
    count++;
    if (lines.length < limit) {
      const args = [...cases.subarray(i * ARGS_PER_CASE, i * ARGS_PER_CASE + arity)].join(', ');
      lines.push(`case ${i}: ${primitive}(${args}) = ${actual[i]} on the GPU, ${expected[i]} in the golden model`);
    }
  }
  return { count, lines };
}
