/**
 * Pacing for the polling of Dawn for Node (the `webgpu` package).
 *
 * dawn.node settles its promises (onSubmittedWorkDone, mapAsync, ...) by
 * polling: while one is pending, it hands a native callback to the global
 * `setImmediate`, and that callback queues the next one, on every turn of the
 * event loop, for as long as the GPU works. That keeps one CPU core busy. On a
 * real GPU the core is merely wasted; on a CPU adapter (SwiftShader) it is
 * taken from the threads that run the shaders: on this project's 2-core
 * machine a 1x1 convolution took 200 ms with the polling and 120 ms without
 * it (`npx tsx bench/dawn-polling.bench.ts`).
 *
 * While installed, the pacer lets the native callbacks of a polling burst
 * through `setImmediate` for its first `spinMs` (short waits keep their
 * latency), and after that through `setTimeout(fn, 1)`: a poll a millisecond
 * instead of a poll a microsecond. Only callbacks that look like dawn.node's
 * are paced: a native function (source text `[native code]`) without a name
 * and with a `prototype`, as an addon's anonymous function has. Callbacks
 * written in JavaScript, bound functions (named `bound f`, no prototype) and
 * built-ins (named) go through untouched.
 */

/** How polling is paced: `paced` (the default in Node) or `busy` (the package as it is). */
export type DawnPolling = 'paced' | 'busy';

export interface PacerOptions {
  /** The first milliseconds of a polling burst run unpaced. Default 2. */
  readonly spinMs?: number;
  /** A pause between two native callbacks longer than this starts a new burst. Default 5. */
  readonly burstGapMs?: number;
  /** The clock, for tests. Default performance.now. */
  readonly now?: () => number;
}

type SetImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

interface Pacer {
  readonly original: SetImmediate;
  users: number;
  lastNative: number;
  burstStart: number;
  spinMs: number;
  burstGapMs: number;
  now: () => number;
  /** How many callbacks went each way, for tests and benches. */
  readonly counts: { immediate: number; timer: number };
}

const PACER = Symbol.for('quantgpu.dawnPollingPacer');
type PacedGlobal = typeof globalThis & { [PACER]?: Pacer };

const nativeSource = /\{\s*\[native code\]\s*\}\s*$/;

/** Whether `fn` looks like dawn.node's polling callback: an anonymous native function with a prototype. */
export function isAddonCallback(fn: unknown): boolean {
  return typeof fn === 'function' && fn.name === '' && Object.hasOwn(fn, 'prototype') && nativeSource.test(Function.prototype.toString.call(fn));
}

/**
 * Installs the pacer on the global `setImmediate` (once; later calls count
 * users) and returns the function that releases this use; the last release
 * puts the original back. Without a global `setImmediate` (a browser) it does nothing.
 */
export function installDawnPollingPacer(options: PacerOptions = {}): () => void {
  const g = globalThis as PacedGlobal;
  if (typeof g.setImmediate !== 'function') return () => {};
  let pacer = g[PACER];
  if (pacer === undefined) {
    const created: Pacer = {
      original: g.setImmediate as unknown as SetImmediate,
      users: 0,
      lastNative: -Infinity,
      burstStart: 0,
      spinMs: 2,
      burstGapMs: 5,
      now: () => performance.now(),
      counts: { immediate: 0, timer: 0 },
    };
    const paced = (callback: (...args: unknown[]) => void, ...args: unknown[]): unknown => {
      if (!isAddonCallback(callback)) return created.original(callback, ...args);
      const t = created.now();
      if (t - created.lastNative > created.burstGapMs) created.burstStart = t;
      created.lastNative = t;
      if (t - created.burstStart < created.spinMs) {
        created.counts.immediate++;
        return created.original(callback, ...args);
      }
      created.counts.timer++;
      return setTimeout(callback, 1, ...args);
    };
    // Node's own setImmediate carries util.promisify's custom form; keep it reachable.
    Object.assign(paced, g.setImmediate);
    g.setImmediate = paced as unknown as typeof g.setImmediate;
    g[PACER] = created;
    pacer = created;
  }
  pacer.spinMs = options.spinMs ?? pacer.spinMs;
  pacer.burstGapMs = options.burstGapMs ?? pacer.burstGapMs;
  pacer.now = options.now ?? pacer.now;
  pacer.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const p = g[PACER];
    if (p === undefined || --p.users > 0) return;
    g.setImmediate = p.original as unknown as typeof g.setImmediate;
    delete g[PACER];
  };
}

/** The installed pacer's callback counts (undefined when none is installed). */
export function dawnPollingCounts(): { immediate: number; timer: number } | undefined {
  const p = (globalThis as PacedGlobal)[PACER];
  return p === undefined ? undefined : { ...p.counts };
}
