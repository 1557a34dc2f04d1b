/**
 * What the peers bench's page (peers-page.ts) puts on window, beside the
 * Chromium runner's own API: one call that loads a model into one engine and
 * times it. Plain JSON only, as page.evaluate carries it; every URL is on the
 * page's own origin (the bench serves models, inputs and the peers' scripts
 * and wasm from this machine: nothing comes from the network).
 */
import type { Envelope } from '../host/page-api.js';

/** Where the bench serves the peers' own files (from node_modules) on the page's origin. */
export const PEER_PATHS = { ort: '/peers/ort/', tfjs: '/peers/tfjs/', tfjsWebgpu: '/peers/tfjs-webgpu/', tfjsWasm: '/peers/tfjs-wasm/' } as const;

/** One engine on one model file, as the page loads it. */
export type EngineSpec =
  | { readonly engine: 'ort'; readonly ep: 'webgpu' | 'wasm'; readonly model: string }
  | { readonly engine: 'tfjs'; readonly backend: 'webgpu' | 'wasm'; readonly model: string }
  /** `model`: a graph as graph-codec.ts encodes it (float or quantized). */
  | { readonly engine: 'quantgpu'; readonly model: string; readonly roofline: boolean };

export interface MeasureRequest {
  readonly spec: EngineSpec;
  /** Per batch: the URL of its input (little-endian float32) and its shape. */
  readonly inputs: ReadonlyArray<{ readonly url: string; readonly shape: readonly number[] }>;
  readonly warmup: number;
  readonly repeats: number;
}

export interface BatchTiming {
  readonly batch: number;
  /** The first inference after loading (shader compilation, allocation), ms. */
  readonly firstMs: number;
  /** Median of `repeats` inferences after the warm-up, ms: input upload to output on the CPU. */
  readonly medianMs: number;
  /** base64 of the first output's float32 values on this batch. */
  readonly output: string;
}

export interface Roofline {
  /** Median wall time of the profiled runs (the profile's own, timestamps on), ms. */
  readonly wallMs: number;
  /** Median GPU time of the layers (timestamp queries), ms; null without timestamp-query. */
  readonly gpuMs: number | null;
  /** Sum of the layers' floors at the adapter's measured peaks, ms. */
  readonly floorMs: number;
  /** The layers furthest above their floor: name, ms above it. */
  readonly worst: ReadonlyArray<{ readonly layer: string; readonly op: string; readonly ms: number; readonly floorMs: number }>;
}

export interface Measurement {
  /** Fetching the model and making a session or model object, ms. */
  readonly loadMs: number;
  readonly batches: readonly BatchTiming[];
  /** What the engine says it ran on (ORT's EP, TF.js's backend, quantgpu's adapter). */
  readonly runtime: string;
  /** quantgpu with roofline, on the first batch. */
  readonly roofline?: Roofline;
}

export interface PeersPageApi {
  measure(request: MeasureRequest): Promise<Envelope<Measurement>>;
}

declare global {
  interface Window {
    peersPage?: PeersPageApi;
  }
}
