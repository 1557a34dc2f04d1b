import { QuantConfigError } from '../errors.js';
import type { Bits, Scheme } from './config.js';

/**
 * Quantization parameters of one integer tensor: r = scale * (q - zeroPoint),
 * q in [lo, hi]. `lo`/`hi` may be tighter than the bitwidth's range where a
 * fused ReLU or ReLU6 clamps the output.
 */
export interface QParams {
  scale: number;
  zeroPoint: number;
  bits: Bits;
  scheme: Scheme;
  lo: number;
  hi: number;
  /** pow2 only: the fractional offset n of Qm.n (scale = 2^-n). */
  fractionalBits?: number;
}

/** Integer range of an activation tensor: unsigned for affine, full signed for symmetric and pow2. */
export function activationRange(bits: Bits, scheme: Scheme): { lo: number; hi: number } {
  if (scheme === 'affine') return { lo: 0, hi: 2 ** bits - 1 };
  return { lo: -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 };
}

/** The narrow symmetric range of weights: [-(2^(b-1)-1), 2^(b-1)-1], so that -q is always representable. */
export function weightRange(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

/** The power-of-two scale 2^-n whose range [-2^(b-1), 2^(b-1)-1] * 2^-n covers max|x|. */
export function pow2FractionalBits(maxAbs: number, bits: number): number {
  if (!(maxAbs > 0)) return bits - 1;
  // Largest n with (2^(b-1) - 1) * 2^-n >= maxAbs, i.e. no saturation of the calibrated extreme.
  return Math.floor(Math.log2((2 ** (bits - 1) - 1) / maxAbs));
}

/**
 * Activation parameters from a calibrated range [lo, hi] (the range is widened
 * to contain 0). pow2: `fractionalBits` fixes n (scale 2^-n) instead of the
 * range's choice. Scales are float32 values: ONNX stores scales as float32,
 * so a graph exported as QDQ and imported again gets back the very scales
 * (and so the multipliers and outputs) it was quantized with.
 */
export function activationParams(range: { lo: number; hi: number }, bits: Bits, scheme: Scheme, where: string, fractionalBits?: number): QParams {
  let lo = Math.min(range.lo, 0);
  let hi = Math.max(range.hi, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new QuantConfigError(`${where}: calibrated range [${range.lo}, ${range.hi}] is not finite`);
  if (hi - lo < 1e-12) hi = lo + 1e-6; // an all-zero tensor: any tiny scale represents it exactly.
  const q = activationRange(bits, scheme);
  switch (scheme) {
    case 'affine': {
      const scale = Math.fround((hi - lo) / (q.hi - q.lo));
      const zeroPoint = Math.min(q.hi, Math.max(q.lo, Math.round(-lo / scale)));
      return { scale, zeroPoint, bits, scheme, ...q };
    }
    case 'symmetric': {
      const m = Math.max(-lo, hi);
      return { scale: Math.fround(m / (2 ** (bits - 1) - 1)), zeroPoint: 0, bits, scheme, ...q };
    }
    case 'pow2': {
      const n = fractionalBits ?? pow2FractionalBits(Math.max(-lo, hi), bits);
      return { scale: 2 ** -n, zeroPoint: 0, bits, scheme, ...q, fractionalBits: n };
    }
  }
}

/** Clamp bounds of a fused ReLU / clip(min, max) in the integer domain of `p`. */
export function clampedParams(p: QParams, min: number, max: number): QParams {
  const toQ = (r: number): number => Math.round(r / p.scale) + p.zeroPoint;
  const lo = Number.isFinite(min) ? Math.max(p.lo, Math.min(p.hi, toQ(min))) : p.lo;
  const hi = Number.isFinite(max) ? Math.min(p.hi, Math.max(p.lo, toQ(max))) : p.hi;
  return { ...p, lo, hi };
}
