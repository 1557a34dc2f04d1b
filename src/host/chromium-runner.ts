/**
 * The Chromium runner (Node only): headless Chromium through puppeteer-core,
 * on a page this module serves from http://127.0.0.1 (WebGPU needs a secure
 * context; file:// is not one). The page is page-entry.ts bundled by esbuild
 * on first use. Graphs go to the page by HTTP (encoded by graph-codec.ts),
 * inputs and outputs as base64 through page.evaluate; errors come back as
 * data and are rethrown here as the same typed errors.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Tensor } from '../cpu/tensor.js';
import * as errors from '../errors.js';
import { GpuUnavailableError, QuantGpuError } from '../errors.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import { base64ToFloat32, base64ToInt32, viewToBase64 } from '../io/base64.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { encodeGraph } from '../runtime/graph-codec.js';
import { onInterrupt } from '../util/interrupt.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import type { GpuRunner, ProfileOptions, SessionHandle } from './gpu-runner.js';
import type { Envelope, PageCounters, QuantgpuPageApi, WireError, WireTensor } from './page-api.js';

/**
 * Chromium's flags: WebGPU is off by default on Linux (--enable-unsafe-webgpu);
 * the rest keep a headless browser from reaching the network or doing
 * background work. puppeteer adds --headless=new and a fresh temporary
 * --user-data-dir. With no GPU, Chromium's WebGPU runs on SwiftShader.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Timestamps at full resolution (Chrome rounds them to 100 us otherwise): the profiles and the kernel choice time sub-millisecond passes.
  '--enable-webgpu-developer-features',
];

/** The browser to drive: $PUPPETEER_EXECUTABLE_PATH, else Debian's chromium. */
export function findBrowser(): string {
  const tried: string[] = [];
  const fromEnv = process.env.PUPPETEER_EXECUTABLE_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (existsSync(fromEnv)) return fromEnv;
    tried.push(`PUPPETEER_EXECUTABLE_PATH=${fromEnv}: no such file`);
  } else tried.push('PUPPETEER_EXECUTABLE_PATH: unset');
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  tried.push('/usr/bin/chromium: no such file (apt-get install -y chromium)');
  throw new GpuUnavailableError('no browser for the chromium GPU runner', tried);
}

const bundles = new Map<string, Promise<string>>();

/** The page's script bundled for the browser (once per entry and process): page-entry, unless `entry` names another. */
function pageBundle(entry: string | undefined): Promise<string> {
  const key = entry ?? '';
  let bundle = bundles.get(key);
  if (bundle === undefined) {
    bundle = (async () => {
      const here = (ext: string): string => fileURLToPath(new URL(`./page-entry${ext}`, import.meta.url));
      const file = entry ?? [here('.ts'), here('.js')].find(existsSync);
      if (file === undefined || !existsSync(file)) throw new Error(`the page entry is missing: ${entry ?? `${here('.ts')} or ${here('.js')}`}`);
      const { build } = await import('esbuild');
      const out = await build({ entryPoints: [file], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
      return out.outputFiles[0]!.text;
    })();
    bundles.set(key, bundle);
    bundle.catch(() => bundles.delete(key));
  }
  return bundle;
}

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>quantgpu runner</title><script type="module" src="/page.js"></script>';

/** A typed error from its wire form: the class of the same name where there is one. */
function revive(e: WireError): Error {
  const ctor = (errors as Record<string, unknown>)[e.name];
  if (typeof ctor === 'function' && ctor.prototype instanceof QuantGpuError) {
    const err = Object.create(ctor.prototype as object) as QuantGpuError;
    Object.assign(err, e.fields);
    Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
    Object.defineProperty(err, 'stack', { value: `${e.name}: ${e.message}\n    at the chromium runner's page`, writable: true, configurable: true });
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

function unwrap<T>(r: Envelope<T>): T {
  if ('error' in r) throw revive(r.error);
  return r.ok;
}

const wire = (t: Tensor): WireTensor => ({ shape: [...t.shape], b64: viewToBase64(t.data) });

export interface ChromiumRunnerOptions {
  /** Chromium's flags (default CHROMIUM_FLAGS). */
  readonly flags?: readonly string[];
  /**
   * The page's script, a file bundled by esbuild (default page-entry): a page
   * that does more imports page-entry first (the GPU tests' page runs its
   * kernel programs on the same device as the sessions).
   */
  readonly entry?: string;
  /**
   * More of the page's origin: the file for a request's path (a page that
   * loads other engines' scripts, wasm and models, as the peers bench does),
   * or undefined for a 404. Asked after the runner's own paths.
   */
  readonly serve?: (path: string) => ServedFile | undefined;
}

/** A response of ChromiumRunnerOptions.serve. */
export interface ServedFile {
  readonly body: string | Uint8Array;
  readonly type: string;
}

/** The browser runner, and its page for callers that drive more than sessions on it (the tests). */
export interface ChromiumRunner extends GpuRunner {
  readonly page: Page;
  /** The page's own counters (buffers alive on its device, sessions not disposed). */
  counters(): Promise<PageCounters>;
  /** The page's console errors and warnings and uncaught errors so far. */
  readonly pageLog: readonly string[];
}

export async function launchChromiumRunner(options: ChromiumRunnerOptions = {}): Promise<ChromiumRunner> {
  const flags = options.flags ?? CHROMIUM_FLAGS;
  const executablePath = findBrowser();
  const graphs = new Map<string, string>();
  let server: Server | undefined;
  const pageLog: string[] = [];
  /** The browser of the current generation; a browser or page that dies ends its generation, and the next session starts a new one. */
  let current: { browser: Browser; page: Page; facts: AdapterFacts; generation: number; dead: boolean } | undefined;
  let generations = 0;
  let origin = '';
  /** A browser being started (launched, its page not yet ready, so not yet `current`): closing the runner must close it too. */
  let launching: Promise<Browser> | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
    forgetInterrupt();
    await launching?.then((b) => b.close()).catch(() => {});
    await current?.browser.close().catch(() => {});
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  };
  // Ctrl-C or a kill closes the browser (its processes, and the temporary
  // profile puppeteer removes once it has exited) before the process ends:
  // puppeteer's own handlers would kill it and exit at once, leaving the profile.
  const forgetInterrupt = onInterrupt(close);

  type Api = QuantgpuPageApi;
  type Result<M extends keyof Api> = Awaited<ReturnType<Api[M]>> extends Envelope<infer T> ? T : never;
  const lost = (detail: string): errors.DeviceLostError => new errors.DeviceLostError('browser', `the Chromium runner's page or browser went away (${detail})`);
  /** A call into the page of `generation`: a page that died, or one of an earlier generation, is a DeviceLostError. */
  const callOn = async <M extends keyof Api>(generation: number, method: M, ...args: Parameters<Api[M]>): Promise<Result<M>> => {
    const c = current;
    if (c === undefined || c.dead || c.generation !== generation) throw lost('a new browser was started since, or this one died');
    let r: unknown;
    try {
      r = await c.page.evaluate((m: string, a: unknown[]) => (window.quantgpuPage as unknown as Record<string, (...x: unknown[]) => unknown>)[m]!(...a), method, args as unknown[]);
    } catch (e) {
      // Not the page's own typed error (those come back in the envelope): the target closed or crashed under the call.
      c.dead = true;
      throw lost((e as Error).message.split('\n')[0]!);
    }
    return unwrap(r as Envelope<never>);
  };

  /** Starts a browser and its page (the first time, and after one died). */
  const start = async (): Promise<NonNullable<typeof current>> => {
    if (current !== undefined && !current.dead) return current;
    // Closed (by its owner, or by an interrupt while work was still under way): no new browser.
    if (closed) throw new QuantGpuError('the Chromium runner was closed');
    await current?.browser.close().catch(() => {});
    const launch = puppeteer.launch({ executablePath, headless: true, args: [...flags], protocolTimeout: 600_000, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    launching = launch;
    launch.catch(() => {
      if (launching === launch) launching = undefined;
    });
    const browser = await launch;
    const generation = ++generations;
    const next = { browser, page: undefined as unknown as Page, facts: undefined as unknown as AdapterFacts, generation, dead: false };
    try {
      browser.on('disconnected', () => (next.dead = true));
      const page: Page = await browser.newPage();
      next.page = page;
      page.on('error', () => (next.dead = true));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn') pageLog.push(`console.${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => pageLog.push(`page error: ${(e as Error).message}`));
      const response = await page.goto(`${origin}/`, { waitUntil: 'load' });
      if (response === null || !response.ok()) throw new Error(`GET ${origin}/: ${response?.status() ?? 'no response'}`);
      await page.waitForFunction(() => window.quantgpuPage !== undefined, { timeout: 60_000 });
      current = next;
      try {
        next.facts = await callOn(generation, 'init');
      } catch (e) {
        throw new GpuUnavailableError('no WebGPU device in the browser', [`${executablePath} --headless=new ${flags.join(' ')} on ${origin}/: ${(e as Error).message}`, ...pageLog]);
      }
      return next;
    } catch (e) {
      next.dead = true;
      await browser.close().catch(() => {});
      throw e;
    } finally {
      if (launching === launch) launching = undefined;
    }
  };

  try {
    const script = await pageBundle(options.entry);
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      const graph = url.startsWith('/graph/') ? graphs.get(url) : undefined;
      if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_HTML);
      else if (url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (graph !== undefined) {
        graphs.delete(url);
        res.writeHead(200, { 'content-type': 'application/json' }).end(graph);
      } else {
        const file = options.serve?.(url.split('?')[0]!);
        if (file === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': file.type }).end(file.body);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', () => resolve());
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await start();
    let graphId = 0;
    /** Calls into the page as it is now (the harness and the checks; a dead page is a DeviceLostError). */
    const call = <M extends keyof Api>(method: M, ...args: Parameters<Api[M]>): Promise<Result<M>> => callOn(current!.generation, method, ...args);
    const runner: ChromiumRunner = {
      host: 'browser',
      get page() {
        return current!.page;
      },
      pageLog,
      facts: async () => (await start()).facts,
      async createSession(model: Graph | QuantizedGraph, planOptions: PlanOptions = {}): Promise<SessionHandle> {
        // After the browser died, the next session gets a new one, as NodeRunner gets a new device.
        const c = await start();
        const g = c.generation;
        const url = `/graph/${++graphId}`;
        graphs.set(url, encodeGraph(model));
        let id: number;
        try {
          id = await callOn(g, 'createSession', url, planOptions);
        } finally {
          graphs.delete(url);
        }
        try {
          c.facts = await callOn(g, 'init');
        } catch (e) {
          await callOn(g, 'dispose', id).catch(() => {});
          throw e;
        }
        return {
          async run(input) {
            const r = await callOn(g, 'run', id, wire(input));
            return {
              outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, t]) => [k, { shape: t.shape, data: base64ToFloat32(t.b64) }])),
              integers: Object.fromEntries(Object.entries(r.integers).map(([k, v]) => [k, base64ToInt32(v)])),
            };
          },
          profile: (input, o: ProfileOptions = {}) => callOn(g, 'profile', id, wire(input), o),
          memory: (input) => callOn(g, 'memory', id, [...input.shape]),
          async dispose() {
            // A session of a browser that died has nothing left to free.
            if (current?.generation !== g || current.dead) return;
            await callOn(g, 'dispose', id);
          },
        };
      },
      async loseDevice() {
        await call('loseDevice');
      },
      async injectFaults(faults) {
        await start();
        await call('injectFaults', faults);
      },
      async liveBuffers() {
        await start();
        return (await call('counters')).liveBuffers;
      },
      async counters() {
        await start();
        return call('counters');
      },
      async beginChecks() {
        // A browser that died is replaced first: the checks open on the page the next sessions use.
        await start();
        await call('beginChecks');
      },
      endChecks: () => call('endChecks'),
      close,
    };
    return runner;
  } catch (e) {
    await close();
    throw e;
  }
}
