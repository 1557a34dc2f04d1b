/**
 * GPU faults on both runners, each injected through the real WebGPU path
 * (src/gpu/fault-injection.ts, GpuRunner.injectFaults/loseDevice): a device
 * lost during a run, an allocation the device cannot serve, a shader the
 * compiler refuses. Each test checks the typed error, that every buffer made
 * was destroyed (the runner's check frame, which reports buffers left alive on
 * a lost device too, and the device's count of live buffers), and that a
 * session runs afterwards, equal to the golden model. The browser dying is
 * runner-faults.test.ts (its checks live in the page it kills).
 */
import { beforeAll, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { DeviceLostError, GpuOutOfMemoryError, ShaderCompileError } from '../../src/errors.js';
import type { GpuRunner } from '../../src/host/gpu-runner.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { tinyInput, tinyQuantized } from '../helpers/tiny-model.js';

/** No igemm timing: the faults are about the session, and the choice is the same every time. */
const PLAN = { autotune: false } as const;

let qg: QuantizedGraph;
beforeAll(async () => {
  qg = (await tinyQuantized()).qg;
});

function goldenCodes(x: Tensor): Int32Array {
  return Object.values(runQuantized(qg, { x }).integers)[0]!;
}

/** Ends the test's check frame to assert on it now (no WebGPU error, no buffer left), and opens a fresh one for the wrapper. */
async function expectAllFreed(r: GpuRunner, what: string): Promise<void> {
  const report = await r.endChecks();
  await r.beginChecks();
  expect(report.gpuErrors, `${what}: WebGPU errors`).toEqual([]);
  expect(report.leakedBuffers, `${what}: buffers not destroyed`).toEqual([]);
}

/** A new session on the runner runs and equals the golden model. */
async function expectFreshSessionRuns(r: GpuRunner): Promise<void> {
  const x = tinyInput(3, 5);
  const session = await r.createSession(qg, PLAN);
  try {
    expect(Object.values((await session.run(x)).integers)[0]).toEqual(goldenCodes(x));
  } finally {
    await session.dispose();
  }
}

describeOnHosts(
  (host) => {
    it('a device lost during runs: each pending run is a DeviceLostError, every buffer is destroyed, a new session runs', async () => {
      const r = host().runner;
      const x = tinyInput(4);
      const session = await r.createSession(qg, PLAN);
      await session.run(x); // prepared: the runs below go straight to the queue
      // Lost right after the third run's submit, with that run in flight (a loss asked for from here
      // could land after this small model's runs have all finished; session.test.ts does that on a large one).
      await r.injectFaults({ loseDeviceAtSubmit: 3 });
      let outcomes: unknown[];
      try {
        outcomes = await Promise.all([1, 2, 3].map(() => session.run(x).then(() => 'done', (e: unknown) => e)));
      } finally {
        await r.injectFaults({});
      }
      expect(outcomes.at(-1), 'the last run in flight').toBeInstanceOf(DeviceLostError);
      for (const o of outcomes) if (o !== 'done') expect(o).toBeInstanceOf(DeviceLostError);
      await expect(session.run(x)).rejects.toThrow(DeviceLostError);
      await session.dispose();
      await expectAllFreed(r, 'after the loss and dispose');
      await expectFreshSessionRuns(r);
    }, 120_000);

    it('out of memory at buffer creation is a GpuOutOfMemoryError naming the input, with nothing kept; the same session runs once memory is there', async () => {
      const r = host().runner;
      const x = tinyInput(1); // one item: no smaller piece to try (batch-pieces.test.ts has those)
      const before = await r.liveBuffers();
      const session = await r.createSession(qg, PLAN);
      await r.injectFaults({ oversizeBuffers: 'slot' });
      let e: unknown;
      try {
        e = await session.run(x).catch((err: unknown) => err);
      } finally {
        await r.injectFaults({});
      }
      expect(e).toBeInstanceOf(GpuOutOfMemoryError);
      expect((e as Error).message).toMatch(/^out of GPU memory making the buffers for input 'x' \[1, 1, 8, 8\] \(\d+ bytes of activations, \d+ of weights and tables\): .*; free GPU memory or use a smaller input$/);
      expect((e as Error).message).not.toContain('\n');
      expect(await r.liveBuffers(), 'buffers alive after the failed build').toEqual(before);
      await expectAllFreed(r, 'after the failed build');
      // The failed build is not remembered: the next run builds again, and succeeds.
      expect(Object.values((await session.run(x)).integers)[0]).toEqual(goldenCodes(x));
      await session.dispose();
      expect(await r.liveBuffers(), 'buffers alive after dispose').toEqual(before);
      await expectFreshSessionRuns(r);
    }, 120_000);

    it('a shader that fails to compile is a ShaderCompileError naming the variant and the shaders/ file and line; nothing is left, and the session compiles once the fault is gone', async () => {
      const r = host().runner;
      const x = tinyInput(2);
      const before = await r.liveBuffers();
      const session = await r.createSession(qg, PLAN);
      // Line 10 of requant.wgsl is blank; every integer kernel includes the file.
      await r.injectFaults({ breakShader: { file: 'requant.wgsl', line: 10 } });
      let e: unknown;
      try {
        e = await session.run(x).catch((err: unknown) => err);
      } finally {
        await r.injectFaults({});
      }
      expect(e).toBeInstanceOf(ShaderCompileError);
      const err = e as ShaderCompileError;
      expect(err.message).toMatch(/^kernel \w+:\{.*\} did not compile: error at shaders\/requant\.wgsl:10:\d+: /);
      expect(err.message).not.toContain('\n');
      expect(err.location).toMatch(/^shaders\/requant\.wgsl:10:\d+$/);
      expect(err.message.startsWith(`kernel ${err.variant} `)).toBe(true);
      expect(await r.liveBuffers(), 'buffers alive after the failed compile').toEqual(before);
      await expectAllFreed(r, 'after the failed compile');
      expect(Object.values((await session.run(x)).integers)[0]).toEqual(goldenCodes(x));
      await session.dispose();
      await expectFreshSessionRuns(r);
    }, 120_000);
  },
  { title: 'GPU faults' },
);
