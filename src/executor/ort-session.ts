import type { Tensor } from '../cpu/tensor.js';
import { ExecutorUnavailableError } from '../errors.js';
import { IS_NODE } from '../util/host.js';
import { ORT_SESSION_OPTIONS } from './ort-session-options.js';

/** One ONNX Runtime session, wherever it runs (a worker thread in Node, this thread in a page). */
export interface OrtSession {
  /** The package that runs it, with its version (`onnxruntime-node 1.30.0`). */
  readonly runtime: string;
  /** Float32 inputs by name in, every output of the model out. */
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export type OrtPackage = 'onnxruntime-node' | 'onnxruntime-web';

export interface OrtSessionOptions {
  /** Intra-op threads (onnxruntime-node; onnxruntime-web takes them only where the page is cross-origin isolated). */
  threads?: number;
  /** Try only this package (tests of the fallback; default: onnxruntime-node, then onnxruntime-web). */
  only?: OrtPackage;
}

// A variable specifier: bundlers for the browser leave this Node-only module alone, and Node loads it on demand.
const NODE_SESSION_MODULE = './ort-node-session.js';

type NodeSessionModule = { openNodeOrtSession: (model: Uint8Array, options: OrtSessionOptions) => Promise<OrtSession> };

/**
 * An ONNX Runtime session for a model: in Node, onnxruntime-node in a
 * worker thread (native kernels, and this thread stays free while it runs),
 * else onnxruntime-web's WebAssembly build in this thread. Throws
 * ExecutorUnavailableError listing why each package could not take it.
 */
export async function openOrtSession(model: Uint8Array, options: OrtSessionOptions = {}): Promise<OrtSession> {
  const tried: string[] = [];
  if (IS_NODE && options.only !== 'onnxruntime-web') {
    try {
      const m = (await import(/* @vite-ignore */ NODE_SESSION_MODULE)) as NodeSessionModule;
      return await m.openNodeOrtSession(model, options);
    } catch (e) {
      tried.push(`onnxruntime-node: ${firstLine(e)}`);
    }
  }
  if (options.only !== 'onnxruntime-node') {
    try {
      return await openWebOrtSession(model, options);
    } catch (e) {
      tried.push(`onnxruntime-web: ${firstLine(e)}`);
    }
  }
  throw new ExecutorUnavailableError('ONNX Runtime could not take the model', tried);
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.trim();
}

// The WebAssembly build only: the full package would also ship its WebGPU build (twice the bytes) to every page.
type OrtWeb = typeof import('onnxruntime-web/wasm');
let webModule: Promise<OrtWeb> | undefined;

async function openWebOrtSession(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> {
  webModule ??= import('onnxruntime-web/wasm');
  const ort = await webModule;
  // Threads need SharedArrayBuffer: a cross-origin isolated page. Node runs the single-threaded build.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = isolated ? Math.max(1, options.threads ?? globalThis.navigator?.hardwareConcurrency ?? 1) : 1;
  const session = await ort.InferenceSession.create(model, { ...ORT_SESSION_OPTIONS, executionProviders: ['wasm'] });
  // One run at a time: onnxruntime-web's session state does not survive two runs interleaving.
  let queue: Promise<unknown> = Promise.resolve();
  const runOne = async (feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> => {
    const inputs: Record<string, InstanceType<OrtWeb['Tensor']>> = {};
    for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, t.shape);
    const out = await session.run(inputs);
    const result: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(out)) {
      result[name] = { shape: t.dims.map(Number), data: t.data as Float32Array };
      t.dispose();
    }
    return result;
  };
  return {
    runtime: `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm)`.replace('  ', ' '),
    run(feeds) {
      const result = queue.then(() => runOne(feeds));
      queue = result.catch(() => undefined);
      return result;
    },
    release: () => queue.then(() => session.release()),
  };
}
