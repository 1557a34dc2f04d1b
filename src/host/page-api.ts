/**
 * What the Chromium runner's page (page-entry.ts) puts on window, and the
 * wire forms of its arguments and results: strings and plain JSON only, as
 * page.evaluate carries them. Float32 and Int32 data travel as base64.
 */
import type { AdapterFacts } from '../gpu/adapter-info.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import type { SessionProfile } from '../runtime/profile.js';
import type { MemoryReport } from '../runtime/session.js';
import type { FaultInjection } from '../gpu/fault-injection.js';
import type { GpuCheckReport, LiveBuffers } from './gpu-checks.js';

export interface WireTensor {
  readonly shape: number[];
  /** base64 of the little-endian float32 values. */
  readonly b64: string;
}

export interface WireResult {
  readonly outputs: Record<string, WireTensor>;
  /** base64 of little-endian int32 codes. */
  readonly integers: Record<string, string>;
}

/**
 * A call's outcome. Errors come back as data, not as a rejection: puppeteer
 * would flatten a rejection to a message, and the runner rethrows the same
 * typed error (DeviceLostError, GpuUnsupportedError, ...) on the Node side.
 */
export type Envelope<T> = { readonly ok: T } | { readonly error: WireError };

export interface WireError {
  readonly name: string;
  readonly message: string;
  /** The error's own fields (reason, limit, tried, ...). */
  readonly fields: Record<string, unknown>;
}

export interface PageCounters {
  readonly liveBuffers: LiveBuffers;
  readonly sessions: number;
}

export interface QuantgpuPageApi {
  init(): Promise<Envelope<AdapterFacts>>;
  /** Fetches the encoded graph (graph-codec.ts) from `url` and makes a session; returns its id. */
  createSession(url: string, options: PlanOptions): Promise<Envelope<number>>;
  run(id: number, input: WireTensor): Promise<Envelope<WireResult>>;
  profile(id: number, input: WireTensor, options: { warmup?: number; repeats?: number; roofline?: boolean }): Promise<Envelope<SessionProfile>>;
  memory(id: number, shape: number[]): Promise<Envelope<MemoryReport>>;
  dispose(id: number): Promise<Envelope<null>>;
  loseDevice(): Promise<Envelope<null>>;
  injectFaults(faults: FaultInjection): Promise<Envelope<null>>;
  /** The page's own counters: buffers alive on its device, and sessions made and not disposed. */
  counters(): Promise<Envelope<PageCounters>>;
  /** GpuRunner.beginChecks / endChecks, on the page's devices. */
  beginChecks(): Promise<Envelope<null>>;
  endChecks(): Promise<Envelope<GpuCheckReport>>;
}

declare global {
  interface Window {
    quantgpuPage?: QuantgpuPageApi;
  }
}
