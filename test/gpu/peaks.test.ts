/**
 * The peak micro-benchmarks (shaders/peak.wgsl through src/gpu/peaks.ts)
 * compile and run in every mode and chain count on the Node runner, and give
 * rates that are positive and finite (their size is the bench's business).
 */
import { describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.js';
import { measurePeaks, PEAK_CHAINS, peakKernel, peakKernelPlan } from '../../src/gpu/peaks.js';
import { PipelineCache, type KernelSource, type KernelVariant } from '../../src/gpu/pipeline-cache.js';
import { timeKernels } from '../../src/gpu/time-kernels.js';

describe('measurePeaks', () => {
  it('runs every mode at every chain count and reports positive rates', async () => {
    const gpu = await requestGpu();
    try {
      const cache = new PipelineCache(gpu.device);
      const peaks = await measurePeaks(gpu.device, cache, gpu.facts, { invocations: 256, iterations: 4, repeats: 1 });
      const { chains, ...rates } = peaks;
      for (const [name, chain] of Object.entries(chains)) {
        if (name === 'dot4' && !gpu.facts.dot4I8Packed) expect(chain).toBeNull();
        else expect(PEAK_CHAINS, name).toContain(chain);
      }
      for (const [name, rate] of Object.entries(rates)) {
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
      // The same kernel as a small op, timed by timeKernels the way bench/gpu-kernels.bench.ts times it beside the convolutions.
      const peak = peakKernelPlan(1, false, 2, 100, 4);
      expect(peak.ops, 'invocations rounded up to whole workgroups of 64, times rounds, chains and 8 ops').toBe(128 * 4 * 2 * 8);
      const [seconds] = await timeKernels(gpu.device, cache, gpu.facts, [{ label: 'peak', kernel: peakKernel as unknown as KernelSource<KernelVariant>, plan: peak.plan, inputBytes: peak.srcBytes, outputBytes: peak.dstBytes }], 1);
      expect(seconds).toBeGreaterThan(0);
      expect(cache.size, 'the i32 peak at 2 chains was compiled above').toBe(arithmetic + 1);
    } finally {
      gpu.destroy();
    }
  });
});
