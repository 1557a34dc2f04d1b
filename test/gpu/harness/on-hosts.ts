/**
 * Test-side helpers: run a block of tests once per host, and assert a checked
 * run is clean. A host that cannot start makes every test of its block fail
 * with the reason (never a skip), so CI without WebGPU goes red.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { GpuHost } from '../../../src/gpu/adapter-info.js';
import { HOST_STARTERS, type GpuTestHost } from './hosts.js';
import type { CheckedRun } from './run-checked.js';

export const HOST_NAMES: readonly GpuHost[] = ['node', 'browser'];

export function describeOnHosts(body: (host: () => GpuTestHost) => void): void {
  for (const name of HOST_NAMES) {
    describe(`on ${name}`, () => {
      let host: GpuTestHost | undefined;
      let failure: unknown;
      beforeAll(async () => {
        try {
          host = await HOST_STARTERS[name]();
        } catch (e) {
          failure = e; // rethrown by every test below, so each one fails with it
        }
      });
      afterAll(async () => {
        await host?.close();
      });
      body(() => {
        if (host !== undefined) return host;
        throw failure instanceof Error ? failure : new Error(`the ${name} GPU host did not start: ${String(failure)}`);
      });
    });
  }
}

/** The run's value, after asserting it did not throw, raised no WebGPU error and leaked no buffer. */
export function expectClean<R>(run: CheckedRun<R>, what: string): R {
  expect(run.thrown, `${what} threw`).toBeUndefined();
  expect(run.gpuErrors, `${what}: WebGPU errors`).toEqual([]);
  expect(run.leakedBuffers, `${what}: buffers not destroyed`).toEqual([]);
  return run.value as R;
}
