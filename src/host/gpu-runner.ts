/**
 * One runtime, two ways to a GPU: in this process through the `webgpu`
 * package (Dawn; `node`), or in headless Chromium through puppeteer
 * (`chromium`, chromium-runner.ts), where the session runs inside a page.
 * Both give the same outputs: the same kernels on the same command graph.
 * A GpuRunner hands out sessions; after a lost device, the next
 * createSession gets a new one.
 */
import type { Tensor } from '../cpu/tensor.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import { requestGpu, type Gpu, type RequestGpuOptions } from '../gpu/device.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import type { SessionProfile } from '../runtime/profile.js';
import { createSession, type MemoryReport, type SessionResult } from '../runtime/session.js';

export const GPU_RUNNERS = ['chromium', 'node'] as const;
export type GpuRunnerKind = (typeof GPU_RUNNERS)[number];

export interface ProfileOptions {
  readonly warmup?: number;
  readonly repeats?: number;
}

/** A session as either runner gives it (the Node one is a Session itself). */
export interface SessionHandle {
  run(input: Tensor): Promise<SessionResult>;
  profile(input: Tensor, options?: ProfileOptions): Promise<SessionProfile>;
  memory(input: Tensor): Promise<MemoryReport>;
  dispose(): Promise<void> | void;
}

export interface GpuRunner {
  readonly kind: GpuRunnerKind;
  /** The adapter of the device sessions run on now. */
  facts(): Promise<AdapterFacts>;
  createSession(model: Graph | QuantizedGraph, options?: PlanOptions): Promise<SessionHandle>;
  /** Destroys the current device (tests of device loss); the next createSession gets a new one. */
  loseDevice(): Promise<void>;
  close(): Promise<void>;
}

/** Sessions on a device of this process; a new device after the old one was lost. */
export class NodeRunner implements GpuRunner {
  readonly kind = 'node';
  #gpu: Promise<Gpu> | undefined;
  #lost = false;

  constructor(private readonly request: RequestGpuOptions = {}) {}

  async #device(): Promise<Gpu> {
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
    }
    return this.#gpu;
  }

  async facts(): Promise<AdapterFacts> {
    return (await this.#device()).facts;
  }

  async createSession(model: Graph | QuantizedGraph, options: PlanOptions = {}): Promise<SessionHandle> {
    return createSession(model, { ...options, gpu: await this.#device() });
  }

  async loseDevice(): Promise<void> {
    (await this.#device()).device.destroy();
  }

  async close(): Promise<void> {
    const gpu = this.#gpu;
    this.#gpu = undefined;
    if (gpu !== undefined) (await gpu.catch(() => undefined))?.destroy();
  }
}

/** The runner of a kind: `chromium` launches a headless browser (Node only). */
export async function openGpuRunner(kind: GpuRunnerKind): Promise<GpuRunner> {
  if (kind === 'node') {
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
