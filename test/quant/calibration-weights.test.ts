import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { weightThresholds } from '../../src/quant/calibration/weights.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { mulberry32 } from '../helpers/random.js';


/** Channels of n Gaussian values each (Box-Muller), channel c with standard deviation sigmas[c]. */
function gaussianChannels(sigmas: readonly number[], n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(sigmas.length * n);
  for (let c = 0; c < sigmas.length; c++) {
    for (let i = 0; i < n; i++) {
      out[c * n + i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()) * sigmas[c]!;
    }
  }
  return out;
}

/** Squared error of the symmetric grid of threshold t, as the quantizer applies it. */
function gridError(w: Float32Array, t: number, bits: number): number {
  const qmax = 2 ** (bits - 1) - 1;
  const scale = t / qmax;
  let e = 0;
  for (const x of w) {
    const q = Math.min(qmax, Math.max(-qmax, roundHalfEven(x / scale)));
    e += (x - q * scale) ** 2;
  }
  return e;
}

describe('weightThresholds', () => {
  it('max: the largest magnitude per output channel, or of the whole tensor repeated', () => {
    const w = new Float32Array([1, -4, 2, /* channel 1 */ 0.5, 0.25, -0.125, /* channel 2 */ 0, 0, 0]);
    expect(Array.from(weightThresholds(w, 3))).toEqual([4, 0.5, 1]); // all-zero channel: the unit range
    expect(Array.from(weightThresholds(w, 3, 'per-tensor'))).toEqual([4, 4, 4]);
  });

  it('mse: the exact optimum of the real grid for Gaussian channels (1.224, 1.952, 2.474 sigma at 2, 3, 4 bits)', () => {
    // Optimal clipping of a symmetric uniform quantizer with 2^(b-1) - 1 levels each side,
    // by numerical integration of the true rounding error.
    const expected = [1.224, 1.952, 2.474];
    const sigmas = [0.02, 0.5, 3];
    const n = 1 << 15;
    const w = gaussianChannels(sigmas, n, 41);
    for (const bits of [2, 3, 4]) {
      const t = weightThresholds(w, sigmas.length, 'per-channel', { kind: 'mse', bits });
      for (let c = 0; c < sigmas.length; c++) {
        const ratio = t[c]! / sigmas[c]!;
        expect(Math.abs(ratio / expected[bits - 2]! - 1), `${bits} bits, channel ${c}: ${ratio} sigma`).toBeLessThan(0.05);
      }
    }
  });

  it('mse never does worse than max, per channel (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer(),
        (channels, size, bits, seed) => {
          const rng = mulberry32(seed);
          // Heavy-tailed: a cube of uniforms, so that clipping pays.
          const w = Float32Array.from({ length: channels * size }, () => (rng() * 2 - 1) ** 3);
          const max = weightThresholds(w, channels);
          const mse = weightThresholds(w, channels, 'per-channel', { kind: 'mse', bits });
          for (let c = 0; c < channels; c++) {
            const part = w.subarray(c * size, (c + 1) * size);
            expect(mse[c]!).toBeLessThanOrEqual(max[c]!);
            if (max[c]! === 1 && part.every((x) => x === 0)) continue;
            expect(gridError(part, mse[c]!, bits)).toBeLessThanOrEqual(gridError(part, max[c]!, bits) * (1 + 1e-9));
          }
          const perTensor = weightThresholds(w, channels, 'per-tensor', { kind: 'mse', bits });
          expect(new Set(perTensor).size).toBe(1);
        },
      ),
      { seed: 99, numRuns: 200 },
    );
  });

  it('rejects bad arguments with RangeError naming them', () => {
    const w = new Float32Array(6);
    expect(() => weightThresholds(w, 4)).toThrow(/outChannels.*got 4/);
    expect(() => weightThresholds(w, 0)).toThrow(RangeError);
    expect(() => weightThresholds(w, 2, 'per-channel', { kind: 'mse', bits: 1 })).toThrow(/bits.*got 1/);
    expect(() => weightThresholds(new Float32Array([1, NaN]), 1)).toThrow(/weights\[1\]/);
  });
});
