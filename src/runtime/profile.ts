/** What `Session.profile` reports: per-layer GPU time from timestamp queries, and the whole inference's wall time. */
import { formatTextTable } from '../util/text-table.js';

export interface LayerProfile {
  readonly layer: string;
  readonly op: string;
  /** The layer's output shape. */
  readonly shape: readonly number[];
  /** e.g. `w4a8`, `a8`, `f32`. */
  readonly bits: string;
  /** Multiply-accumulates of the layer for the whole batch. */
  readonly macs: number;
  /** Median over the repeats of the GPU time of the layer's passes (null without timestamp-query). */
  readonly medianMs: number | null;
  /** 2 * macs / time, in 10^9 operations per second (null where there is no time or no MAC). */
  readonly gops: number | null;
}

export interface SessionProfile {
  readonly adapter: string;
  readonly batch: number;
  readonly warmup: number;
  readonly repeats: number;
  /** Whether the per-layer times come from timestamp queries. */
  readonly timestamps: boolean;
  /** Median wall time of one inference: submit to readback. */
  readonly wallMs: number;
  /** Sum of the layers' median GPU times. */
  readonly gpuMs: number | null;
  readonly layers: readonly LayerProfile[];
}

/** A fixed-width table of a profile, one line per layer, for the CLI. */
export function formatProfile(p: SessionProfile): string {
  const head = ['layer', 'op', 'shape', 'bits', 'MACs', 'ms', 'GOP/s'];
  const rows = p.layers.map((l) => [l.layer, l.op, l.shape.join('x'), l.bits, l.macs > 0 ? String(l.macs) : '', l.medianMs === null ? '-' : l.medianMs.toFixed(3), l.gops === null ? '' : l.gops.toFixed(2)]);
  const total = p.gpuMs === null ? 'no timestamp-query: per-layer times unavailable' : `GPU ${p.gpuMs.toFixed(3)} ms (sum of layers)`;
  return [
    `adapter: ${p.adapter}`,
    `batch ${p.batch}, median of ${p.repeats} runs after ${p.warmup} warm-up: wall ${p.wallMs.toFixed(3)} ms per inference, ${total}`,
    ...formatTextTable(head, rows, { rightFrom: 4 }),
  ].join('\n');
}
