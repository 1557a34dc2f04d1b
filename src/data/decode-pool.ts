import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';
import { nodeWorkerBundle } from '../util/worker-bundle.js';
import type { ImageLayout, ImageSize } from './dataset.js';
import type { DecodeReply, DecodeRequest } from './decode-worker-entry.js';

/**
 * Worker threads that decode and resize image files (decode-worker-entry.ts,
 * bundled on first use, see `nodeWorkerBundle`): a
 * folder of photos feeds a model while this thread runs it. One worker per
 * core beyond the first, at most four; they keep the process alive only
 * while they have work.
 */
class DecodePool {
  private readonly pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.unref();
      w.on('message', (r: DecodeReply) => this.settle(r));
      w.on('error', (e) => this.failAll(e));
    }
  }

  decode(path: string, size: ImageSize, pre: Preprocessing, layout: ImageLayout): Promise<Float32Array> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    if (this.pending.size === 0) for (const w of this.workers) w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, path, size, pre, layout } satisfies DecodeRequest);
    });
  }

  private settle(r: DecodeReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if ('data' in r) p.resolve(r.data);
    // The worker's errors are the readers' typed ones (an unreadable or undecodable file): say so the same way.
    else p.reject(new InputError(r.error.message));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(new InputError(`the image decoding worker failed: ${e.message}`));
    this.pending.clear();
  }
}

let pool: Promise<DecodePool> | undefined;

/** The process's decoding workers (started on first use). */
export function decodePool(): Promise<DecodePool> {
  pool ??= (async () => {
    const code = await nodeWorkerBundle('decode-worker-entry', import.meta.url);
    const n = Math.max(1, Math.min(4, availableParallelism() - 1));
    return new DecodePool(Array.from({ length: n }, () => new Worker(code, { eval: true })));
  })();
  pool.catch(() => (pool = undefined));
  return pool;
}
