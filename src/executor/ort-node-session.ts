import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../cpu/tensor.js';
import { ExecutorUnavailableError } from '../errors.js';
import { ORT_SESSION_OPTIONS } from './ort-session-options.js';
import { WorkerRpc } from '../util/worker-rpc.js';
import type { OrtSession, OrtSessionOptions } from './ort-session.js';

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

type Message =
  | { type: 'create'; model: Uint8Array; options: Record<string, unknown> }
  | { type: 'run'; feeds: Record<string, Tensor> }
  | { type: 'release' };

/** onnxruntime-node in a worker thread; throws when the package is missing or rejects the model. */
export async function openNodeOrtSession(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const rpc = new WorkerRpc<Message, { version?: string; outputs?: Record<string, Tensor> }>(new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } }), {
    failed: (m) => new ExecutorUnavailableError(`onnxruntime-node: ${m}`, []),
    stopped: (d) => new ExecutorUnavailableError(`the onnxruntime-node worker stopped (${d})`, []),
  });
  let version: string;
  try {
    const sessionOptions = { ...ORT_SESSION_OPTIONS, ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}) };
    version = (await rpc.call({ type: 'create', model, options: sessionOptions })).version ?? '';
  } catch (e) {
    await rpc.terminate();
    throw e;
  }
  return {
    runtime: `onnxruntime-node ${version}`.trim(),
    async run(feeds) {
      // Posting a view clones its whole buffer: send views of part of a buffer as copies of their own.
      const compact: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) compact[name] = t.data.byteLength === t.data.buffer.byteLength ? t : { shape: t.shape, data: t.data.slice() };
      return (await rpc.call({ type: 'run', feeds: compact })).outputs!;
    },
    async release() {
      if (!rpc.stopped) await rpc.call({ type: 'release' }).catch(() => undefined);
      await rpc.terminate();
    },
  };
}
