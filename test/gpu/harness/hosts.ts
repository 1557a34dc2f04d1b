/**
 * The two hosts every GPU test runs on (GpuHost), each one runner of the
 * library's own (src/host), so that kernel programs and whole-model sessions
 * run on the same device under the same checks:
 * - node: a NodeRunner, the `webgpu` package (Dawn) in the test process;
 *   programs run on its device directly;
 * - browser: the Chromium runner (headless, through puppeteer-core), on a page
 *   whose script is test/gpu/page/main.ts: the runner's own page-entry plus
 *   the test programs behind window.quantgpuTest, on page-entry's device.
 * Starting a host that has no WebGPU adapter fails with the reason and what
 * was tried; the tests never skip.
 */
import { fileURLToPath } from 'node:url';
import type { AdapterFacts, GpuHost } from '../../../src/gpu/adapter-info.js';
import type { Gpu } from '../../../src/gpu/device.js';
import { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import { launchChromiumRunner } from '../../../src/host/chromium-runner.js';
import { NodeRunner, type GpuRunner } from '../../../src/host/gpu-runner.js';
import type { ProgramArgs, ProgramName, ProgramResult } from './programs.js';
import { runChecked, type CheckedRun } from './run-checked.js';
import './page-api.js';

export interface GpuTestHost {
  readonly name: GpuHost;
  /** The facts of the device when the host started. */
  readonly facts: AdapterFacts;
  /** Runs a test program (programs.ts) under its own check frame. */
  run<N extends ProgramName>(name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>>;
  /** Sessions on the same device; describeOnHosts checks each test's errors and buffers through it. */
  readonly runner: GpuRunner;
  close(): Promise<void>;
}

const PAGE_ENTRY = fileURLToPath(new URL('../page/main.ts', import.meta.url));

export async function startNodeHost(): Promise<GpuTestHost> {
  const runner = new NodeRunner();
  try {
    const facts = await runner.facts();
    // One pipeline cache per device: a lost device's pipelines are of no use to the next.
    let cached: { gpu: Gpu; cache: PipelineCache } | undefined;
    return {
      name: 'node',
      facts,
      runner,
      async run(name, args) {
        const gpu = await runner.gpu();
        if (cached?.gpu !== gpu) cached = { gpu, cache: new PipelineCache(gpu.device) };
        return runChecked(gpu, cached.cache, name, args);
      },
      close: () => runner.close(),
    };
  } catch (e) {
    await runner.close();
    throw e;
  }
}

export interface BrowserHostOptions {
  /** Chromium's flags (default CHROMIUM_FLAGS). */
  readonly flags?: readonly string[];
}

export async function startBrowserHost(options: BrowserHostOptions = {}): Promise<GpuTestHost> {
  const runner = await launchChromiumRunner({ ...options, entry: PAGE_ENTRY });
  try {
    await runner.page.waitForFunction(() => window.quantgpuTest !== undefined, { timeout: 60_000 });
    return {
      name: 'browser',
      facts: await runner.facts(),
      runner,
      run: (name, args) =>
        runner.page.evaluate((n, a) => window.quantgpuTest!.run(n, a), name, args).catch((e: unknown) => {
          const log = runner.pageLog;
          throw new Error(`browser run of '${name}' failed: ${(e as Error).message}${log.length > 0 ? `\npage log:\n${log.join('\n')}` : ''}`);
        }) as Promise<CheckedRun<ProgramResult<typeof name>>>,
      close: () => runner.close(),
    };
  } catch (e) {
    await runner.close();
    throw e;
  }
}

export const HOST_STARTERS: Readonly<Record<GpuHost, () => Promise<GpuTestHost>>> = {
  node: startNodeHost,
  browser: () => startBrowserHost(),
};
