import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { Preprocessing } from '../io/image.js';
import { nodeWorkerBundle } from '../util/worker-bundle.js';
import { WorkerRpc } from '../util/worker-rpc.js';
import type { ImageLayout, ImageSize } from './dataset.js';
import type { DecodeMessage } from './decode-worker-entry.js';

/**
 * Worker threads that decode and resize image files (decode-worker-entry.ts,
 * bundled on first use, see `nodeWorkerBundle`): a folder of photos feeds a
 * model while this thread runs it. One worker per core beyond the first, at
 * most four; they keep the process alive only while they have work.
 */
export class DecodePool {
  private turn = 0;

  constructor(private readonly workers: Array<WorkerRpc<DecodeMessage, { data: Float32Array }>>) {}

  /** Whether a worker has stopped: the pool is not to be used again. */
  get broken(): boolean {
    return this.workers.some((w) => w.stopped);
  }

  async decode(path: string, size: ImageSize, pre: Preprocessing, layout: ImageLayout): Promise<Float32Array> {
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return (await worker.call({ path, size, pre, layout })).data;
  }
}

let pool: Promise<DecodePool | undefined> | undefined;

/**
 * The process's decoding workers (started on first use), or undefined where
 * they cannot start (the worker's source not found beside this module, say,
 * in an application bundle): the caller then decodes in its own thread.
 */
export function decodePool(): Promise<DecodePool | undefined> {
  const current = pool;
  pool = (async () => {
    const have = await current;
    if (have && !have.broken) return have;
    let code: string;
    try {
      code = await nodeWorkerBundle('decode-worker-entry', import.meta.url);
    } catch {
      return undefined;
    }
    const n = Math.max(1, Math.min(4, availableParallelism() - 1));
    return new DecodePool(
      Array.from(
        { length: n },
        () =>
          new WorkerRpc<DecodeMessage, { data: Float32Array }>(new Worker(code, { eval: true }), {
            failed: (m) => new InputError(m),
            stopped: (d) => new InputError(`the image decoding worker stopped (${d})`),
          }),
      ),
    );
  })();
  return pool;
}
