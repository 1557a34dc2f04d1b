/**
 * The pacer of dawn.node's polling (src/gpu/dawn-polling.ts): which callbacks
 * it paces and how, that it installs and uninstalls cleanly, and that
 * requestGpu() uses it on CPU adapters, where a real wait goes through its
 * timer path and still settles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.js';
import { BufferUsage } from '../../src/gpu/flags.js';
import { dawnPollingCounts, installDawnPollingPacer, isAddonCallback, isCpuAdapter } from '../../src/gpu/dawn-polling.js';

const pristineImmediate = globalThis.setImmediate;
const pristineTimeout = globalThis.setTimeout;

afterEach(() => {
  // A failed test must not leave the pacer (or a fake) on for the next one, and its failure must not spread to them.
  const left = globalThis.setImmediate;
  globalThis.setTimeout = pristineTimeout;
  globalThis.setImmediate = pristineImmediate;
  // A pacer a failed test never released would otherwise be counted on by the next install.
  const leftPacer = dawnPollingCounts() !== undefined;
  Reflect.deleteProperty(globalThis, Symbol.for('quantgpu.dawnPollingPacer'));
  expect(dawnPollingCounts(), "the pacer's global key (src/gpu/dawn-polling.ts) changed: this clean-up misses it").toBeUndefined();
  expect(left, 'the test left its own setImmediate installed').toBe(pristineImmediate);
  expect(leftPacer, 'the test left a pacer installed').toBe(false);
});

/**
 * Submits copies that keep SwiftShader busy for tens of milliseconds (a real
 * GPU for about one), so that a wait on them has to poll; returns a cleanup.
 */
function submitLongCopies(device: GPUDevice): () => void {
  const size = 32 << 20;
  const a = device.createBuffer({ size, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const b = device.createBuffer({ size, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  for (let i = 0; i < 8; i++) encoder.copyBufferToBuffer(i % 2 === 0 ? a : b, 0, i % 2 === 0 ? b : a, 0, size);
  device.queue.submit([encoder.finish()]);
  return () => {
    a.destroy();
    b.destroy();
  };
}

const looksNative = (fn: unknown): boolean => typeof fn === 'function' && Function.prototype.toString.call(fn).includes('[native code]');

/** dawn.node's polling callback, caught on its way into setImmediate while a real wait is pending (never called here). */
async function catchDawnCallback(): Promise<unknown> {
  const gpu = await requestGpu({ polling: 'busy' });
  const caught: unknown[] = [];
  const spy = (fn: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate => {
    caught.push(fn);
    return pristineImmediate(fn, ...args);
  };
  globalThis.setImmediate = spy as unknown as typeof setImmediate;
  try {
    const cleanup = submitLongCopies(gpu.device);
    await gpu.device.queue.onSubmittedWorkDone();
    cleanup();
  } finally {
    globalThis.setImmediate = pristineImmediate;
    gpu.destroy();
  }
  const dawn = caught.find(looksNative);
  expect(dawn, 'dawn.node queued no native callback with setImmediate: its polling changed, and the pacer has nothing to pace').toBeDefined();
  return dawn;
}

/** A stand-in that passes for dawn.node's callback (a Proxy of an anonymous function reads as native) and counts its calls. */
function standIn(): { fn: () => void; calls: () => number } {
  let calls = 0;
  const fn = new Proxy(function () {}, { apply: () => void calls++ });
  return { fn, calls: () => calls };
}

const nextTurns = (ms: number): Promise<void> => new Promise((resolve) => pristineTimeout(resolve, ms));

/**
 * Resolves once every callback queued so far with the original setImmediate
 * has run: immediates run in the order they were queued. (A timer of 0 ms is
 * no such fence: when the loop is slow it fires before the check phase.)
 */
const afterImmediates = (): Promise<void> => new Promise((resolve) => pristineImmediate(resolve));

describe('isAddonCallback and isCpuAdapter', () => {
  it("tells dawn.node's polling callback from JavaScript, bound and built-in functions", async () => {
    expect(isAddonCallback(await catchDawnCallback())).toBe(true);
    expect(isAddonCallback(standIn().fn), 'the stand-in the routing tests use').toBe(true);
    function named(): void {}
    expect(isAddonCallback(named)).toBe(false);
    expect(isAddonCallback(() => {})).toBe(false);
    expect(isAddonCallback(function () {})).toBe(false);
    expect(isAddonCallback(named.bind(null))).toBe(false);
    expect(isAddonCallback((() => {}).bind(null))).toBe(false);
    expect(isAddonCallback(Math.max)).toBe(false);
    expect(isAddonCallback(console.log)).toBe(false);
    expect(isAddonCallback(undefined)).toBe(false);
    expect(isAddonCallback('function () { [native code] }')).toBe(false);
  });

  it('counts fallback adapters and the known CPU Vulkan drivers as CPU adapters, and nothing else', () => {
    const facts = { isFallbackAdapter: false, vendor: 'nvidia', device: '', description: 'NVIDIA H100' };
    expect(isCpuAdapter(facts)).toBe(false);
    expect(isCpuAdapter({ ...facts, isFallbackAdapter: true })).toBe(true);
    expect(isCpuAdapter({ ...facts, vendor: 'google', description: 'SwiftShader driver 5.0.0' })).toBe(true);
    expect(isCpuAdapter({ ...facts, vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
  });
});

describe('installDawnPollingPacer', () => {
  it('counts its users, restores the original setImmediate with the last release, and ignores a second release', () => {
    const a = installDawnPollingPacer();
    expect(globalThis.setImmediate).not.toBe(pristineImmediate);
    const b = installDawnPollingPacer();
    a();
    a();
    expect(globalThis.setImmediate, 'one release of two (a released twice) must keep the pacer').not.toBe(pristineImmediate);
    expect(dawnPollingCounts()).toBeDefined();
    b();
    expect(globalThis.setImmediate).toBe(pristineImmediate);
    expect(dawnPollingCounts()).toBeUndefined();
  });

  it('leaves a wrapper installed over it in place and only forwards once released', async () => {
    // The pacer keeps the setTimeout it found at install: a spy there sees every callback it would pace.
    const paced: unknown[] = [];
    globalThis.setTimeout = ((fn: unknown): unknown => paced.push(fn)) as unknown as typeof setTimeout;
    const release = installDawnPollingPacer({ spinMs: 0 });
    globalThis.setTimeout = pristineTimeout;
    const pacer = globalThis.setImmediate;
    const outer = (fn: (...args: unknown[]) => void, ...args: unknown[]): unknown => (pacer as unknown as (...a: unknown[]) => unknown)(fn, ...args);
    globalThis.setImmediate = outer as unknown as typeof setImmediate;
    try {
      const before = standIn();
      setImmediate(before.fn);
      expect(paced, 'installed with spinMs 0, the pacer sends it to the timer').toHaveLength(1);
      release();
      expect(globalThis.setImmediate, "someone else's wrapper").toBe(outer);
      const after = standIn();
      setImmediate(after.fn);
      expect(paced, 'released, the pacer forwards without pacing').toHaveLength(1);
      await afterImmediates();
      expect(after.calls(), 'forwarded to the original setImmediate: run on the next turn').toBe(1);
      expect(before.calls(), 'the paced one went to the spy timer, which never runs it').toBe(0);
    } finally {
      globalThis.setImmediate = pristineImmediate;
    }
  });

  it('passes JavaScript callbacks and their arguments through on the next turn, inside a polling burst too', async () => {
    let clock = 0;
    const release = installDawnPollingPacer({ spinMs: 2, now: () => clock });
    try {
      const dawn = standIn();
      setImmediate(dawn.fn);
      clock = 3;
      setImmediate(dawn.fn);
      expect(dawnPollingCounts(), 'a burst past its spin').toEqual({ immediate: 1, timer: 1 });
      const got = await new Promise<unknown[]>((resolve) => setImmediate((...args: unknown[]) => resolve(args), 1, 'two'));
      expect(got).toEqual([1, 'two']);
      const order: string[] = [];
      setImmediate(function () {
        order.push('anonymous function');
      });
      setImmediate(() => order.push('arrow'));
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(['anonymous function', 'arrow']);
      expect(dawnPollingCounts(), 'JavaScript callbacks are not counted as paced').toEqual({ immediate: 1, timer: 1 });
      await nextTurns(5);
      expect(dawn.calls()).toBe(2);
    } finally {
      release();
    }
  });

  it("paces dawn.node's callback: a burst's first ones on the next turn, later ones by a timer that a later fake cannot strand", async () => {
    let clock = 0;
    const release = installDawnPollingPacer({ spinMs: 2, burstGapMs: 5, now: () => clock });
    try {
      const dawn = standIn();
      setImmediate(dawn.fn);
      clock = 1;
      setImmediate(dawn.fn);
      expect(dawnPollingCounts()).toEqual({ immediate: 2, timer: 0 });
      await afterImmediates();
      expect(dawn.calls()).toBe(2);
      // A test faking setTimeout after the pacer was installed must not keep Dawn's polling from running.
      globalThis.setTimeout = ((): unknown => 0) as unknown as typeof setTimeout;
      clock = 3;
      setImmediate(dawn.fn);
      expect(dawnPollingCounts(), 'past spinMs within a burst: by timer').toEqual({ immediate: 2, timer: 1 });
      // The timer fires "late" (the clock jumps past burstGapMs before it runs): its run, not its queueing, counts.
      clock = 20;
      await nextTurns(10);
      expect(dawn.calls(), 'the timer ran with the real setTimeout').toBe(3);
      setImmediate(dawn.fn);
      expect(dawnPollingCounts(), 'queued right after a late run: still the same burst, by timer').toEqual({ immediate: 2, timer: 2 });
      clock = 40;
      setImmediate(dawn.fn);
      expect(dawnPollingCounts(), 'after a pause longer than burstGapMs, a new burst starts unpaced').toEqual({ immediate: 3, timer: 2 });
      await nextTurns(10);
      expect(dawn.calls()).toBe(5);
    } finally {
      globalThis.setTimeout = pristineTimeout;
      release();
    }
  });
});

describe('requestGpu in Node and the pacer', () => {
  it('paces a CPU adapter by default (a long wait goes through the timer path and settles), and uninstalls on destroy', async () => {
    const gpu = await requestGpu();
    try {
      if (!isCpuAdapter(gpu.facts)) {
        expect(globalThis.setImmediate, `a GPU (${gpu.facts.description}) keeps Dawn's busy polling by default`).toBe(pristineImmediate);
        return;
      }
      expect(globalThis.setImmediate).not.toBe(pristineImmediate);
      const before = dawnPollingCounts()!;
      const cleanup = submitLongCopies(gpu.device);
      await gpu.device.queue.onSubmittedWorkDone();
      cleanup();
      const after = dawnPollingCounts()!;
      expect(after.timer, 'hundreds of MB copied on a CPU adapter take far longer than the 2 ms of unpaced polling').toBeGreaterThan(before.timer);
    } finally {
      gpu.destroy();
    }
    expect(globalThis.setImmediate).toBe(pristineImmediate);
  });

  it("takes the pacer off when the device is lost, though the Gpu's destroy() is never called", async () => {
    const gpu = await requestGpu({ polling: 'paced' });
    expect(globalThis.setImmediate).not.toBe(pristineImmediate);
    gpu.device.destroy();
    await gpu.device.lost;
    await nextTurns(0);
    expect(globalThis.setImmediate).toBe(pristineImmediate);
  });

  it("polling: 'busy' leaves setImmediate alone", async () => {
    const gpu = await requestGpu({ polling: 'busy' });
    expect(globalThis.setImmediate).toBe(pristineImmediate);
    gpu.destroy();
  });
});
