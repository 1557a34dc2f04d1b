import { saneRange } from './range-rules.js';

/** How a weight threshold is chosen: the largest magnitude, or the one with least squared error at `bits`. */
export type WeightRangeMethod = { kind: 'max' } | { kind: 'mse'; bits: number };
export type WeightGranularity = 'per-channel' | 'per-tensor';

/**
 * Symmetric thresholds T of a weight tensor laid out [outChannels, ...]
 * (the quantizer then uses scale = T / (2^(b-1) - 1)). Returns one threshold
 * per output channel; per-tensor gives every channel the same one, so that
 * callers index it the same way in both cases.
 *
 * Weights are few enough to be used exactly, so `mse` measures the true
 * error of the grid (round to nearest, saturate at +-(2^(b-1) - 1)) rather
 * than a histogram model: the 32 candidates T = max|w| * k / 32, k = 1..32,
 * then 17 more spanning the neighbours of the best. The error of a real
 * grid is not smooth in T, so a bracketing search could be misled.
 *
 * All-zero channels get threshold 1 (the rule of `saneRange`). Non-finite
 * weights throw RangeError naming the index.
 */
export function weightThresholds(
  weights: Float32Array,
  outChannels: number,
  granularity: WeightGranularity = 'per-channel',
  method: WeightRangeMethod = { kind: 'max' },
): Float32Array {
  if (!Number.isInteger(outChannels) || outChannels < 1 || weights.length % outChannels !== 0) {
    throw new RangeError(`outChannels must be a positive integer dividing the ${weights.length} weights, got ${outChannels}`);
  }
  if (method.kind === 'mse' && (!Number.isInteger(method.bits) || method.bits < 2 || method.bits > 16)) {
    throw new RangeError(`bits must be an integer in [2, 16], got ${method.bits}`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]!)) throw new RangeError(`weights[${i}] is not finite: ${weights[i]}`);
  }
  const out = new Float32Array(outChannels);
  if (granularity === 'per-tensor') {
    out.fill(threshold(weights, method));
    return out;
  }
  const size = weights.length / outChannels;
  for (let c = 0; c < outChannels; c++) out[c] = threshold(weights.subarray(c * size, (c + 1) * size), method);
  return out;
}

function threshold(w: Float32Array, method: WeightRangeMethod): number {
  const max = absMax(w);
  const t = method.kind === 'max' ? max : mseWeightThreshold(w, max, 2 ** (method.bits - 1) - 1);
  // Rounded up to float32 so that the stored threshold never clips below the chosen one.
  let t32 = Math.fround(t);
  if (t32 < t) t32 = nextUp32(t32);
  return saneRange({ lo: -t32, hi: t32 }, true).hi;
}

function absMax(w: Float32Array): number {
  let m = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]!);
    if (a > m) m = a;
  }
  return m;
}

/**
 * Sum of (w - dequantized w)^2 on the grid of threshold t with `qmax` levels
 * each side. The grid is symmetric, so |w| is used. Rounding ties up stands
 * in for the quantizer's round half to even: at an exact tie both
 * neighbours are equally far, so the error is the same either way.
 */
function gridError(w: Float32Array, t: number, qmax: number): number {
  const scale = t / qmax;
  const inv = qmax / t;
  let e = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]!);
    // Saturation: anything at or beyond t lands on the top level, qmax * scale = t.
    // `(v + 0.5) | 0` rounds a v in [0, qmax] several times faster than Math.round.
    const d = a - ((Math.min(a, t) * inv + 0.5) | 0) * scale;
    e += d * d;
  }
  return e;
}

function mseWeightThreshold(w: Float32Array, max: number, qmax: number): number {
  if (max === 0) return 0;
  const coarse = 32;
  let best = max;
  let bestError = gridError(w, max, qmax);
  for (let k = 1; k < coarse; k++) {
    const t = (max * k) / coarse;
    const e = gridError(w, t, qmax);
    if (e < bestError) {
      bestError = e;
      best = t;
    }
  }
  const lo = Math.max(max / coarse / 2, best - max / coarse);
  const hi = Math.min(max, best + max / coarse);
  const fine = 16;
  for (let k = 0; k <= fine; k++) {
    const t = lo + ((hi - lo) * k) / fine;
    const e = gridError(w, t, qmax);
    if (e < bestError) {
      bestError = e;
      best = t;
    }
  }
  return best;
}

/** The next float32 above a positive float32 x. */
function nextUp32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0]! += 1;
  return f[0]!;
}
