import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../../cpu/tensor.js';
import { ExecutorUnavailableError } from '../../errors.js';
import { nodeWorkerBundle } from '../../util/worker-bundle.js';
import { WorkerRpc } from '../../util/worker-rpc.js';
import type { CalibrateMessage, CalibrateResult, CalibrateWorkerData } from './calibrate-worker-entry.js';
import { TensorStats } from './tensor-stats.js';

/** Batches each worker may hold at once: one running, one waiting, so none idles between them. */
const QUEUE_PER_WORKER = 2;

export interface CalibrationWorkers {
  /** `onnxruntime-node 1.30.0 (2 worker threads)`. */
  readonly runtime: string;
  /** Feeds every batch (split into `chunk` images) to the workers; returns the merged statistics. */
  run(batches: AsyncIterable<Tensor> | Iterable<Tensor>, chunkOf: (x: Tensor) => number, onProgress?: (images: number) => void): Promise<{ images: number; tensors: Map<string, TensorStats> }>;
  /** Stops the workers (after `run`, or instead of it). */
  dispose(): Promise<void>;
}

/**
 * Calibration on onnxruntime-node in worker threads, data-parallel: each
 * worker runs the graph (every observed tensor an output) on the batches it
 * is given, one intra-op thread each, and counts their statistics itself, so
 * no tensor crosses threads; the workers' statistics merge exactly at the
 * end. Throws ExecutorUnavailableError before taking any batch when
 * onnxruntime-node is missing or rejects the model.
 */
export async function startCalibrationWorkers(model: Uint8Array, input: string, observed: readonly string[], workers = Math.min(4, availableParallelism())): Promise<CalibrationWorkers> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  let code: string;
  try {
    code = await nodeWorkerBundle('calibrate-worker-entry', import.meta.url);
  } catch (e) {
    throw new ExecutorUnavailableError(`the calibration workers cannot start: ${e instanceof Error ? e.message : String(e)}`, []);
  }
  const pool = Array.from(
    { length: Math.max(1, workers) },
    () =>
      new WorkerRpc<CalibrateMessage, CalibrateResult>(new Worker(code, { eval: true, workerData: { ortPath } satisfies CalibrateWorkerData }), {
        failed: (m) => new ExecutorUnavailableError(`onnxruntime-node (calibration worker): ${m}`, []),
        stopped: (d) => new ExecutorUnavailableError(`a calibration worker stopped (${d})`, []),
      }),
  );
  let version = '';
  try {
    const created = await Promise.all(pool.map((w) => w.call({ type: 'create', model, input, observed: [...observed] })));
    version = created[0]!.version ?? '';
  } catch (e) {
    await Promise.all(pool.map((w) => w.terminate()));
    throw e;
  }
  return {
    runtime: `onnxruntime-node ${version} (${pool.length} worker thread${pool.length > 1 ? 's' : ''})`,

    async run(batches: AsyncIterable<Tensor> | Iterable<Tensor>, chunkOf: (x: Tensor) => number, onProgress?: (images: number) => void): Promise<{ images: number; tensors: Map<string, TensorStats> }> {
      let done = 0;
      const running = new Set<Promise<void>>();
      try {
        for await (const x of batches) {
          const n = x.shape[0]!;
          const per = n === 0 ? 0 : x.data.length / n;
          const chunk = chunkOf(x);
          for (let start = 0; start < n; start += chunk) {
            while (pool.every((w) => w.inFlight >= QUEUE_PER_WORKER)) await Promise.race(running);
            const w = pool.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
            const m = Math.min(chunk, n - start);
            const data = x.data.slice(start * per, (start + m) * per);
            const job: Promise<void> = w.call({ type: 'batch', shape: [m, ...x.shape.slice(1)], data }, [data.buffer]).then(() => {
              running.delete(job);
              done += m;
              onProgress?.(done);
            });
            running.add(job);
            // A failure is reported by whichever await meets it first; none goes unhandled.
            job.catch(() => undefined);
          }
        }
        await Promise.all(running);
        const finished = await Promise.all(pool.map((w) => w.call({ type: 'finish' })));
        const tensors = new Map<string, TensorStats>();
        let images = 0;
        for (const f of finished) {
          images += f.images ?? 0;
          for (const [name, json] of Object.entries(f.stats ?? {})) {
            const s = TensorStats.fromJSON(json, `calibration worker stats['${name}']`);
            const have = tensors.get(name);
            if (have) have.merge(s);
            else tensors.set(name, s);
          }
        }
        return { images, tensors };
      } finally {
        await Promise.all([...running].map((j) => j.catch(() => undefined)));
      }
    },

    async dispose(): Promise<void> {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
