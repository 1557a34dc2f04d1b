/**
 * The two hosts the GPU tests run on, behind one interface:
 * - node: the `webgpu` package (Dawn) in the test process itself;
 * - browser: headless Chromium through puppeteer-core, on a page served by
 *   Vite from this repository (WebGPU needs a secure context, and
 *   http://127.0.0.1 is one where file:// is not).
 * Both run the programs of programs.ts through runChecked. Starting a host
 * that has no WebGPU adapter fails with the reason and what was tried; the
 * tests never skip.
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createServer, type ViteDevServer } from 'vite';
import { GpuUnavailableError } from '../../../src/errors.js';
import { CHROMIUM_FLAGS, findBrowser } from '../../../src/host/chromium-runner.js';
import type { AdapterFacts, GpuHost } from '../../../src/gpu/adapter-info.js';
import { requestGpu } from '../../../src/gpu/device.js';
import { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import type { ProgramArgs, ProgramName, ProgramResult } from './programs.js';
import { runChecked, type CheckedRun } from './run-checked.js';
import './page-api.js';

export interface GpuTestHost {
  readonly name: GpuHost;
  readonly facts: AdapterFacts;
  run<N extends ProgramName>(name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>>;
  close(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PAGE = '/test/gpu/page/index.html';

export async function startNodeHost(): Promise<GpuTestHost> {
  const gpu = await requestGpu();
  const cache = new PipelineCache(gpu.device);
  return {
    name: 'node',
    facts: gpu.facts,
    run: (name, args) => runChecked(gpu, cache, name, args),
    async close() {
      gpu.destroy();
    },
  };
}

/**
 * A port nobody listens on now. Vite reads `port: 0` as "the default, 5173",
 * which two test files (or a running demo) would fight over; so ask the OS
 * for a free one. Another process may take it before Vite listens: Vite then
 * moves to the next port (strictPort false), and the address is read back.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function startVite(): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    configFile: false, // the repository's config is the demo's and vitest's; this server only serves the test page
    root: REPO,
    logLevel: 'error',
    clearScreen: false,
    // Serve dependencies as they are (all ES modules): no pre-bundling pass,
    // whose discovery of a new dependency would reload the page mid-test.
    optimizeDeps: { noDiscovery: true, include: [] },
    server: { host: '127.0.0.1', port: await freePort(), strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer?.address() as AddressInfo | null | undefined;
  if (address == null || typeof address !== 'object') {
    await server.close();
    throw new Error('the Vite server for the GPU test page has no address');
  }
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

export interface BrowserHostOptions {
  /** Chromium's flags (default CHROMIUM_FLAGS). */
  readonly flags?: readonly string[];
}

export async function startBrowserHost(options: BrowserHostOptions = {}): Promise<GpuTestHost> {
  const flags = options.flags ?? CHROMIUM_FLAGS;
  const executablePath = findBrowser();
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  const pageLog: string[] = [];
  const close = async (): Promise<void> => {
    // Each step on its own: a failed close must not leave the others running.
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
  };
  try {
    const [vite, launched] = await Promise.all([
      startVite(),
      puppeteer.launch({ executablePath, headless: true, args: [...flags], protocolTimeout: 120_000 }),
    ]);
    server = vite.server;
    browser = launched;
    const page: Page = await browser.newPage();
    // The page's own errors and warnings go into failure messages, not the test output.
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') pageLog.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageLog.push(`page error: ${(e as Error).message}`));
    const url = `${vite.origin}${PAGE}`;
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response === null || !response.ok()) throw new Error(`GET ${url}: ${response?.status() ?? 'no response'}`);
    await page.waitForFunction(() => window.quantgpuTest !== undefined, { timeout: 60_000 });
    let facts: AdapterFacts;
    try {
      facts = await page.evaluate(() => window.quantgpuTest!.init());
    } catch (e) {
      throw new GpuUnavailableError('no WebGPU device in the browser', [
        `${executablePath} --headless=new ${flags.join(' ')} on ${url}: ${(e as Error).message}`,
        ...pageLog,
      ]);
    }
    return {
      name: 'browser',
      facts,
      run: (name, args) =>
        page.evaluate((n, a) => window.quantgpuTest!.run(n, a), name, args).catch((e: unknown) => {
          throw new Error(`browser run of '${name}' failed: ${(e as Error).message}${pageLog.length > 0 ? `\npage log:\n${pageLog.join('\n')}` : ''}`);
        }) as Promise<CheckedRun<ProgramResult<typeof name>>>,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

export const HOST_STARTERS: Readonly<Record<GpuHost, () => Promise<GpuTestHost>>> = {
  node: startNodeHost,
  browser: () => startBrowserHost(),
};
