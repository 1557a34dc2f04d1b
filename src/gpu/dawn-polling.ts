/**
 * Pacing for the polling of Dawn for Node (the `webgpu` package).
 *
 * dawn.node settles its promises (onSubmittedWorkDone, mapAsync, ...) by
 * polling: while one is pending, it hands a native callback to the global
 * `setImmediate`, and that callback queues the next one, on every turn of the
 * event loop, for as long as the GPU works. That keeps one CPU core busy. On a
 * real GPU the core is merely wasted, and the busy poll gives the shortest
 * latency; on a CPU adapter (SwiftShader) the core is taken from the threads
 * that run the shaders: on this project's 2-core machine a 1x1 convolution took
 * 200 ms with the polling and 120 ms without it (`npx tsx bench/dawn-polling.bench.ts`).
 * So requestGpu() installs this pacer for CPU adapters only (device.ts).
 *
 * The pacer lets the first `spinMs` of a polling burst through `setImmediate`
 * and the rest through `setTimeout(fn, 1)`: a poll a millisecond instead of a
 * poll a microsecond. A burst is polling without a pause longer than
 * `burstGapMs` between one callback running and the next being queued, so a
 * wait that starts right after another is paced from its start: on a CPU
 * adapter, where kernels take milliseconds, that costs a wait up to about a
 * millisecond. The pacer is process-wide: while installed it paces every
 * dawn.node device's waits.
 *
 * Which callbacks are paced: those that look like dawn.node's, a native
 * function (source text `[native code]`) without a name and with a
 * `prototype`, as an addon's anonymous function has. Callbacks written in
 * JavaScript, bound functions (named `bound f`, no prototype) and built-ins
 * (named) go through untouched; another addon's anonymous callback, or a Proxy
 * of an anonymous function, would be paced too.
 */

/**
 * How Dawn for Node's polling is paced: `auto` (the default) paces it on CPU
 * adapters only, `paced` always, `busy` never (the package as it is).
 */
export type DawnPolling = 'auto' | 'paced' | 'busy';

export interface PacerOptions {
  /** The first milliseconds of a polling burst run unpaced. Default 2. */
  readonly spinMs?: number;
  /** A pause longer than this between a callback running and the next being queued starts a new burst. Default 5. */
  readonly burstGapMs?: number;
  /** The clock, for tests. Default performance.now. */
  readonly now?: () => number;
}

type Callback = (...args: unknown[]) => void;
type Scheduler = (callback: Callback, ...args: unknown[]) => unknown;

interface Pacer {
  readonly original: Scheduler;
  /** setTimeout as it was at install: a test faking it later must not strand Dawn's polling. */
  readonly timer: Scheduler;
  readonly wrapper: Scheduler;
  readonly spinMs: number;
  readonly burstGapMs: number;
  readonly now: () => number;
  users: number;
  /** When a paced callback was last queued or last ran. */
  lastActivity: number;
  burstStart: number;
  /** Released while something else had wrapped setImmediate over it: the wrapper only forwards. */
  passThrough: boolean;
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

/** Whether an adapter runs its shaders on the CPU, where the busy poll competes with them. */
export function isCpuAdapter(facts: { readonly isFallbackAdapter: boolean; readonly vendor: string; readonly description: string; readonly device: string }): boolean {
  return facts.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${facts.vendor} ${facts.device} ${facts.description}`);
}

function createPacer(g: PacedGlobal, options: PacerOptions): Pacer {
  const original = g.setImmediate as unknown as Scheduler;
  const timer = g.setTimeout as unknown as Scheduler;
  const pacer: Pacer = {
    original,
    timer,
    wrapper: (callback, ...args) => {
      if (pacer.passThrough || !isAddonCallback(callback)) return Reflect.apply(original, g, [callback, ...args]);
      const t = pacer.now();
      if (t - pacer.lastActivity > pacer.burstGapMs) pacer.burstStart = t;
      pacer.lastActivity = t;
      if (t - pacer.burstStart < pacer.spinMs) {
        pacer.counts.immediate++;
        return Reflect.apply(original, g, [callback, ...args]);
      }
      pacer.counts.timer++;
      // Marking the run keeps a timer that fires late (busy shader threads) from starting a new burst.
      const run = (): void => {
        pacer.lastActivity = pacer.now();
        Reflect.apply(callback, undefined, args);
      };
      return Reflect.apply(timer, g, [run, 1]);
    },
    spinMs: options.spinMs ?? 2,
    burstGapMs: options.burstGapMs ?? 5,
    now: options.now ?? (() => performance.now()),
    users: 0,
    lastActivity: -Infinity,
    burstStart: 0,
    passThrough: false,
    counts: { immediate: 0, timer: 0 },
  };
  // Node's setImmediate carries util.promisify's custom form; keep it reachable.
  Object.assign(pacer.wrapper, g.setImmediate);
  return pacer;
}

/**
 * Installs the pacer on the global `setImmediate` (once: later calls count
 * users, and their options are ignored) and returns the function that
 * releases this use; the last release puts the original back, or, when
 * something else has wrapped `setImmediate` since, leaves the pacer's wrapper
 * in that chain as a plain forwarder. Without a global `setImmediate` (a
 * browser) it does nothing. Throws if the global cannot be assigned.
 */
export function installDawnPollingPacer(options: PacerOptions = {}): () => void {
  const g = globalThis as PacedGlobal;
  if (typeof g.setImmediate !== 'function') return () => {};
  let pacer = g[PACER];
  if (pacer === undefined) {
    pacer = createPacer(g, options);
    g.setImmediate = pacer.wrapper as unknown as typeof g.setImmediate;
    g[PACER] = pacer;
  }
  const mine = pacer;
  mine.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--mine.users > 0) return;
    if (g.setImmediate === (mine.wrapper as unknown)) g.setImmediate = mine.original as unknown as typeof g.setImmediate;
    else mine.passThrough = true;
    if (g[PACER] === mine) delete g[PACER];
  };
}

/** The installed pacer's callback counts (undefined when none is installed). */
export function dawnPollingCounts(): { immediate: number; timer: number } | undefined {
  const p = (globalThis as PacedGlobal)[PACER];
  return p === undefined ? undefined : { ...p.counts };
}
