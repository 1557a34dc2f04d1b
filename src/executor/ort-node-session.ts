import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../cpu/tensor.js';
import { ExecutorUnavailableError } from '../errors.js';
import { ORT_SESSION_OPTIONS } from './ort-session-options.js';
import { firstLine, type OrtSession, type OrtSessionOptions } from './ort-session.js';

/**
 * The worker's whole program (CommonJS, evaluated by Node): it owns one
 * onnxruntime-node session and answers numbered messages. onnxruntime-node
 * runs a model on the calling thread; in a worker, the main thread goes on
 * (calibration counts one batch's histograms while the next one runs).
 * Outputs come back as transferred buffers, not copies.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session;
parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'create') {
      session = await ort.InferenceSession.create(msg.model, msg.options);
      parentPort.postMessage({ id: msg.id, ok: true, version: ort.env.versions.node || ort.env.versions.common || '' });
    } else if (msg.type === 'run') {
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.shape);
      const out = await session.run(feeds);
      const outputs = {};
      const transfer = new Set();
      for (const [name, t] of Object.entries(out)) {
        let data = t.data;
        // A buffer shared with other values (Node's pool for small ones) is copied; a buffer of its own moves.
        if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.byteLength >= 65536) transfer.add(data.buffer);
        else data = data.slice();
        outputs[name] = { shape: t.dims.map(Number), data };
      }
      parentPort.postMessage({ id: msg.id, ok: true, outputs }, [...transfer]);
    } else if (msg.type === 'release') {
      if (session) await session.release();
      session = undefined;
      parentPort.postMessage({ id: msg.id, ok: true });
    }
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, message: String((e && e.message) || e) });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  message?: string;
  version?: string;
  outputs?: Record<string, Tensor>;
}

/** onnxruntime-node in a worker thread; throws when the package is missing or rejects the model. */
export async function openNodeOrtSession(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  // The worker keeps the process alive only while it has work.
  worker.unref();
  const failAll = (e: Error): void => {
    stopped = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0) worker.unref();
    if (r.ok) p.resolve(r);
    else p.reject(new ExecutorUnavailableError(`onnxruntime-node: ${r.message ?? 'failed'}`, []));
  });
  worker.on('error', (e) => failAll(new ExecutorUnavailableError(`the onnxruntime-node worker failed: ${firstLine(e)}`, [])));
  worker.on('exit', (code) => failAll(new ExecutorUnavailableError(`the onnxruntime-node worker stopped (exit code ${code})`, [])));
  const call = (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> => {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
    if (pending.size === 0) worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  };
  let version: string;
  try {
    const sessionOptions = { ...ORT_SESSION_OPTIONS, ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}) };
    version = (await call({ type: 'create', model, options: sessionOptions })).version ?? '';
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  return {
    runtime: `onnxruntime-node ${version}`.trim(),
    async run(feeds) {
      // Posting a view clones its whole buffer: send views of part of a buffer as copies of their own.
      const compact: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) compact[name] = t.data.byteLength === t.data.buffer.byteLength ? t : { shape: t.shape, data: t.data.slice() };
      const r = await call({ type: 'run', feeds: compact });
      return r.outputs!;
    },
    async release() {
      if (!stopped) await call({ type: 'release' }).catch(() => undefined);
      stopped ??= new ExecutorUnavailableError('the ONNX Runtime session was released', []);
      await worker.terminate();
    },
  };
}
