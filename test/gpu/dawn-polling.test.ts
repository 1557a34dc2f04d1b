/**
 * The pacer of dawn.node's polling (src/gpu/dawn-polling.ts): which callbacks
 * it paces, that it installs and uninstalls cleanly, and that a real wait on
 * the Node runner goes through its timer path and still settles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.js';
import { BufferUsage } from '../../src/gpu/flags.js';
import { dawnPollingCounts, installDawnPollingPacer, isAddonCallback } from '../../src/gpu/dawn-polling.js';

const pristine = globalThis.setImmediate;

afterEach(() => {
  // A failed test must not leave the pacer on for the next one.
  expect(globalThis.setImmediate).toBe(pristine);
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

/** dawn.node's polling callback, caught on its way into setImmediate while a real wait is pending. */
async function catchDawnCallback(): Promise<(...args: unknown[]) => void> {
  const gpu = await requestGpu({ polling: 'busy' });
  const caught: Array<(...args: unknown[]) => void> = [];
  const spy = (fn: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate => {
    caught.push(fn);
    return pristine(fn, ...args);
  };
  globalThis.setImmediate = spy as unknown as typeof setImmediate;
  try {
    const cleanup = submitLongCopies(gpu.device);
    await gpu.device.queue.onSubmittedWorkDone();
    cleanup();
  } finally {
    globalThis.setImmediate = pristine;
    gpu.destroy();
  }
  expect(caught.length, 'dawn.node queued no callback with setImmediate: its polling changed, and the pacer has nothing to pace').toBeGreaterThan(0);
  return caught[0]!;
}

describe('isAddonCallback', () => {
  it("tells dawn.node's polling callback from JavaScript, bound and built-in functions", async () => {
    expect(isAddonCallback(await catchDawnCallback())).toBe(true);
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
});

describe('installDawnPollingPacer', () => {
  it('counts its users, restores the original setImmediate with the last release, and ignores a second release', () => {
    const a = installDawnPollingPacer();
    expect(globalThis.setImmediate).not.toBe(pristine);
    const b = installDawnPollingPacer();
    a();
    a();
    expect(globalThis.setImmediate, 'one release of two (a released twice) must keep the pacer').not.toBe(pristine);
    expect(dawnPollingCounts()).toBeDefined();
    b();
    expect(globalThis.setImmediate).toBe(pristine);
    expect(dawnPollingCounts()).toBeUndefined();
  });

  it('passes JavaScript callbacks and their arguments through on the next turn, inside a polling burst too', async () => {
    const release = installDawnPollingPacer({ spinMs: 0 });
    try {
      const order: string[] = [];
      const got = await new Promise<unknown[]>((resolve) => setImmediate((...args: unknown[]) => resolve(args), 1, 'two'));
      expect(got).toEqual([1, 'two']);
      setImmediate(() => order.push('immediate'));
      setTimeout(() => order.push('timeout 5'), 5);
      await new Promise((r) => setTimeout(r, 20));
      expect(order).toEqual(['immediate', 'timeout 5']);
      expect(dawnPollingCounts()).toEqual({ immediate: 0, timer: 0 });
    } finally {
      release();
    }
  });

  it("paces dawn.node's callback: the first of a burst on the next turn, later ones a millisecond apart", async () => {
    const dawn = await catchDawnCallback();
    let clock = 0;
    const release = installDawnPollingPacer({ spinMs: 2, burstGapMs: 5, now: () => clock });
    try {
      // Calling dawn's callback outside a pending wait does nothing; only the routing is observed.
      setImmediate(dawn);
      clock = 1;
      setImmediate(dawn);
      expect(dawnPollingCounts()).toEqual({ immediate: 2, timer: 0 });
      clock = 3;
      setImmediate(dawn);
      clock = 7.5;
      setImmediate(dawn);
      expect(dawnPollingCounts(), 'past spinMs within a burst: by timer').toEqual({ immediate: 2, timer: 2 });
      clock = 20;
      setImmediate(dawn);
      expect(dawnPollingCounts(), 'after a gap longer than burstGapMs, a new burst starts unpaced').toEqual({ immediate: 3, timer: 2 });
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      release();
    }
  });
});

describe('requestGpu in Node with paced polling (the default)', () => {
  it('settles waits through the timer path and uninstalls on destroy', async () => {
    const gpu = await requestGpu();
    try {
      expect(globalThis.setImmediate).not.toBe(pristine);
      const before = dawnPollingCounts()!;
      const t0 = performance.now();
      const cleanup = submitLongCopies(gpu.device);
      await gpu.device.queue.onSubmittedWorkDone();
      const waitedMs = performance.now() - t0;
      const after = dawnPollingCounts()!;
      expect(after.immediate).toBeGreaterThan(before.immediate);
      if (waitedMs > 10) expect(after.timer, `a ${waitedMs.toFixed(0)} ms wait polled only unpaced`).toBeGreaterThan(before.timer);
      cleanup();
    } finally {
      gpu.destroy();
    }
    expect(globalThis.setImmediate).toBe(pristine);
  });
});
