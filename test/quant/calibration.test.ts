import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantConfigError } from '../../src/errors.js';
import { calibrateRange, type CalibrationMethod } from '../../src/quant/calibration/calibrators.js';
import { entropyThresholdBins } from '../../src/quant/calibration/entropy.js';
import { mseThreshold } from '../../src/quant/calibration/mse.js';
import { statsFromFile, statsToFile } from '../../src/quant/calibration/stats-file.js';
import { TensorStats, useHistogramKernel } from '../../src/quant/calibration/tensor-stats.js';
import { histogramKernel } from '../../src/quant/calibration/histogram-kernels.js';
import { GENERATED_WASM_FILE, generateWasmModule } from '../../tools/gen-wasm.js';
import { mulberry32 } from '../helpers/random.js';

// ---------------------------------------------------------------------------
// Seeded data (mulberry32; Box-Muller for Gaussians), so a failure reproduces exactly.


function gaussian(n: number, seed: number, sigma = 1): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng())) * sigma;
    const phi = 2 * Math.PI * rng();
    out[i] = r * Math.cos(phi);
    if (i + 1 < n) out[i + 1] = r * Math.sin(phi);
  }
  return out;
}

/** Laplace with scale b (inverse CDF). */
function laplace(n: number, seed: number, b = 1): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng() - 0.5;
    out[i] = -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

function statsOf(data: Float32Array, bins?: number): TensorStats {
  const s = new TensorStats(bins);
  s.observe(data);
  return s;
}

/** The ceil(q n)-th smallest value: the sample quantile that shares a bin with the histogram's. */
function sampleQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function mass(s: TensorStats): number {
  const h = s.histogram('abs');
  let m = 0;
  for (const c of h) m += c;
  return m;
}

const METHODS: CalibrationMethod[] = [{ kind: 'max' }, { kind: 'percentile', percentile: 99.99 }, { kind: 'entropy' }, { kind: 'mse' }];

// Large samples are shared between tests (generated once).
const GAUSS = gaussian(1 << 21, 11);
const LAPLACE = laplace(1 << 21, 12);
const GAUSS_STATS = statsOf(GAUSS);
const LAPLACE_STATS = statsOf(LAPLACE);

// ---------------------------------------------------------------------------

describe('TensorStats', () => {
  it('streams 100 chunks of growing range exactly as one batch, in fixed memory', () => {
    const chunks: Float32Array[] = [];
    for (let c = 0; c < 100; c++) chunks.push(gaussian(5000, 100 + c, 1.08 ** c)); // range grows ~2000x
    const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    const streamed = new TensorStats();
    let doublings = 0;
    let lastRange = 0;
    for (const c of chunks) {
      streamed.observe(c);
      if (lastRange > 0 && streamed.range > lastRange) doublings += Math.log2(streamed.range / lastRange);
      lastRange = streamed.range;
      expect(streamed.histogram('positive').length).toBe(2048);
      expect(streamed.histogram('negative').length).toBe(2048);
      expect(mass(streamed)).toBe(streamed.count);
    }
    expect(doublings).toBeGreaterThanOrEqual(8);
    const once = statsOf(all);
    expect(streamed.count).toBe(all.length);
    expect(streamed.min).toBe(once.min);
    expect(streamed.max).toBe(once.max);
    // The power-of-two grid makes the whole record independent of the chunking, not just min/max/count.
    expect(streamed.toJSON()).toEqual(once.toJSON());
    expect(streamed.range).toBeGreaterThan(streamed.absMax);
    expect(streamed.range / 2).toBeLessThanOrEqual(streamed.absMax);
  });

  it('any chunking and any merge of any float32 data gives the same record (property)', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        fc.constantFrom(8, 64, 2048),
        (data, cuts, bins) => {
          const points = [0, ...cuts.map((c) => Math.min(c, data.length)).sort((a, b) => a - b), data.length];
          const streamed = new TensorStats(bins);
          const merged = new TensorStats(bins);
          for (let i = 0; i + 1 < points.length; i++) {
            const part = data.subarray(points[i]!, points[i + 1]!);
            streamed.observe(part);
            merged.merge(statsOf(part, bins));
          }
          const once = statsOf(data, bins);
          const finite = Array.from(data).filter(Number.isFinite);
          expect(once.count).toBe(finite.length);
          expect(once.nonFinite).toBe(data.length - finite.length);
          expect(once.zeros).toBe(finite.filter((x) => x === 0).length);
          expect(mass(once)).toBe(once.count);
          if (finite.length > 0) {
            expect(once.min).toBe(Math.min(...finite) + 0);
            expect(once.max).toBe(Math.max(...finite) + 0);
          }
          expect(streamed.toJSON()).toEqual(once.toJSON());
          expect(merged.toJSON()).toEqual(once.toJSON());
        },
      ),
      { seed: 20240601, numRuns: 300 },
    );
  });

  for (const kind of ['wasm', 'js'] as const) {
    it(`the fast path of large batches (${kind} kernel) counts exactly what the one-by-one path counts (property)`, () => {
      // Batches of 2^14 values and more take the four-way fast path; 1,000-value chunks take the other.
      const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 2 ** -20, 3e5];
      const before = useHistogramKernel(kind);
      try {
        fc.assert(
          fc.property(fc.integer({ min: 1 << 14, max: 300000 }), fc.nat(), fc.constantFrom(8, 2048), fc.double({ min: 0, max: 0.6, noNaN: true }), (n, seed, bins, zeroShare) => {
            const rng = mulberry32(seed);
            const data = new Float32Array(n);
            for (let i = 0; i < n; i++) {
              const u = rng();
              // Zeros in runs and alone, specials, and a range that grows along the batch (past the kernels' slabs).
              data[i] = u < zeroShare ? 0 : u < zeroShare + 0.001 ? special[Math.floor(rng() * special.length)]! : (rng() - 0.45) * 2 ** Math.floor((i / n) * 12 - 4);
            }
            const fast = statsOf(data, bins);
            const slow = new TensorStats(bins);
            for (let i = 0; i < n; i += 1000) slow.observe(data.subarray(i, i + 1000));
            expect(fast.toJSON()).toEqual(slow.toJSON());
          }),
          { seed: 20261202, numRuns: 30 },
        );
      } finally {
        useHistogramKernel(before);
      }
    });
  }

  it('counts tensors of a tiny range (bins / range beyond float32) as the one-by-one path does', () => {
    for (const kind of ['wasm', 'js'] as const) {
      const before = useHistogramKernel(kind);
      try {
        for (const tiny of [1e-37, 1e-38, -1e-40]) {
          const data = new Float32Array(1 << 15);
          for (let i = 1; i < data.length; i += 4) data[i] = tiny * (1 + (i % 7) / 8);
          const slow = new TensorStats();
          for (let i = 0; i < data.length; i += 1000) slow.observe(data.subarray(i, i + 1000));
          expect(statsOf(data).toJSON(), `${kind} ${tiny}`).toEqual(slow.toJSON());
        }
      } finally {
        useHistogramKernel(before);
      }
    }
  });

  it('runs the WebAssembly kernel here, from a module generated from histogram.wat now (if not: npm run gen:wasm)', async () => {
    expect(histogramKernel('wasm').name).toBe('wasm');
    expect(readFileSync(GENERATED_WASM_FILE, 'utf8')).toBe(await generateWasmModule());
  });

  it('counts NaN and infinities apart and keeps them out of min, max and the histogram', () => {
    const s = statsOf(new Float32Array([1, NaN, -Infinity, -2, Infinity, 0, -0]));
    expect(s.count).toBe(4);
    expect(s.nonFinite).toBe(3);
    expect(s.zeros).toBe(2);
    expect(s.min).toBe(-2);
    expect(s.max).toBe(1);
    expect(s.range).toBe(4);
    expect(mass(s)).toBe(4);
  });

  it('round-trips through JSON text exactly, calibrations included', () => {
    const s = statsOf(gaussian(20000, 5, 0.3));
    s.observe(new Float32Array(500)); // zeros
    s.observe(new Float32Array([7.25, -1e-30]));
    const back = TensorStats.fromJSON(JSON.parse(JSON.stringify(s)));
    expect(back.toJSON()).toEqual(s.toJSON());
    expect([back.count, back.min, back.max, back.zeros, back.range]).toEqual([s.count, s.min, s.max, s.zeros, s.range]);
    for (const m of METHODS) {
      for (const bits of [2, 4, 8]) {
        for (const symmetric of [true, false]) expect(calibrateRange(back, m, bits, symmetric)).toEqual(calibrateRange(s, m, bits, symmetric));
      }
    }
    const empty = TensorStats.fromJSON(JSON.parse(JSON.stringify(new TensorStats(64))));
    expect(empty.count).toBe(0);
    expect(empty.toJSON()).toEqual(new TensorStats(64).toJSON());
  });

  it('a stats file carries every tensor and survives JSON text', () => {
    const stats = new Map([
      ['conv1', statsOf(gaussian(1000, 1))],
      ['relu1', statsOf(gaussian(1000, 2).map((x) => Math.max(0, x)))],
    ]);
    const back = statsFromFile(JSON.parse(JSON.stringify(statsToFile(stats))));
    expect([...back.keys()]).toEqual(['conv1', 'relu1']);
    for (const [name, s] of stats) expect(back.get(name)!.toJSON()).toEqual(s.toJSON());
    expect(() => statsFromFile({ format: 'other', version: 1, tensors: {} })).toThrow(/format/);
  });

  it('rejects malformed JSON with QuantConfigError naming the field', () => {
    const good = statsOf(new Float32Array([1, -2, 3])).toJSON();
    const bad = (patch: Record<string, unknown>): unknown => ({ ...good, ...patch });
    const cases: [unknown, RegExp][] = [
      [bad({ bins: 1000 }), /bins.*1000/],
      [bad({ count: 4 }), /count/],
      [bad({ range: 3 }), /range.*3/],
      [bad({ range: 2 }), /range/], // not above max |x| = 3
      [bad({ positive: [0, 1, -1] }), /positive\[2\].*-1/],
      [bad({ min: 5 }), /min/],
      [bad({ zeros: 2 }), /zeros/],
      [bad({ version: 2 }), /version/],
      ['text', /object/],
    ];
    for (const [json, message] of cases) {
      expect(() => TensorStats.fromJSON(json)).toThrow(QuantConfigError);
      expect(() => TensorStats.fromJSON(json)).toThrow(message);
    }
    expect(() => new TensorStats(100)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------

describe('calibrateRange: arguments and simple methods', () => {
  const s = statsOf(new Float32Array([-3, 0.5, 2]));

  it('throws RangeError naming a bad field and its value', () => {
    expect(() => calibrateRange(s, { kind: 'max' }, 1, true)).toThrow(/bits.*got 1/);
    expect(() => calibrateRange(s, { kind: 'max' }, 4.5, true)).toThrow(/bits.*got 4\.5/);
    expect(() => calibrateRange(s, { kind: 'max' }, 17, true)).toThrow(RangeError);
    expect(() => calibrateRange(s, { kind: 'percentile', percentile: 100.5 }, 8, true)).toThrow(/percentile.*got 100\.5/);
    expect(() => calibrateRange(s, { kind: 'percentile', percentile: 50 }, 8, true)).toThrow(/percentile.*got 50/);
    expect(() => calibrateRange(s, { kind: 'percentile', percentile: NaN }, 8, true)).toThrow(RangeError);
    expect(() => calibrateRange(s, { kind: 'median' } as unknown as CalibrationMethod, 8, true)).toThrow(/kind.*median/);
    expect(() => calibrateRange(new TensorStats(), { kind: 'max' }, 8, true)).toThrow(/stats\.count/);
  });

  it('max returns the extremes (symmetric: lo = -hi; affine: widened to hold 0)', () => {
    expect(calibrateRange(s, { kind: 'max' }, 8, true)).toEqual({ lo: -3, hi: 3 });
    expect(calibrateRange(s, { kind: 'max' }, 8, false)).toEqual({ lo: -3, hi: 2 });
    expect(calibrateRange(statsOf(new Float32Array([1, 5])), { kind: 'max' }, 8, false)).toEqual({ lo: 0, hi: 5 });
    expect(calibrateRange(statsOf(new Float32Array([-1, -5])), { kind: 'max' }, 8, false)).toEqual({ lo: -5, hi: 0 });
  });

  it('degenerate tensors get a non-zero width: all-zero -> unit range, constant c -> |c|', () => {
    const zeros = statsOf(new Float32Array(1000));
    const constant = statsOf(new Float32Array(1000).fill(0.7));
    const negative = statsOf(new Float32Array(1000).fill(-0.7));
    for (const m of METHODS) {
      for (const bits of [2, 8, 16]) {
        expect(calibrateRange(zeros, m, bits, true)).toEqual({ lo: -1, hi: 1 });
        expect(calibrateRange(zeros, m, bits, false)).toEqual({ lo: 0, hi: 1 });
        const w = constant.binWidth;
        const sym = calibrateRange(constant, m, bits, true);
        expect(sym.lo).toBe(-sym.hi);
        expect(sym.hi).toBeLessThanOrEqual(Math.fround(0.7));
        expect(sym.hi).toBeGreaterThan(0.7 - w);
        const aff = calibrateRange(constant, m, bits, false);
        expect(aff.lo).toBe(0);
        expect(aff.hi).toBeGreaterThan(0.7 - w);
        const neg = calibrateRange(negative, m, bits, false);
        expect(neg.hi).toBe(0);
        expect(neg.lo).toBeLessThan(-0.7 + w);
      }
    }
  });

  it('every method gives a finite range holding 0, inside the data, lo = -hi when symmetric (property)', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 400, noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
        fc.constantFrom<CalibrationMethod>(...METHODS, { kind: 'percentile', percentile: 99 }, { kind: 'percentile', percentile: 100 }),
        fc.integer({ min: 2, max: 16 }),
        fc.boolean(),
        (data, method, bits, symmetric) => {
          const s = statsOf(data, 256);
          const r = calibrateRange(s, method, bits, symmetric);
          expect(Number.isFinite(r.lo) && Number.isFinite(r.hi)).toBe(true);
          expect(r.lo).toBeLessThanOrEqual(0);
          expect(r.hi).toBeGreaterThanOrEqual(0);
          expect(r.hi).toBeGreaterThan(r.lo);
          if (symmetric) expect(r.lo).toBe(-r.hi);
          if (Math.max(r.hi, -r.lo) === 1 && s.absMax <= 2 ** -32) return; // the unit range of a zero tensor
          if (symmetric) expect(r.hi).toBeLessThanOrEqual(s.absMax);
          else {
            expect(r.lo).toBeGreaterThanOrEqual(Math.min(s.min, 0));
            expect(r.hi).toBeLessThanOrEqual(Math.max(s.max, 0));
          }
        },
      ),
      { seed: 7, numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------

describe('calibrateRange: percentile', () => {
  const cases: [string, Float32Array][] = [
    ['uniform', uniform(400_000, 21, -1, 3)],
    ['gaussian', gaussian(400_000, 22, 2)],
  ];
  for (const [name, data] of cases) {
    it(`matches the sample percentile of a ${name} within one bin width`, () => {
      const s = statsOf(data);
      const w = s.binWidth;
      const sortedAbs = Float64Array.from(data, Math.abs).sort();
      const sorted = Float64Array.from(data).sort();
      const check = (p: number): void => {
        const sym = calibrateRange(s, { kind: 'percentile', percentile: p }, 8, true);
        expect(Math.abs(sym.hi - sampleQuantile(sortedAbs, p / 100))).toBeLessThanOrEqual(w);
        const aff = calibrateRange(s, { kind: 'percentile', percentile: p }, 8, false);
        // Affine ranges hold 0, so a tail quantile on the far side of 0 stops there.
        expect(Math.abs(aff.hi - Math.max(0, sampleQuantile(sorted, p / 100)))).toBeLessThanOrEqual(w);
        expect(Math.abs(aff.lo - Math.min(0, sampleQuantile(sorted, 1 - p / 100)))).toBeLessThanOrEqual(w);
      };
      for (const p of [99, 99.9, 99.99, 99.999, 99.9999, 100]) check(p);
      fc.assert(fc.property(fc.double({ min: 60, max: 100, noNaN: true }), check), { seed: 3, numRuns: 100 });
    });
  }

  it('is monotone in p', () => {
    let last = 0;
    for (const p of [90, 99, 99.9, 99.99, 99.999, 100]) {
      const hi = calibrateRange(GAUSS_STATS, { kind: 'percentile', percentile: p }, 8, true).hi;
      expect(hi).toBeGreaterThanOrEqual(last);
      last = hi;
    }
    expect(last).toBe(GAUSS_STATS.absMax);
  });
});

// ---------------------------------------------------------------------------
// Reference clipping values, in units of sigma (Gaussian) or of the scale b (Laplace), bits 2..8.

/** Banner et al. (ACIQ), 2^b cells on [-T, T] (step 2T / 2^b). */
const ACIQ_GAUSS = [1.71, 2.15, 2.55, 2.94, 3.29, 3.61, 3.92];
const ACIQ_LAPLACE = [2.83, 3.89, 5.03, 6.2, 7.41, 8.64, 9.89];
/**
 * The same error model on the engine's grids, minimised by numerical
 * integration (scipy) for this test: symmetric 2^(b-1) - 1 steps per side;
 * affine two-sided (2^b - 1) / 2 steps per side; affine one-sided (ReLU)
 * 2^b - 1 steps on [0, T].
 */
const SYM_GAUSS = [1.235, 1.953, 2.474, 2.899, 3.27, 3.607, 3.921];
const SYM_LAPLACE = [1.869, 3.427, 4.797, 6.09, 7.356, 8.617, 9.882];
const AFFINE_GAUSS = [1.498, 2.051, 2.514, 2.916, 3.278, 3.611, 3.922];
const ONE_SIDED_GAUSS = [1.953, 2.474, 2.899, 3.27, 3.607, 3.921, 4.215];

function nonZeroAbs(s: TensorStats): Float64Array {
  const h = s.histogram('abs');
  h[0]! -= s.zeros;
  return h;
}

describe('calibrateRange: mse', () => {
  it('reproduces ACIQ clipping values for a unit Gaussian and a unit Laplace on ACIQ grids (within 5%)', () => {
    for (let b = 2; b <= 8; b++) {
      const g = mseThreshold(nonZeroAbs(GAUSS_STATS), GAUSS_STATS.binWidth, 2 ** (b - 1));
      const l = mseThreshold(nonZeroAbs(LAPLACE_STATS), LAPLACE_STATS.binWidth, 2 ** (b - 1));
      expect(Math.abs(g / ACIQ_GAUSS[b - 2]! - 1), `gauss ${b} bits: ${g}`).toBeLessThan(0.05);
      expect(Math.abs(l / ACIQ_LAPLACE[b - 2]! - 1), `laplace ${b} bits: ${l}`).toBeLessThan(0.05);
    }
  });

  it('matches the model optimum on the engine grids (within 3%)', () => {
    const relu = statsOf(GAUSS.map((x) => Math.max(0, x)));
    for (let b = 2; b <= 8; b++) {
      const i = b - 2;
      const sym = calibrateRange(GAUSS_STATS, { kind: 'mse' }, b, true);
      expect(sym.lo).toBe(-sym.hi);
      expect(Math.abs(sym.hi / SYM_GAUSS[i]! - 1), `sym gauss ${b}: ${sym.hi}`).toBeLessThan(0.03);
      const symL = calibrateRange(LAPLACE_STATS, { kind: 'mse' }, b, true).hi;
      expect(Math.abs(symL / SYM_LAPLACE[i]! - 1), `sym laplace ${b}: ${symL}`).toBeLessThan(0.03);
      const aff = calibrateRange(GAUSS_STATS, { kind: 'mse' }, b, false);
      expect(Math.abs(aff.hi / AFFINE_GAUSS[i]! - 1), `affine gauss ${b}: ${aff.hi}`).toBeLessThan(0.03);
      expect(Math.abs(-aff.lo / AFFINE_GAUSS[i]! - 1)).toBeLessThan(0.03);
      // ReLU output: half the values are exact zeros, which the grid holds exactly; one-sided grid.
      const r = calibrateRange(relu, { kind: 'mse' }, b, false);
      expect(r.lo).toBe(0);
      expect(Math.abs(r.hi / ONE_SIDED_GAUSS[i]! - 1), `relu ${b}: ${r.hi}`).toBeLessThan(0.03);
    }
  });

  it('scales with the data', () => {
    const s = statsOf(gaussian(1 << 18, 31, 0.01));
    const t = calibrateRange(s, { kind: 'mse' }, 4, true).hi;
    expect(Math.abs(t / 0.01 / SYM_GAUSS[2]! - 1)).toBeLessThan(0.03);
  });
});

describe('calibrateRange: entropy', () => {
  it('clips a Gaussian at 8 bits well inside its max, above its 99.9th percentile', () => {
    const g = statsOf(GAUSS.subarray(0, 1_000_000));
    const r = calibrateRange(g, { kind: 'entropy' }, 8, true);
    expect(r.lo).toBe(-r.hi);
    expect(r.hi).toBeGreaterThan(2.5);
    expect(r.hi).toBeLessThan(5);
    expect(r.hi).toBeLessThan(g.absMax);
    expect(r.hi).toBeGreaterThan(calibrateRange(g, { kind: 'percentile', percentile: 99.9 }, 8, true).hi);
  });

  it('is not dragged down by the zeros of a ReLU (one-sided, affine)', () => {
    const relu = statsOf(GAUSS.subarray(0, 1_000_000).map((x) => Math.max(0, x)));
    expect(relu.zeros).toBeGreaterThan(400_000);
    const r = calibrateRange(relu, { kind: 'entropy' }, 8, false);
    expect(r.lo).toBe(0);
    expect(r.hi).toBeGreaterThan(2.5);
    expect(r.hi).toBeLessThan(relu.max);
  });

  it('clips a lone far outlier instead of stretching the grid over it', () => {
    const s = statsOf(GAUSS.subarray(0, 1_000_000));
    s.observe(new Float32Array([100]));
    const r = calibrateRange(s, { kind: 'entropy' }, 8, true);
    expect(r.hi).toBeLessThan(10);
    expect(r.hi).toBeGreaterThan(2.5);
  });

  it('gives a sensible Laplace threshold at 8 bits', () => {
    const r = calibrateRange(LAPLACE_STATS, { kind: 'entropy' }, 8, true);
    expect(r.hi).toBeGreaterThan(calibrateRange(LAPLACE_STATS, { kind: 'percentile', percentile: 99.9 }, 8, true).hi);
    expect(r.hi).toBeLessThan(LAPLACE_STATS.absMax);
  });
});

/**
 * The entropy calibrator written the slow, obvious way: P and Q built bin by
 * bin for every candidate, cells by explicit overlaps. The real one uses
 * prefix sums; both must pick the same threshold.
 */
function naiveEntropyBins(h: Float64Array, levels: number): number {
  let end = h.length;
  while (end > 0 && h[end - 1] === 0) end--;
  if (end === 0) return 0;
  if (levels + 1 > end) return end;
  let total = 0;
  for (let k = 0; k < end; k++) total += h[k]!;
  let best = end;
  let bestKl = Infinity;
  for (let i = levels + 1; i <= end; i++) {
    let kept = 0;
    for (let k = 0; k < i; k++) kept += h[k]!;
    if (kept === 0) continue;
    const p = Array.from(h.subarray(0, i));
    p[i - 1]! += total - kept;
    const edges = [0];
    for (let j = 1; j <= levels; j++) edges.push(((j - 0.5) * i) / levels);
    edges.push(i);
    const overlap = (k: number, j: number): number => Math.max(0, Math.min(k + 1, edges[j + 1]!) - Math.max(k, edges[j]!));
    const cellValue: number[] = [];
    for (let j = 0; j <= levels; j++) {
      let m = 0;
      let n = 0;
      for (let k = 0; k < i; k++) {
        m += overlap(k, j) * h[k]!;
        n += overlap(k, j) * (p[k]! > 0 ? 1 : 0);
      }
      cellValue.push(n > 0 ? m / n : 0);
    }
    let kl = 0;
    let smoothed = 0;
    for (let k = 0; k < i; k++) {
      if (p[k]! === 0) continue;
      let q = 0;
      for (let j = 0; j <= levels; j++) q += overlap(k, j) * cellValue[j]!;
      q /= kept;
      if (q <= 0) {
        q = 1e-4;
        smoothed++;
      }
      const pk = p[k]! / total;
      kl += pk * Math.log(pk / q);
    }
    kl += Math.log1p(1e-4 * smoothed);
    if (kl < bestKl - 1e-12) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

describe('entropyThresholdBins', () => {
  it('agrees with a bin-by-bin reference on random histograms (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 100_000 })), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 15 }),
        (counts, levels) => {
          const h = Float64Array.from(counts);
          expect(entropyThresholdBins(h, levels)).toBe(naiveEntropyBins(h, levels));
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});

describe('calibrateRange: affine tensors of both signs', () => {
  it('clips each tail on its own: a spike on the negative side does not set the positive clip', () => {
    // An image after normalisation: most pixels are background at -0.81, the object spreads up to ~2.
    const rand = mulberry32(77);
    const data = new Float32Array(200_000);
    for (let i = 0; i < data.length; i++) data[i] = rand() < 0.6 ? -0.81 : -0.81 + 2.8 * rand();
    const s = statsOf(data);
    for (const kind of ['entropy', 'mse'] as const) {
      const r = calibrateRange(s, { kind }, 8, false);
      expect(r.lo, kind).toBeCloseTo(-0.81, 1);
      expect(r.hi, `${kind}: the object's range survives`).toBeGreaterThan(1.5);
    }
  });
});

describe('calibrateRange: entropy away from zero', () => {
  it('never folds a distribution that starts far from 0 into one bin (a HardSigmoid gate in [0.27, 0.59])', () => {
    const rand = mulberry32(91);
    const s = statsOf(Float32Array.from({ length: 100_000 }, () => 0.27 + 0.32 * rand()));
    for (const symmetric of [false, true]) {
      const r = calibrateRange(s, { kind: 'entropy' }, 8, symmetric);
      expect(r.hi, `symmetric ${symmetric}`).toBeGreaterThan(0.58);
    }
  });
});
