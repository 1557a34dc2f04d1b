/**
 * The peak micro-benchmarks (shaders/peak.wgsl through src/gpu/peaks.ts)
 * compile and run in every mode and chain count on the Node runner, and give
 * rates that are positive and finite (their size is the bench's business).
 */
import { describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.js';
import { measurePeaks, PEAK_CHAINS } from '../../src/gpu/peaks.js';
import { PipelineCache } from '../../src/gpu/pipeline-cache.js';

describe('measurePeaks', () => {
  it('runs every mode at every chain count and reports positive rates', async () => {
    const gpu = await requestGpu();
    try {
      const cache = new PipelineCache(gpu.device);
      const peaks = await measurePeaks(gpu.device, cache, gpu.facts, { invocations: 256, iterations: 4, repeats: 1 });
      for (const [name, rate] of Object.entries(peaks)) {
        if (name === 'dot4Gops' && !gpu.facts.dot4I8Packed) {
          expect(rate).toBeNull();
          continue;
        }
        expect(rate, name).toBeGreaterThan(0);
        expect(Number.isFinite(rate), name).toBe(true);
      }
      // Three arithmetic modes on one dot part and one on the other (two where dot4I8Packed exists), each at every chain count, plus the copy.
      const arithmetic = (gpu.facts.dot4I8Packed ? 4 : 3) * PEAK_CHAINS.length;
      expect(cache.size).toBe(arithmetic + 1);
    } finally {
      gpu.destroy();
    }
  });
});
