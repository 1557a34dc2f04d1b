/**
 * The integer requantization chain, defined once: gemmlowp's fixed-point
 * primitives and TFLite's MultiplyByQuantizedMultiplier (the default, "double
 * rounding" variant). The CPU golden executor calls these per output element
 * and shaders/requant.wgsl reproduces them bit for bit, under the same names.
 * Equation numbers refer to docs/quantization.md.
 *
 * Everything here is int32 arithmetic that WGSL can express: 16x16-bit partial
 * products (Math.imul here, wrapping i32 multiplies there), shifts, masks and
 * compares. No 64-bit integer and no BigInt is needed; the tests
 * check every function against a BigInt reference.
 *
 * The hot-path functions (highMul, roundingShift, multiplyByQuantizedMultiplier,
 * requantize) do not validate their arguments: they expect int32 inputs and a
 * (m0, shift) pair made by quantizeMultiplier.
 */
import { saturate } from './rounding.js';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** A real multiplier m ~= m0 * 2^-31 * 2^-shift (eq. 12). */
export interface QuantizedMultiplier {
  /** int32 in [2^30, 2^31), or 0 when m is 0 or below 2^-32. */
  m0: number;
  /** >= 0: a right shift (rounding), after highMul; < 0: a left shift (saturating), before it. */
  shift: number;
}

/**
 * Write a real multiplier m >= 0 as m0 * 2^-31 * 2^-shift (eq. 12), as TFLite's
 * QuantizeMultiplier does (with its shift sign flipped: TFLite's positive shift
 * is a left shift, ours a right shift, as in the architecture page).
 *
 * m = q * 2^e with q in [0.5, 1) (frexp); m0 = round(q * 2^31) (half away from
 * zero), shift = -e. Rounding may carry q * 2^31 up to 2^31, which is not an
 * int32: then m0 = 2^30 and shift decreases by one (same value).
 *
 * - m = 0 gives {m0: 0, shift: 0}.
 * - shift > 31 (m < 2^-32) gives {m0: 0, shift: 0}: every int32 accumulator
 *   times such an m is below 1/2 in magnitude, so 0 is the correctly rounded
 *   result, and it is also what the chain of eq. 13-15 would produce; this
 *   keeps roundingShift's exponent within 0..31 (TFLite does the same).
 * - Exact powers of two: m = 2^-n gives m0 = 2^30, shift = n - 1, and 2^k
 *   (k >= 0) gives m0 = 2^30, shift = -(k + 1); eq. 19 says what requantize
 *   then computes (not always a plain rounding shift by n: double rounding).
 * - m >= 2^31 (a left shift above 31) and negative, NaN or infinite m are a
 *   RangeError naming the value.
 */
export function quantizeMultiplier(m: number): QuantizedMultiplier {
  if (!(m >= 0) || !Number.isFinite(m)) {
    throw new RangeError(`quantizeMultiplier: multiplier ${m} is not a finite number >= 0`);
  }
  if (m === 0) return { m0: 0, shift: 0 };
  // frexp: find e with 2^(e-1) <= m < 2^e. log2 can be off by one near powers
  // of two, so correct it with exact comparisons (2 ** integer is exact).
  let e = Math.floor(Math.log2(m)) + 1;
  if (2 ** (e - 1) > m) e -= 1;
  else if (2 ** e <= m) e += 1;
  // Rounding below can only lower shift by one, so these two tests are final.
  if (-e > 32) return { m0: 0, shift: 0 };
  if (-e < -32) {
    throw new RangeError(`quantizeMultiplier: multiplier ${m} is too large (needs a left shift of ${e} > 31)`);
  }
  // q * 2^31 = m * 2^(31 - e): exact, a power-of-two scaling.
  let m0 = Math.round(m * 2 ** (31 - e)); // > 0, so Math.round is half away from zero here
  if (m0 === 2147483648) {
    m0 = 1073741824;
    e += 1;
  }
  const shift = 0 - e; // not -e: e = 0 would give -0
  if (shift > 31) return { m0: 0, shift: 0 };
  if (shift < -31) {
    throw new RangeError(`quantizeMultiplier: multiplier ${m} is too large (needs a left shift of ${-shift} > 31)`);
  }
  return { m0, shift };
}

/**
 * gemmlowp's SaturatingRoundingDoublingHighMul (eq. 13) for int32 a, b:
 *   highMul(a, b) = floor((a*b + 2^30) / 2^31)  on the exact 64-bit product,
 * except a = b = INT32_MIN (result 2^31), which saturates to INT32_MAX.
 *
 * gemmlowp writes it as trunc((a*b + nudge) / 2^31) with nudge = 2^30 for
 * a*b >= 0 and 1 - 2^30 for a*b < 0. For a*b < 0 that is
 * ceil((a*b + 1 - 2^30) / 2^31) = floor((a*b + 2^30) / 2^31), because
 * ceil(y / d) = floor((y + d - 1) / d) for integers; so both branches are one
 * formula: round to nearest, ties toward +infinity (ARM's VQRDMULH), i.e. an
 * arithmetic right shift by 31 of a*b + 2^30 (eq. 13b). That is computed here.
 *
 * 16-bit halves (eq. 13c): a = ah*2^16 + al with ah = a >> 16 (signed, in
 * [-2^15, 2^15)) and al = a & 0xffff (in [0, 2^16)), b likewise. Then
 *   a*b + 2^30 = ah*bh*2^32 + (ah*bl + al*bh + hi16(al*bl) + 2^14)*2^16 + lo16(al*bl)
 * and the last term (< 2^16) cannot carry across a multiple of 2^31, so
 *   highMul = 2*ah*bh + (hl >> 15) + (lh >> 15)
 *           + (((hl & 0x7fff) + (lh & 0x7fff) + hi16(al*bl) + 2^14) >> 15)
 * with hl = ah*bl and lh = al*bh, each in (-2^31, 2^31): an i32. The sum is
 * taken mod 2^32, which is exact because the true result is an int32 (the one
 * exception, 2^31, is the saturated case). Every step is an int32 operation;
 * al*bl < 2^32 is the one unsigned product.
 * WGSL (i32 arithmetic wraps, as `| 0` and Math.imul do here):
 *   let al = a & 0xffff; let ah = a >> 16u; let bl = b & 0xffff; let bh = b >> 16u;
 *   let hl = ah * bl; let lh = al * bh;
 *   let ll_hi = bitcast<i32>((bitcast<u32>(al) * bitcast<u32>(bl)) >> 16u);
 *   let c = ((hl & 0x7fff) + (lh & 0x7fff) + ll_hi + 0x4000) >> 15u;
 *   let r = ((ah * bh) << 1u) + (hl >> 15u) + (lh >> 15u) + c;
 *   return select(r, 2147483647, a == b && a == i32(-2147483648));
 */
export function highMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const al = a & 0xffff;
  const ah = a >> 16;
  const bl = b & 0xffff;
  const bh = b >> 16;
  const hl = Math.imul(ah, bl);
  const lh = Math.imul(al, bh);
  const llHi = Math.imul(al, bl) >>> 16; // the u32 pattern of al*bl, high half
  const c = ((hl & 0x7fff) + (lh & 0x7fff) + llHi + 0x4000) >> 15;
  return ((Math.imul(ah, bh) << 1) + (hl >> 15) + (lh >> 15) + c) | 0;
}

/**
 * gemmlowp's RoundingDivideByPOT (eq. 14): x / 2^exponent rounded to nearest,
 * ties away from zero, for int32 x and exponent in 0..31 (not checked).
 *   mask = 2^exponent - 1, remainder = x & mask,
 *   threshold = (mask >> 1) + (x < 0 ? 1 : 0),
 *   result = (x >> exponent) + (remainder > threshold ? 1 : 0).
 * The floor (arithmetic shift) is bumped up when the dropped bits exceed one
 * half, or reach it for positive x. WGSL: the same lines on i32, with
 * mask = bitcast<i32>((1u << u32(exponent)) - 1u).
 */
export function roundingShift(x: number, exponent: number): number {
  const mask = ((1 << exponent) - 1) | 0; // exponent 31: (-2^31 - 1) | 0 = 2^31 - 1
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * x * 2^n clamped to int32, for int32 x and n in 0..31 (gemmlowp's
 * SaturatingRoundingMultiplyByPOT for a positive exponent). TFLite multiplies
 * by 2^n without saturating (overflow is undefined behaviour in C++ there), so
 * the two agree wherever TFLite is defined.
 * WGSL: select(x << n, select(INT32_MIN, INT32_MAX, x > 0), x != ((x << n) >> n)).
 */
export function saturatingLeftShift(x: number, n: number): number {
  const y = x << n;
  if (y >> n === x) return y;
  return x > 0 ? INT32_MAX : INT32_MIN;
}

/**
 * TFLite's MultiplyByQuantizedMultiplier (eq. 15), the default double-rounding
 * version: acc * m0 * 2^-31 * 2^-shift as
 *   shift < 0:  highMul(saturatingLeftShift(acc, -shift), m0)
 *   shift >= 0: roundingShift(highMul(acc, m0), shift)
 * Two roundings (highMul's, then roundingShift's), so the result can differ by
 * one from round(acc * m) (eq. 16); TFLite's TFLITE_SINGLE_ROUNDING build is
 * the other variant, not used here.
 */
export function multiplyByQuantizedMultiplier(acc: number, m0: number, shift: number): number {
  if (shift < 0) return highMul(saturatingLeftShift(acc, -shift), m0);
  return roundingShift(highMul(acc, m0), shift);
}

/**
 * The requantization epilogue (eq. 17): the int32 accumulator (bias included)
 * to an output code, clamp(zeroPoint + multiplyByQuantizedMultiplier(acc, m0,
 * shift), lo, hi). lo and hi are the output range, tightened by a fused ReLU or
 * ReLU6 (eq. 18). Here the sum is a double and cannot overflow. In WGSL,
 * where i32 addition wraps, write it as clamp(x, lo - zeroPoint, hi - zeroPoint)
 * + zeroPoint: the same value for every int32 x, and no step can overflow
 * (lo, hi and zeroPoint are at most 2^16 in magnitude, or a 32-bit range with
 * zeroPoint 0).
 */
export function requantize(acc: number, m0: number, shift: number, zeroPoint: number, lo: number, hi: number): number {
  return saturate(zeroPoint + multiplyByQuantizedMultiplier(acc, m0, shift), lo, hi);
}
