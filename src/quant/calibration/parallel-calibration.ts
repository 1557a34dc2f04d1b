import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../../cpu/tensor.js';
import { ExecutorUnavailableError } from '../../errors.js';
import { nodeWorkerBundle } from '../../util/worker-bundle.js';
import type { CalibrateMessage, CalibrateReply, CalibrateWorkerData } from './calibrate-worker-entry.js';
import { TensorStats } from './tensor-stats.js';

/** One calibration worker: its session and statistics, answering numbered requests. */
class CalibrationWorker {
  private readonly pending = new Map<number, { resolve: (r: CalibrateReply & { ok: true }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** Batches sent and not answered yet. */
  inFlight = 0;

  constructor(private readonly worker: Worker) {
    worker.on('message', (r: CalibrateReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r);
      else p.reject(new ExecutorUnavailableError(`onnxruntime-node (calibration worker): ${r.message}`, []));
    });
    const fail = (e: Error): void => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new ExecutorUnavailableError(`a calibration worker failed: ${e.message}`, [])));
    worker.on('exit', (code) => fail(new ExecutorUnavailableError(`a calibration worker stopped (exit code ${code})`, [])));
  }

  call(msg: CalibrateMessage, transfer: ArrayBuffer[] = []): Promise<CalibrateReply & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Batches each worker may hold at once: one running, one waiting, so none idles between them. */
const QUEUE_PER_WORKER = 2;

export interface CalibrationWorkers {
  /** `onnxruntime-node 1.30.0 (2 worker threads)`. */
  readonly runtime: string;
  /** Feeds every batch (split into `chunk` images) to the workers; returns the merged statistics. */
  run(batches: AsyncIterable<Tensor> | Iterable<Tensor>, chunk: number, onProgress?: (images: number) => void): Promise<{ images: number; tensors: Map<string, TensorStats> }>;
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
  const code = await nodeWorkerBundle('calibrate-worker-entry', import.meta.url);
  const pool = Array.from({ length: Math.max(1, workers) }, () => new CalibrationWorker(new Worker(code, { eval: true, workerData: { ortPath } satisfies CalibrateWorkerData })));
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

    async run(batches: AsyncIterable<Tensor> | Iterable<Tensor>, chunk: number, onProgress?: (images: number) => void): Promise<{ images: number; tensors: Map<string, TensorStats> }> {
      let done = 0;
      const running = new Set<Promise<void>>();
      try {
        for await (const x of batches) {
          const n = x.shape[0]!;
          const per = n === 0 ? 0 : x.data.length / n;
          for (let start = 0; start < n; start += chunk) {
            while (pool.every((w) => w.inFlight >= QUEUE_PER_WORKER)) await Promise.race(running);
            const w = pool.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
            const m = Math.min(chunk, n - start);
            const data = x.data.slice(start * per, (start + m) * per);
            w.inFlight++;
            const job: Promise<void> = w.call({ type: 'batch', shape: [m, ...x.shape.slice(1)], data }, [data.buffer]).then(() => {
              w.inFlight--;
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
