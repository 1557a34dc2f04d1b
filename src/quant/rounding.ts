/**
 * Float <-> integer conversions of the quantization core: the affine map,
 * rounding, saturation and the integer ranges of each bitwidth.
 * Equation numbers refer to docs/quantization.md.
 *
 * These run on the CPU only (the network's input is quantized once, its
 * logits dequantized once); the integer steps in between live in
 * fixed-point.ts and are what the WGSL reproduces.
 */

/** 1.5 * 2^52: adding it to |x| <= 2^51 leaves the integer part in the low mantissa bits. */
const RNE_MAGIC = 6755399441055744;
const TWO_51 = 2251799813685248;

/**
 * Round to the nearest integer, ties to even (eq. 4): numpy.rint and ONNX
 * QuantizeLinear's rounding. 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, -0.5 -> 0.
 *
 * For |x| <= 2^51 one addition does it: x + 1.5*2^52 lies in [2^52, 2^53),
 * where doubles are spaced exactly 1 apart, so IEEE 754's round-to-nearest-even
 * (which ECMAScript mandates for +) rounds x itself; 1.5*2^52 is even, so the
 * parity of the sum is the parity of the result. Above 2^51 only the
 * half-integers in [2^51, 2^52) remain, handled by the slow path. NaN stays
 * NaN; infinities stay infinite (saturate clamps them). The result is never -0.
 */
export function roundHalfEven(x: number): number {
  if (x > -TWO_51 && x < TWO_51) return x + RNE_MAGIC - RNE_MAGIC;
  const r = Math.round(x); // ties toward +infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Clamp `v` to [lo, hi] (eq. 5). NaN passes through unchanged. */
export function saturate(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Integer range of one bitwidth and signedness; both ends inclusive. */
export interface QRange {
  lo: number;
  hi: number;
}

/**
 * The integer range of a `bits`-wide quantized value (eq. 2a-2c):
 * - signed, narrow: [-(2^(b-1) - 1), 2^(b-1) - 1], the symmetric weight range
 *   (the most negative code is dropped so that the range is symmetric: -q
 *   always exists, and a 2-bit weight is one of -1, 0, 1);
 * - signed, full: [-2^(b-1), 2^(b-1) - 1], activations stored signed (q - 128)
 *   and biases (bits = 32);
 * - unsigned: [0, 2^b - 1], affine activations; `narrow` raises lo to 1 (as
 *   TensorFlow's narrow_range does).
 * `bits` is 2..16, or 32 for signed biases. Anything else is a RangeError
 * naming the value.
 */
export function qRange(bits: number, signed: boolean, narrow = false): QRange {
  const ok = Number.isInteger(bits) && ((bits >= 2 && bits <= 16) || (bits === 32 && signed));
  if (!ok) {
    throw new RangeError(
      `qRange: bits = ${bits} is not supported (expected an integer in 2..16, or 32 for signed biases)`,
    );
  }
  const n = narrow ? 1 : 0;
  if (signed) {
    const half = 2 ** (bits - 1);
    return { lo: -half + n, hi: half - 1 };
  }
  return { lo: n, hi: 2 ** bits - 1 };
}

/**
 * Real -> quantized (eq. 4-5): saturate(roundHalfEven(r / scale) + zeroPoint),
 * ONNX QuantizeLinear. The quotient is a float32 division of float32 operands,
 * as ONNX Runtime and the WGSL quantize kernel compute it, so the golden model,
 * the GPU and ONNX agree even on inputs within one float32 rounding of a tie.
 * A NaN input gives NaN: callers reject non-finite data.
 */
export function quantizeValue(r: number, scale: number, zeroPoint: number, lo: number, hi: number): number {
  return saturate(roundHalfEven(Math.fround(Math.fround(r) / Math.fround(scale))) + zeroPoint, lo, hi);
}

/** Quantized -> real (eq. 1): (q - zeroPoint) * scale, in float64, ONNX DequantizeLinear's order. */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return (q - zeroPoint) * scale;
}
