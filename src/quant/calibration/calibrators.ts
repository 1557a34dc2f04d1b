import { entropyThresholdBins } from './entropy.js';
import { mseThreshold } from './mse.js';
import { histogramQuantile, signedCounts } from './percentile.js';
import { saneRange, type ClipRange } from './range-rules.js';
import type { TensorStats } from './tensor-stats.js';

/** How an activation's clipping range is chosen from its statistics. */
export type CalibrationMethod =
  | { kind: 'max' }
  /** `percentile` in (50, 100]: 99.99 keeps all but 0.01% of the values in range. */
  | { kind: 'percentile'; percentile: number }
  | { kind: 'entropy' }
  | { kind: 'mse' };

export const MIN_BITS = 2;
export const MAX_BITS = 16;

/** Throws RangeError naming the field and value when `method` or `bits` is unusable. */
export function validateCalibration(method: CalibrationMethod, bits: number): void {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new RangeError(`bits must be an integer in [${MIN_BITS}, ${MAX_BITS}], got ${bits}`);
  }
  switch (method.kind) {
    case 'max':
    case 'entropy':
    case 'mse':
      return;
    case 'percentile': {
      const p = method.percentile;
      // Below the median a two-sided range would come out with lo > hi; no real use clips that hard.
      if (typeof p !== 'number' || !(p > 50 && p <= 100)) throw new RangeError(`percentile must be a number in (50, 100], got ${String(p)}`);
      return;
    }
    default: {
      const kind: unknown = (method as { kind?: unknown }).kind;
      throw new RangeError(`method.kind must be 'max', 'percentile', 'entropy' or 'mse', got ${String(kind)}`);
    }
  }
}

/**
 * The clipping range of an activation for a b-bit grid.
 *
 * symmetric = true: the grid is [-T, T] with 2^(b-1) - 1 steps each side;
 * every method works on |x| and returns lo = -hi.
 *
 * symmetric = false (affine): the grid is [lo, hi] with 2^b - 1 steps, and
 * the range always contains 0 (the quantizer must represent real zero).
 * - max: [min(min, 0), max(max, 0)].
 * - percentile: each tail on its own, lo at the (100 - p)-th and hi at the
 *   p-th percentile of the signed values.
 * - entropy, mse: a tensor of one sign (say after ReLU) is calibrated
 *   one-sided on its magnitudes with the full 2^b - 1 steps, giving [0, T]
 *   (or [-T, 0]). A tensor of both signs gets a threshold per tail, each
 *   from that tail's own histogram (mse with (2^b - 1) / 2 steps, entropy
 *   with 2^(b-1) - 1 levels per side), so that a spike on one side (an
 *   image's background) cannot set the clip of the other; a 2-D search over
 *   (lo, hi) is not worth its cost here.
 *
 * Entropy and mse ignore exact zeros (see `nonZeroCounts`); max and
 * percentile count them as the values they are.
 *
 * Every method returns a range inside the observed [min, max] (widened to
 * hold 0 when affine), and the degenerate rule of `saneRange` applies last.
 * Throws RangeError for bad arguments or statistics with no values.
 */
export function calibrateRange(stats: TensorStats, method: CalibrationMethod, bits: number, symmetric: boolean): ClipRange {
  validateCalibration(method, bits);
  if (stats.count === 0) throw new RangeError('stats.count is 0: no finite values were observed');
  const raw = symmetric ? symmetricRange(stats, method, bits) : affineRange(stats, method, bits);
  return saneRange(raw, symmetric);
}

function symmetricRange(stats: TensorStats, method: CalibrationMethod, bits: number): ClipRange {
  const absMax = stats.absMax;
  let t: number;
  switch (method.kind) {
    case 'max':
      t = absMax;
      break;
    case 'percentile':
      t = histogramQuantile(stats.histogram('abs'), 0, stats.binWidth, method.percentile / 100);
      break;
    case 'entropy':
      t = entropyThreshold(nonZeroCounts(stats, 'abs'), 2 ** (bits - 1) - 1, stats.binWidth);
      break;
    case 'mse':
      t = mseThreshold(nonZeroCounts(stats, 'abs'), stats.binWidth, 2 ** (bits - 1) - 1);
      break;
  }
  t = Math.min(t, absMax);
  return { lo: -t, hi: t };
}

function affineRange(stats: TensorStats, method: CalibrationMethod, bits: number): ClipRange {
  const lo0 = Math.min(stats.min, 0);
  const hi0 = Math.max(stats.max, 0);
  const within = (lo: number, hi: number): ClipRange => ({
    lo: Math.min(0, Math.max(lo0, lo)),
    hi: Math.max(0, Math.min(hi0, hi)),
  });
  const w = stats.binWidth;
  switch (method.kind) {
    case 'max':
      return { lo: lo0, hi: hi0 };
    case 'percentile': {
      const counts = signedCounts(stats.histogram('positive'), stats.histogram('negative'));
      const q = method.percentile / 100;
      return within(histogramQuantile(counts, -stats.range, w, 1 - q), histogramQuantile(counts, -stats.range, w, q));
    }
    case 'entropy':
    case 'mse': {
      const oneSided = 2 ** bits - 1;
      const threshold = (counts: Float64Array, steps: number, levels: number): number =>
        method.kind === 'mse' ? mseThreshold(counts, w, steps) : entropyThreshold(counts, levels, w);
      if (stats.min >= 0) return within(0, threshold(nonZeroCounts(stats, 'positive'), oneSided, oneSided));
      if (stats.max <= 0) return within(-threshold(nonZeroCounts(stats, 'negative'), oneSided, oneSided), 0);
      // Both signs: each tail is clipped on its own histogram. One threshold on |x| would let a
      // spike on one side (the background of an image, at its most negative value) decide the
      // clip of the other side's whole range.
      const side = (h: 'negative' | 'positive'): number => threshold(nonZeroCounts(stats, h), oneSided / 2, 2 ** (bits - 1) - 1);
      return within(-side('negative'), side('positive'));
    }
  }
}

/**
 * The KL threshold, never below the 99th percentile of the magnitudes. KL has
 * a degenerate minimum for data that sits away from 0 (a HardSigmoid gate in
 * [0.27, 0.59], say): a threshold under all of it folds the whole histogram
 * into one bin, which the quantized distribution matches exactly, and every
 * value is clipped. On the distributions KL calibration is meant for (from 0
 * outwards), the floor is far below its choice (4.4 sigma against 2.3 for a
 * Gaussian at 8 bits).
 */
function entropyThreshold(counts: Float64Array, levels: number, width: number): number {
  const floor = histogramQuantile(counts, 0, width, 0.99);
  return Math.max(entropyThresholdBins(counts, levels) * width, floor);
}

/**
 * A magnitude histogram without the exact zeros. Zeros lie on every grid, so
 * they carry no information about where to clip; left in bin 0, entropy
 * would see a spike smeared over its zero cell (and after a ReLU that spike
 * is half the data, which drags the threshold far down) and mse would charge
 * them rounding noise they never get.
 */
function nonZeroCounts(stats: TensorStats, side: 'positive' | 'negative' | 'abs'): Float64Array {
  const h = stats.histogram(side);
  if (side !== 'negative') h[0]! -= stats.zeros;
  return h;
}
