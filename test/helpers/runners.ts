import { afterAll, beforeAll, describe } from 'vitest';
import { GPU_HOSTS, type GpuHost } from '../../src/gpu/adapter-info.js';
import { openGpuRunner, type GpuRunner } from '../../src/host/gpu-runner.js';

/**
 * A block of tests once per GPU host (browser, node), each getting the
 * block's runner. A runner that cannot start makes every test of its block
 * fail with the reason (never a skip), so a machine without WebGPU goes red.
 */
export function describeOnRunners(title: string, body: (runner: () => GpuRunner, kind: GpuHost) => void, before?: () => void): void {
  for (const kind of GPU_HOSTS) {
    describe(`${title} on ${kind}`, () => {
      let runner: GpuRunner | undefined;
      let failure: unknown;
      beforeAll(async () => {
        before?.();
        try {
          runner = await openGpuRunner(kind);
        } catch (e) {
          failure = e;
        }
      }, 120_000);
      afterAll(async () => {
        await runner?.close();
      });
      body(() => {
        if (runner !== undefined) return runner;
        throw failure instanceof Error ? failure : new Error(`the ${kind} runner did not start: ${String(failure)}`);
      }, kind);
    });
  }
}
