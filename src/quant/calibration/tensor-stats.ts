import { QuantConfigError } from '../../errors.js';
import { histogramKernel, type HistogramKernel } from './histogram-kernels.js';

/**
 * Streaming statistics of one tensor over many calibration batches, in a
 * fixed amount of memory: count, min, max and a histogram whose range grows
 * as data arrives.
 *
 * Histogram layout (calibrators and stats files depend on it):
 *
 * - Two magnitude histograms of `bins` bins each (a power of two, 2048 by
 *   default), over the same grid of width `w = range / bins`:
 *   `positive[k]` counts the x >= 0 with x in [k*w, (k+1)*w), `negative[k]`
 *   counts the x < 0 with -x in [k*w, (k+1)*w). Zeros (and -0) fall into
 *   `positive[0]`.
 * - The histogram of |x| (symmetric calibration) is `positive + negative`,
 *   bin by bin; the signed histogram over [-range, range) (affine
 *   calibration) is `negative` reversed followed by `positive`. So one record
 *   serves both without holding two histograms of the data.
 * - `range` is a power of two: the smallest one strictly above every |x|
 *   seen (0 while only zeros have been seen). When a value reaches it, the
 *   range doubles as often as needed and neighbouring bins merge.
 *
 * Why powers of two: with `bins` and `range` both powers of two the bin edges
 * are exact binary fractions, x * (bins / range) is computed exactly, and the
 * edges at range 2R are a subset of those at R. Merging bins after a doubling
 * therefore gives exactly the histogram that binning at 2R from the start
 * would have given: the result depends only on the multiset of values, not on
 * how the stream was cut into batches or in which order they came, and
 * `merge` is exact. The price: the data fills between half and all of the
 * bins (range / 2 <= max|x| < range), so the resolution over [0, max|x|] is
 * between bins / 2 and bins.
 *
 * Exact zeros are also counted on their own (`zeros`, inside
 * `positive[0]` as well): after a ReLU they are often half the tensor, they
 * sit exactly on every grid, and a calibrator that smears them over bin 0
 * would mistake them for rounding error (see `calibrators.ts`).
 *
 * Non-finite values (NaN, +-Infinity) are not part of the statistics: they
 * are counted in `nonFinite` so that the caller can report a broken model.
 */
export class TensorStats {
  readonly bins: number;
  /** positive at [0, bins), negative at [bins, 2 * bins): one array, so the hot loop picks the half by arithmetic. */
  private readonly counts: Float64Array;
  private rangeValue = 0;
  private countValue = 0;
  private zerosValue = 0;
  private nonFiniteValue = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;

  constructor(bins = 2048) {
    if (!Number.isInteger(bins) || bins < 8 || bins > 2 ** 20 || (bins & (bins - 1)) !== 0) {
      throw new RangeError(`TensorStats: bins must be a power of two in [8, 2^20], got ${bins}`);
    }
    this.bins = bins;
    this.counts = new Float64Array(2 * bins);
  }

  /** Finite values observed. */
  get count(): number {
    return this.countValue;
  }
  /** Values exactly 0 (or -0); also counted in bin 0 of the positive histogram. */
  get zeros(): number {
    return this.zerosValue;
  }
  /** NaN and infinite values seen (and left out of everything else). */
  get nonFinite(): number {
    return this.nonFiniteValue;
  }
  /** Smallest finite value seen; +Infinity while count is 0. */
  get min(): number {
    return this.minValue;
  }
  /** Largest finite value seen; -Infinity while count is 0. */
  get max(): number {
    return this.maxValue;
  }
  /** max |x| over the finite values seen; 0 while count is 0. */
  get absMax(): number {
    return this.countValue === 0 ? 0 : Math.max(-this.minValue, this.maxValue);
  }
  /** Upper end of the magnitude grid (a power of two, or 0 while only zeros were seen). */
  get range(): number {
    return this.rangeValue;
  }
  /** Width of one bin (0 while only zeros were seen). */
  get binWidth(): number {
    return this.rangeValue / this.bins;
  }

  /** A copy of the magnitude histogram of the values >= 0 (or of the values < 0). */
  histogram(side: 'positive' | 'negative' | 'abs'): Float64Array {
    const n = this.bins;
    if (side === 'positive') return this.counts.slice(0, n);
    if (side === 'negative') return this.counts.slice(n);
    const out = this.counts.slice(0, n);
    for (let k = 0; k < n; k++) out[k]! += this.counts[n + k]!;
    return out;
  }

  /**
   * Add a batch of values, in one pass over the data. Large batches take the
   * fast path (a `HistogramKernel`, WebAssembly where it runs): blocks of four
   * values counted into four interleaved scratch histograms, with no
   * data-dependent branch. Values it cannot take (NaN, infinities, a value
   * that outgrows the range, zeros before any non-zero value) end its run;
   * the block they sit in goes through `observeSlow`, which grows the range,
   * and the fast path resumes. Both paths count the same values into the
   * same bins.
   */
  observe(data: Float32Array): void {
    const n = data.length;
    if (n < FAST_PATH_MIN) {
      this.observeSlow(data, 0, n);
      return;
    }
    const scratch = kernel.scratch(this.bins);
    const state = runState;
    let i = 0;
    while (i < n) {
      if (this.rangeValue > 0) {
        state[0] = this.minValue;
        state[1] = this.maxValue;
        state[2] = 0;
        i = kernel.run(data, i, n, this.bins, this.rangeValue, state);
        this.minValue = state[0]!;
        this.maxValue = state[1]!;
        this.zerosValue += state[2]!;
        this.countValue += state[3]!;
      }
      if (i >= n) break;
      // The block that stopped the run (or the last values, fewer than a block): one by one.
      const stop = Math.min(i + 4, n);
      this.observeSlow(data, i, stop, scratch);
      i = stop;
    }
    this.flush(scratch);
    // `+ 0` turns -0 into 0, so that a JSON round trip (which drops the sign of zero) is exact.
    this.minValue += 0;
    this.maxValue += 0;
  }

  /** Add the scratch histograms into the counts (at the current range) and clear them. */
  private flush(scratch: Int32Array): void {
    const h = this.counts;
    const width = 2 * this.bins;
    for (let copy = 0; copy < 4; copy++) {
      const base = copy * width;
      for (let k = 0; k < width; k++) {
        const c = scratch[base + k]!;
        if (c !== 0) {
          h[k]! += c;
          scratch[base + k] = 0;
        }
      }
    }
  }

  /**
   * Values [start, end) one at a time; the rare growth of the range happens
   * inside the loop. Scratch counts of the fast path are flushed before the
   * range grows, since they were binned at the old range.
   */
  private observeSlow(data: Float32Array, start: number, end: number, scratch?: Int32Array): void {
    const h = this.counts;
    const bins = this.bins;
    let range = this.rangeValue;
    let scale = range > 0 ? bins / range : 0;
    let mn = this.minValue;
    let mx = this.maxValue;
    let bad = 0;
    let zeros = 0;
    for (let i = start; i < end; i++) {
      const x = data[i]!;
      const a = Math.abs(x);
      if (!(a < range)) {
        // Rare: NaN, an infinity, a value that outgrows the range, or a zero before any non-zero value.
        if (!(a < Infinity)) {
          bad++;
          continue;
        }
        if (a > 0) {
          if (scratch) this.flush(scratch);
          this.grow(a);
          range = this.rangeValue;
          scale = bins / range;
        }
      }
      // a < range (or a = 0), so a * scale < bins, computed exactly because scale is a power of two.
      h[((a * scale) | 0) + (x < 0 ? bins : 0)]!++;
      zeros += a === 0 ? 1 : 0;
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
    }
    this.minValue = mn + 0;
    this.maxValue = mx + 0;
    this.countValue += end - start - bad;
    this.zerosValue += zeros;
    this.nonFiniteValue += bad;
  }

  /** Raise the range to the smallest power of two above `a`, merging bins. */
  private grow(a: number): void {
    const target = pow2Above(a);
    if (this.rangeValue > 0) {
      const factor = target / this.rangeValue;
      coarsen(this.counts.subarray(0, this.bins), factor);
      coarsen(this.counts.subarray(this.bins), factor);
    }
    this.rangeValue = target;
  }

  /** Add another record of the same tensor (say from another worker); exact, see the class note. */
  merge(other: TensorStats): this {
    if (other.bins !== this.bins) throw new RangeError(`TensorStats.merge: bins differ (${this.bins} and ${other.bins})`);
    if (other.rangeValue > this.rangeValue) this.grow(other.rangeValue / 2); // pow2Above(R/2) = R
    const factor = other.rangeValue > 0 ? this.rangeValue / other.rangeValue : 1;
    const n = this.bins;
    addCoarsened(this.counts.subarray(0, n), other.counts.subarray(0, n), factor);
    addCoarsened(this.counts.subarray(n), other.counts.subarray(n), factor);
    this.countValue += other.countValue;
    this.zerosValue += other.zerosValue;
    this.nonFiniteValue += other.nonFiniteValue;
    this.minValue = Math.min(this.minValue, other.minValue);
    this.maxValue = Math.max(this.maxValue, other.maxValue);
    return this;
  }

  clone(): TensorStats {
    return TensorStats.fromJSON(this.toJSON());
  }

  /** Plain JSON (trailing empty bins trimmed); `fromJSON(toJSON())` is exact. */
  toJSON(): TensorStatsJSON {
    const empty = this.countValue === 0;
    return {
      version: 1,
      bins: this.bins,
      count: this.countValue,
      zeros: this.zerosValue,
      nonFinite: this.nonFiniteValue,
      min: empty ? null : this.minValue,
      max: empty ? null : this.maxValue,
      range: this.rangeValue,
      positive: trimmed(this.counts.subarray(0, this.bins)),
      negative: trimmed(this.counts.subarray(this.bins)),
    };
  }

  /** Read a record written by `toJSON`; a bad field throws QuantConfigError naming it. */
  static fromJSON(json: unknown, where = 'stats'): TensorStats {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new QuantConfigError(`${where}: expected an object`);
    const o = json as Record<string, unknown>;
    if (o.version !== 1) throw new QuantConfigError(`${where}.version: expected 1, got ${String(o.version)}`);
    const bins = o.bins;
    if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 8 || bins > 2 ** 20 || (bins & (bins - 1)) !== 0) {
      throw new QuantConfigError(`${where}.bins: expected a power of two in [8, 2^20], got ${String(bins)}`);
    }
    const s = new TensorStats(bins);
    const count = nonNegativeInteger(o.count, `${where}.count`);
    const zeros = nonNegativeInteger(o.zeros, `${where}.zeros`);
    s.nonFiniteValue = nonNegativeInteger(o.nonFinite, `${where}.nonFinite`);
    const range = o.range;
    if (typeof range !== 'number' || !(range === 0 || isPowerOfTwo(range))) {
      throw new QuantConfigError(`${where}.range: expected 0 or a power of two, got ${String(range)}`);
    }
    s.rangeValue = range;
    const pos = s.counts.subarray(0, bins);
    const neg = s.counts.subarray(bins);
    readCounts(o.positive, pos, `${where}.positive`);
    readCounts(o.negative, neg, `${where}.negative`);
    let total = 0;
    for (let k = 0; k < bins; k++) {
      total += pos[k]! + neg[k]!;
      if (range === 0 && (neg[k] !== 0 || (k > 0 && pos[k] !== 0))) {
        throw new QuantConfigError(`${where}.range: 0 (only zeros seen) but bin ${k} holds non-zero values`);
      }
    }
    if (total !== count) throw new QuantConfigError(`${where}.count: ${count} differs from the histogram's mass ${total}`);
    s.countValue = count;
    if (zeros > pos[0]!) throw new QuantConfigError(`${where}.zeros: ${zeros} is more than bin 0 holds (${pos[0]})`);
    s.zerosValue = zeros;
    if (count === 0) {
      if (o.min !== null || o.max !== null) throw new QuantConfigError(`${where}: min and max must be null when count is 0`);
      return s;
    }
    const min = o.min;
    const max = o.max;
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      throw new QuantConfigError(`${where}: min and max must be finite numbers with min <= max, got ${String(min)} and ${String(max)}`);
    }
    if (Math.max(-min, max) >= Math.max(range, Number.MIN_VALUE)) {
      throw new QuantConfigError(`${where}.range: ${range} does not lie above max |x| = ${Math.max(-min, max)}`);
    }
    s.minValue = min;
    s.maxValue = max;
    return s;
  }
}

/** Below this many values a batch takes the one-by-one path (a flush of the scratch costs 8 * bins additions). */
const FAST_PATH_MIN = 1 << 14;

/** In: min, max so far. Out: min, max, zeros and values counted by a kernel run. */
const runState = new Float64Array(4);

let kernel: HistogramKernel = histogramKernel('wasm');

/** Which fast-path kernel `observe` uses (tests and benches compare them); returns the one it replaces. */
export function useHistogramKernel(kind: 'wasm' | 'js'): 'wasm' | 'js' {
  const before = kernel.name;
  kernel = histogramKernel(kind);
  return before;
}

/** The plain JSON form of one tensor's statistics (see `TensorStats` for the layout). */
export interface TensorStatsJSON {
  version: 1;
  bins: number;
  count: number;
  /** Values exactly 0, a part of positive[0]. */
  zeros: number;
  nonFinite: number;
  /** null when count is 0 (JSON has no infinities). */
  min: number | null;
  max: number | null;
  range: number;
  /** Counts from bin 0 up; missing trailing bins are 0. */
  positive: number[];
  negative: number[];
}

/** The smallest power of two strictly above a > 0. */
function pow2Above(a: number): number {
  let r = 2 ** Math.ceil(Math.log2(a));
  // log2 may be off by an ulp near powers of two; settle it exactly.
  while (r <= a) r *= 2;
  while (r / 2 > a) r /= 2;
  return r;
}

function isPowerOfTwo(r: number): boolean {
  return r > 0 && Number.isFinite(r) && 2 ** Math.round(Math.log2(r)) === r;
}

/** Merge groups of `factor` neighbouring bins in place (factor a power of two). */
function coarsen(h: Float64Array, factor: number): void {
  if (factor === 1) return;
  const n = h.length;
  if (factor >= n) {
    let s = 0;
    for (let k = 0; k < n; k++) s += h[k]!;
    h.fill(0);
    h[0] = s;
    return;
  }
  const groups = n / factor;
  // Group g reads bins [g*factor, (g+1)*factor), all at or after g: safe in place.
  for (let g = 0; g < groups; g++) {
    let s = 0;
    const start = g * factor;
    for (let k = start; k < start + factor; k++) s += h[k]!;
    h[g] = s;
  }
  h.fill(0, groups);
}

/** dst += src coarsened by `factor` (src is not modified). */
function addCoarsened(dst: Float64Array, src: Float64Array, factor: number): void {
  const n = dst.length;
  if (factor >= n) {
    let s = 0;
    for (let k = 0; k < n; k++) s += src[k]!;
    dst[0]! += s;
    return;
  }
  for (let k = 0; k < n; k++) dst[Math.floor(k / factor)]! += src[k]!;
}

function trimmed(h: Float64Array): number[] {
  let end = h.length;
  while (end > 0 && h[end - 1] === 0) end--;
  return Array.from(h.subarray(0, end));
}

function nonNegativeInteger(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new QuantConfigError(`${field}: expected a non-negative integer, got ${String(v)}`);
  return v;
}

function readCounts(v: unknown, into: Float64Array, field: string): void {
  if (!Array.isArray(v)) throw new QuantConfigError(`${field}: expected an array of counts`);
  if (v.length > into.length) throw new QuantConfigError(`${field}: ${v.length} bins, more than bins = ${into.length}`);
  for (let k = 0; k < v.length; k++) into[k] = nonNegativeInteger(v[k], `${field}[${k}]`);
}
