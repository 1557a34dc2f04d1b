/**
 * The page side of the Chromium runner: bundled by esbuild and served by
 * chromium-runner.ts. It keeps one device (a new one after a loss) and the
 * sessions made on it, and answers the calls of QuantgpuPageApi. A page that
 * does more (the GPU tests' page, test/gpu/page/main.ts) imports this module
 * as its entry's first import and shares its device through currentGpu().
 */
import type { Tensor } from '../cpu/tensor.js';
import { requestGpu, type Gpu } from '../gpu/device.js';
import { base64ToFloat32, viewToBase64 } from '../io/base64.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { decodeGraph } from '../runtime/graph-codec.js';
import { createSession, type ProfileOptions, type Session } from '../runtime/session.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import { injectFaults, type FaultInjection } from '../gpu/fault-injection.js';
import { GpuWatch, RunnerChecks } from './gpu-checks.js';
import type { Envelope, QuantgpuPageApi, WireResult, WireTensor } from './page-api.js';

let gpu: Promise<Gpu> | undefined;
let lost = false;
const sessions = new Map<number, Session>();
let nextId = 1;
const checks = new RunnerChecks();

/** The page's device now (a new one after a loss). */
export async function currentGpu(): Promise<Gpu> {
  if (gpu === undefined || lost) {
    lost = false;
    const next = requestGpu();
    gpu = next;
    // A failed request is not kept: the next call tries again.
    next.catch(() => {
      if (gpu === next) gpu = undefined;
    });
    const made = await next;
    void made.device.lost.then(() => {
      if (gpu === next) lost = true;
    });
    checks.deviceMade(made.device);
  }
  return gpu;
}

function session(id: number): Session {
  const s = sessions.get(id);
  if (s === undefined) throw new Error(`no session ${id} (disposed?)`);
  return s;
}

const tensor = (t: WireTensor): Tensor => ({ shape: t.shape, data: base64ToFloat32(t.b64) });

/** The outcome of `f` as an envelope (page-api.ts); pages that add calls answer through it too. */
export async function envelope<T>(f: () => Promise<T> | T): Promise<Envelope<T>> {
  try {
    return { ok: await f() };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const fields = Object.fromEntries(Object.entries(err).filter(([, v]) => typeof v === 'string' || typeof v === 'number' || Array.isArray(v)));
    return { error: { name: err.name, message: err.message, fields } };
  }
}

const calls = {
  async init() {
    return (await currentGpu()).facts;
  },
  async createSession(url: string, options: PlanOptions) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    const model = decodeGraph<Graph | QuantizedGraph>(await response.text());
    const s = await createSession(model, { ...options, gpu: await currentGpu() });
    const id = nextId++;
    sessions.set(id, s);
    return id;
  },
  async run(id: number, input: WireTensor) {
    const r = await session(id).run(tensor(input));
    const out: WireResult = {
      outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, t]) => [k, { shape: t.shape, b64: viewToBase64(t.data) }])),
      integers: Object.fromEntries(Object.entries(r.integers).map(([k, v]) => [k, viewToBase64(v)])),
    };
    return out;
  },
  profile(id: number, input: WireTensor, options: ProfileOptions) {
    return session(id).profile(tensor(input), options);
  },
  memory(id: number, shape: number[]) {
    return session(id).memory({ shape, data: new Float32Array(0) });
  },
  dispose(id: number) {
    sessions.get(id)?.dispose();
    sessions.delete(id);
    return null;
  },
  async loseDevice() {
    (await currentGpu()).device.destroy();
    return null;
  },
  injectFaults(faults: FaultInjection) {
    injectFaults(faults);
    return null;
  },
  async counters() {
    return { liveBuffers: GpuWatch.of((await currentGpu()).device).liveBuffers(), sessions: sessions.size };
  },
  async beginChecks() {
    checks.begin(gpu !== undefined && !lost ? (await gpu.catch(() => undefined))?.device : undefined);
    return null;
  },
  endChecks() {
    return checks.end();
  },
};

const api: QuantgpuPageApi = {
  init: () => envelope(calls.init),
  createSession: (url, options) => envelope(() => calls.createSession(url, options)),
  run: (id, input) => envelope(() => calls.run(id, input)),
  profile: (id, input, options) => envelope(() => calls.profile(id, input, options)),
  memory: (id, shape) => envelope(() => calls.memory(id, shape)),
  dispose: (id) => envelope(() => calls.dispose(id)),
  loseDevice: () => envelope(calls.loseDevice),
  injectFaults: (faults) => envelope(() => calls.injectFaults(faults)),
  counters: () => envelope(calls.counters),
  beginChecks: () => envelope(calls.beginChecks),
  endChecks: () => envelope(calls.endChecks),
};

window.quantgpuPage = api;
