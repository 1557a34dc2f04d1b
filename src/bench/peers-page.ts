/**
 * The peers bench's page: the Chromium runner's page (page-entry.ts, whose
 * device quantgpu's sessions use; ORT and TF.js request their own devices
 * from the same adapter) plus window.peersPage, which loads one model into one
 * engine and times it here, so that no input or output crosses to Node inside
 * a timed run. ONNX Runtime Web and TF.js are not bundled: the bench serves
 * their own distributed files from node_modules (ORT's ES module and its
 * wasm, TF.js's UMD scripts and its wasm) and the page loads them by URL, as
 * a web page that uses them would. Every engine times the same thing: input
 * from a Float32Array on the CPU to the output read back on the CPU.
 */
import type * as Ort from 'onnxruntime-web';
import type * as Tf from '@tensorflow/tfjs';
import { viewToBase64 } from '../io/base64.js';
import { median } from '../gpu/time-kernels.js';
import { currentGpu, envelope } from '../host/page-entry.js';
import { decodeGraph } from '../runtime/graph-codec.js';
import { createSession } from '../runtime/session.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { PEER_PATHS, type BatchTiming, type EngineSpec, type MeasureRequest, type Measurement, type PeersPageApi, type Roofline } from './peers-api.js';

/** A model loaded into an engine: run one input, free it. */
interface Loaded {
  run(x: Float32Array, shape: readonly number[]): Promise<Float32Array>;
  dispose(): Promise<void> | void;
  readonly runtime: string;
  profile?(x: Float32Array, shape: readonly number[], repeats: number): Promise<Roofline>;
}

let ortModule: Promise<typeof Ort> | undefined;
/** ONNX Runtime Web's WebGPU build (its JSEP wasm also serves the wasm EP), one thread: the page is not cross-origin isolated, as most pages are not. */
function ort(): Promise<typeof Ort> {
  // A URL in a variable: esbuild leaves the import to the browser rather than bundling the package.
  const url = `${PEER_PATHS.ort}ort.webgpu.min.mjs`;
  ortModule ??= (import(url) as Promise<typeof Ort>).then((m) => {
    m.env.wasm.wasmPaths = PEER_PATHS.ort;
    m.env.wasm.numThreads = 1;
    m.env.logLevel = 'error';
    return m;
  });
  return ortModule;
}

function script(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

type TfWithWasm = typeof Tf & { wasm?: { setWasmPaths(prefix: string): void } };
let tfModule: Promise<TfWithWasm> | undefined;
/** TF.js's UMD bundle, then its WebGPU and wasm backends' (they register on the global `tf`). */
function tfjs(): Promise<TfWithWasm> {
  tfModule ??= (async () => {
    await script(`${PEER_PATHS.tfjs}tf.min.js`);
    await script(`${PEER_PATHS.tfjsWebgpu}tf-backend-webgpu.min.js`);
    await script(`${PEER_PATHS.tfjsWasm}tf-backend-wasm.min.js`);
    const tf = (window as unknown as { tf: TfWithWasm }).tf;
    tf.wasm?.setWasmPaths(PEER_PATHS.tfjsWasm);
    return tf;
  })();
  return tfModule;
}

async function loadOrt(ep: 'webgpu' | 'wasm', url: string): Promise<Loaded> {
  const m = await ort();
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const session = await m.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  return {
    runtime: `onnxruntime-web ${m.env.versions.web ?? ''} ${ep}`,
    async run(x, shape) {
      const r = await session.run({ [input]: new m.Tensor('float32', x, [...shape]) });
      const t = r[output]!;
      const data = (await t.getData()) as Float32Array;
      for (const v of Object.values(r)) v.dispose();
      return data;
    },
    dispose: () => session.release(),
  };
}

async function loadTfjs(backend: 'webgpu' | 'wasm', url: string): Promise<Loaded> {
  const tf = await tfjs();
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const model = await tf.loadLayersModel(url);
  return {
    runtime: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`,
    async run(x, shape) {
      const input = tf.tensor(x, [...shape], 'float32');
      const out = model.predict(input) as Tf.Tensor;
      const data = (await out.data()) as Float32Array;
      input.dispose();
      out.dispose();
      return data;
    },
    dispose: () => {
      model.dispose();
    },
  };
}

async function loadQuantgpu(url: string): Promise<Loaded> {
  const gpu = await currentGpu();
  const model = decodeGraph<Graph | QuantizedGraph>(await (await fetch(url)).text());
  const session = await createSession(model, { gpu });
  const first = async (x: Float32Array, shape: readonly number[]): Promise<Float32Array> => {
    const r = await session.run({ shape: [...shape], data: x });
    return Object.values(r.outputs)[0]!.data;
  };
  return {
    runtime: 'quantgpu',
    run: first,
    dispose: () => session.dispose(),
    async profile(x, shape, repeats) {
      const p = await session.profile({ shape: [...shape], data: x }, { warmup: 1, repeats, roofline: true });
      const worst = p.layers
        .filter((l) => l.medianMs !== null && l.floorMs !== null)
        .map((l) => ({ layer: l.layer, op: l.op, ms: l.medianMs!, floorMs: l.floorMs! }))
        .sort((a, b) => b.ms - b.floorMs - (a.ms - a.floorMs))
        .slice(0, 3);
      return { wallMs: p.wallMs, gpuMs: p.gpuMs, floorMs: p.layers.reduce((s, l) => s + (l.floorMs ?? 0), 0), worst };
    },
  };
}

function load(spec: EngineSpec): Promise<Loaded> {
  switch (spec.engine) {
    case 'ort':
      return loadOrt(spec.ep, spec.model);
    case 'tfjs':
      return loadTfjs(spec.backend, spec.model);
    case 'quantgpu':
      return loadQuantgpu(spec.model);
  }
}

async function measure(request: MeasureRequest): Promise<Measurement> {
  const inputs = await Promise.all(request.inputs.map(async (i) => ({ shape: i.shape, x: new Float32Array(await (await fetch(i.url)).arrayBuffer()) })));
  const t0 = performance.now();
  const loaded = await load(request.spec);
  const loadMs = performance.now() - t0;
  try {
    const batches: BatchTiming[] = [];
    for (const { x, shape } of inputs) {
      const t1 = performance.now();
      const out = await loaded.run(x, shape);
      const firstMs = performance.now() - t1;
      for (let i = 0; i < request.warmup; i++) await loaded.run(x, shape);
      const times: number[] = [];
      for (let i = 0; i < request.repeats; i++) {
        const t = performance.now();
        await loaded.run(x, shape);
        times.push(performance.now() - t);
      }
      batches.push({ batch: shape[0]!, firstMs, medianMs: median(times), output: viewToBase64(out) });
    }
    const roofline = request.spec.engine === 'quantgpu' && request.spec.roofline && loaded.profile !== undefined ? await loaded.profile(inputs[0]!.x, inputs[0]!.shape, request.repeats) : undefined;
    return { loadMs, batches, runtime: loaded.runtime, ...(roofline === undefined ? {} : { roofline }) };
  } finally {
    await loaded.dispose();
  }
}

const api: PeersPageApi = { measure: (r) => envelope(() => measure(r)) };
window.peersPage = api;
