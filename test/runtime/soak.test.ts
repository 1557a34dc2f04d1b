/**
 * A soak on each runner: 200 sessions of the tiny model created, run and
 * disposed in a row. What a session holds must go with it: the buffers alive
 * on the device (the device's watch, gpu-checks.ts), this process's open
 * handles (process.getActiveResourcesInfo(): sockets to the browser, timers,
 * workers) and, for the browser, the page's own counters (sessions it holds)
 * are the same after the 200th as after the 10th (the first ones may warm
 * caches up). The outputs of the first and the last equal the golden model.
 */
import { beforeAll, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { ChromiumRunner } from '../../src/host/chromium-runner.js';
import type { GpuRunner } from '../../src/host/gpu-runner.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { tinyInput, tinyQuantized } from '../helpers/tiny-model.js';

const SESSIONS = 200;
const SETTLED_AFTER = 10;

let qg: QuantizedGraph;
beforeAll(async () => {
  qg = (await tinyQuantized()).qg;
});

/** This process's open handles by kind, e.g. { TCPSocketWrap: 2, Timeout: 1 }. */
function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

async function snapshot(r: GpuRunner): Promise<unknown> {
  // Let callbacks of the last dispose and read settle (a timer of a map, a socket write).
  await new Promise((resolve) => setTimeout(resolve, 50));
  const page = r.host === 'browser' ? { page: await (r as ChromiumRunner).counters() } : {};
  return { liveBuffers: await r.liveBuffers(), handles: openHandles(), ...page };
}

describeOnHosts(
  (host) => {
    it(`${SESSIONS} sessions created, run and disposed: buffers, handles and page counters after the last as after the ${SETTLED_AFTER}th`, async () => {
      const r = host().runner;
      const x = tinyInput(2);
      const golden = Object.values(runQuantized(qg, { x }).integers)[0]!;
      let settled: unknown;
      for (let i = 1; i <= SESSIONS; i++) {
        const session = await r.createSession(qg, { autotune: false });
        const result = await session.run(x);
        // The count sees a session's buffers (so that its staying level means something).
        if (i === 1) expect((await r.liveBuffers()).count, 'buffers alive while a session is open').toBeGreaterThan(0);
        await session.dispose();
        if (i === 1 || i === SESSIONS) expect(Object.values(result.integers)[0], `session ${i}`).toEqual(golden);
        if (i === SETTLED_AFTER) settled = await snapshot(r);
      }
      const end = await snapshot(r);
      expect(end).toEqual(settled);
      expect((end as { liveBuffers: { count: number } }).liveBuffers.count, 'buffers alive with every session disposed').toBe(0);
    }, 600_000);
  },
  { title: 'soak' },
);
