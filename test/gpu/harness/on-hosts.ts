/**
 * The one wrapper of every GPU test, kernel programs and whole-model sessions
 * alike: a block of tests once per host (GPU_HOSTS), each test inside a check
 * frame on the host's devices (src/host/gpu-checks.ts, through the runner's
 * beginChecks / endChecks, in the page for `browser`). A test fails on any
 * WebGPU error (validation, out-of-memory, internal, uncaptured) raised during
 * it and on any buffer made during it and still alive at its end (a session
 * it disposed left it; then destroyed). A program run reports its own findings
 * (CheckedRun, asserted with expectClean) from a frame nested inside.
 * A host that cannot start makes every test of its block fail with the reason
 * (never a skip), so CI without WebGPU goes red.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import { GPU_HOSTS } from '../../../src/gpu/adapter-info.js';
import { HOST_STARTERS, type GpuTestHost } from './hosts.js';
import type { CheckedRun } from './run-checked.js';

export interface OnHostsOptions {
  /** Put before `on <host>` in the block's title. */
  readonly title?: string;
  /** Called before the host starts (a precondition that should fail loudly, e.g. test data present). */
  readonly before?: () => void;
}

export function describeOnHosts(body: (host: () => GpuTestHost) => void, options: OnHostsOptions = {}): void {
  for (const name of GPU_HOSTS) {
    describe(`${options.title !== undefined ? `${options.title} ` : ''}on ${name}`, () => {
      let host: GpuTestHost | undefined;
      let failure: unknown;
      beforeAll(async () => {
        options.before?.();
        try {
          host = await HOST_STARTERS[name]();
        } catch (e) {
          failure = e; // rethrown by every test below, so each one fails with it
        }
      }, 120_000);
      beforeEach(async () => {
        await host?.runner.beginChecks();
      });
      afterEach(async () => {
        if (host === undefined) return;
        const report = await host.runner.endChecks();
        expect(report.gpuErrors, 'WebGPU errors during the test').toEqual([]);
        expect(report.leakedBuffers, 'buffers made during the test and still alive at its end').toEqual([]);
      }, 60_000);
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
