import type { Worker } from 'node:worker_threads';

/** The replies every worker of ours sends: the request's number, then a result or a one-line failure. */
export type RpcReply<T extends object = object> = ({ id: number; ok: true } & T) | { id: number; ok: false; message: string };

/** How a worker's failures become the caller's typed errors. */
export interface RpcErrors {
  /** The worker answered a request with a failure. */
  failed(message: string): Error;
  /** The worker stopped or crashed: every request in flight, and every later one, gets this. */
  stopped(detail: string): Error;
}

/**
 * Numbered requests to one worker thread, answered in any order. The worker
 * keeps the process alive only while a request is in flight; once it stops
 * (an exit, a crash, `terminate`) no request waits forever: those in flight
 * and every later one reject.
 */
export class WorkerRpc<Message extends object, Result extends object = object> {
  private readonly pending = new Map<number, { resolve: (r: RpcReply<Result> & { ok: true }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private stoppedWith: Error | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly errors: RpcErrors,
  ) {
    worker.unref();
    worker.on('message', (r: RpcReply<Result>) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if (r.ok) p.resolve(r);
      else p.reject(errors.failed(r.message));
    });
    worker.on('error', (e) => this.stop(errors.stopped(e.message)));
    worker.on('exit', (code) => this.stop(errors.stopped(`exit code ${code}`)));
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the worker has stopped (no request can be answered any more). */
  get stopped(): boolean {
    return this.stoppedWith !== undefined;
  }

  call(msg: Message, transfer: ArrayBuffer[] = []): Promise<RpcReply<Result> & { ok: true }> {
    if (this.stoppedWith) return Promise.reject(this.stoppedWith);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.stop(this.errors.stopped('terminated'));
    await this.worker.terminate();
  }

  private stop(e: Error): void {
    this.stoppedWith ??= e;
    for (const p of this.pending.values()) p.reject(this.stoppedWith);
    this.pending.clear();
  }
}
