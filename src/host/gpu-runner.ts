/**
 * One runtime, two hosts for the GPU (GpuHost): in this process through the
 * `webgpu` package (Dawn; `node`), or in a browser, headless Chromium through
 * puppeteer (`browser`, chromium-runner.ts), where the session runs inside a page.
 * Both give the same outputs: the same kernels on the same command graph.
 * A GpuRunner hands out sessions; after a lost device, the next
 * createSession gets a new one.
 */
import type { Tensor } from '../cpu/tensor.js';
import { GPU_HOSTS, type AdapterFacts, type GpuHost } from '../gpu/adapter-info.js';
import { requestGpu, type Gpu, type RequestGpuOptions } from '../gpu/device.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import type { SessionProfile } from '../runtime/profile.js';
import { createSession, type MemoryReport, type SessionResult } from '../runtime/session.js';
import { injectFaults, type FaultInjection } from '../gpu/fault-injection.js';
import { GpuWatch, RunnerChecks, type GpuCheckReport, type LiveBuffers } from './gpu-checks.js';

/**
 * Other words taken for a host: `chromium` was the browser runner's name (and
 * the CLI's `--gpu` value) before one word served facts, runners and tests.
 */
export const GPU_HOST_ALIASES: Readonly<Record<string, GpuHost>> = { chromium: 'browser' };

/** The host a word names (a GpuHost, or an alias of one), or undefined. */
export function parseGpuHost(word: string): GpuHost | undefined {
  return (GPU_HOSTS as readonly string[]).includes(word) ? (word as GpuHost) : GPU_HOST_ALIASES[word];
}

/** How a flag that takes a host lists its choices. */
export function gpuHostChoices(): string {
  const aliases = Object.entries(GPU_HOST_ALIASES).map(([alias, host]) => `${alias}, the same as ${host}`);
  return `${GPU_HOSTS.join(', ')}${aliases.length > 0 ? ` (or ${aliases.join('; ')})` : ''}`;
}

import type { ProfileOptions } from '../runtime/session.js';

export type { ProfileOptions };

/** A session as either runner gives it (the Node one is a Session itself). */
export interface SessionHandle {
  run(input: Tensor): Promise<SessionResult>;
  profile(input: Tensor, options?: ProfileOptions): Promise<SessionProfile>;
  memory(input: Tensor): Promise<MemoryReport>;
  dispose(): Promise<void> | void;
}

export interface GpuRunner {
  /** Where the device of its sessions lives. */
  readonly host: GpuHost;
  /** The adapter of the device sessions run on now. */
  facts(): Promise<AdapterFacts>;
  createSession(model: Graph | QuantizedGraph, options?: PlanOptions): Promise<SessionHandle>;
  /** Destroys the current device (tests of device loss); the next createSession gets a new one. */
  loseDevice(): Promise<void>;
  /** Sets the faults injected into the runtime where the sessions run (fault-injection.ts; tests only); `{}` clears them. */
  injectFaults(faults: FaultInjection): Promise<void>;
  /** The buffers alive on the current device (all of them, made by any session or program since the device was made). */
  liveBuffers(): Promise<LiveBuffers>;
  /**
   * Diagnostics (the tests begin and end them around every test): until
   * endChecks(), every WebGPU error on the runner's devices is collected and
   * every buffer made is tracked (gpu-checks.ts); endChecks() reports the
   * errors and the buffers still alive, and destroys those.
   */
  beginChecks(): Promise<void>;
  endChecks(): Promise<GpuCheckReport>;
  close(): Promise<void>;
}

/** Sessions on a device of this process; a new device after the old one was lost. */
export class NodeRunner implements GpuRunner {
  readonly host = 'node';
  #gpu: Promise<Gpu> | undefined;
  #lost = false;
  readonly #checks = new RunnerChecks();

  constructor(private readonly request: RequestGpuOptions = {}) {}

  /** The device sessions run on now (a new one after a loss). */
  async gpu(): Promise<Gpu> {
    if (this.#gpu === undefined || this.#lost) {
      this.#lost = false;
      const next = requestGpu(this.request);
      this.#gpu = next;
      // A failed request is not kept: the next call tries again.
      next.catch(() => {
        if (this.#gpu === next) this.#gpu = undefined;
      });
      const gpu = await next;
      void gpu.device.lost.then(() => {
        if (this.#gpu === next) this.#lost = true;
      });
      this.#checks.deviceMade(gpu.device);
    }
    return this.#gpu;
  }

  async facts(): Promise<AdapterFacts> {
    return (await this.gpu()).facts;
  }

  async createSession(model: Graph | QuantizedGraph, options: PlanOptions = {}): Promise<SessionHandle> {
    return createSession(model, { ...options, gpu: await this.gpu() });
  }

  async loseDevice(): Promise<void> {
    (await this.gpu()).device.destroy();
  }

  async injectFaults(faults: FaultInjection): Promise<void> {
    injectFaults(faults);
  }

  async liveBuffers(): Promise<LiveBuffers> {
    return GpuWatch.of((await this.gpu()).device).liveBuffers();
  }

  async beginChecks(): Promise<void> {
    const current = this.#gpu !== undefined && !this.#lost ? await this.#gpu.catch(() => undefined) : undefined;
    this.#checks.begin(current?.device);
  }

  endChecks(): Promise<GpuCheckReport> {
    return this.#checks.end();
  }

  async close(): Promise<void> {
    const gpu = this.#gpu;
    this.#gpu = undefined;
    if (gpu !== undefined) (await gpu.catch(() => undefined))?.destroy();
  }
}

/** The runner of a host: `browser` launches headless Chromium (Node only). */
export async function openGpuRunner(host: GpuHost): Promise<GpuRunner> {
  if (host === 'node') {
    const runner = new NodeRunner();
    try {
      await runner.facts();
    } catch (e) {
      await runner.close();
      throw e;
    }
    return runner;
  }
  const specifier = './chromium-runner.js';
  const { launchChromiumRunner } = (await import(/* @vite-ignore */ specifier)) as typeof import('./chromium-runner.js');
  return launchChromiumRunner();
}
