/**
 * What `Session.profile` reports: per-layer GPU time from timestamp queries,
 * the whole inference's wall time, and with a roofline each layer's floor:
 * the time its operations and its memory traffic would take at the adapter's
 * measured peaks (src/gpu/peaks.ts).
 */
import type { AdapterPeaks } from '../gpu/peaks.js';
import { formatTextTable } from '../util/text-table.js';
import type { BatchPieces } from './batch-pieces.js';
import type { CommandGraph, Step } from './steps.js';

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
  /** Bytes the layer's passes read and write: input and output tensors, weights and tables. */
  readonly bytes: number;
  /** With a roofline: max(2 * macs / the peak of its arithmetic, bytes / the copy bandwidth), in ms. */
  readonly floorMs: number | null;
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
  /** The adapter's measured peaks the floors come from (profile with `roofline`). */
  readonly peaks?: AdapterPeaks;
  /** Where the batch runs in pieces (batch-pieces.ts): the times are one piece's, `batch` its size. */
  readonly pieces?: BatchPieces;
}

/** Bytes a step moves: every tensor it binds (read or written; of a tensor bound in a range, the range) and its constants. */
export function stepBytes(step: Step, graph: CommandGraph): number {
  let bytes = 0;
  for (const role of Object.values(step.plan.buffers)) {
    if (role.role === 'constant') bytes += role.range?.bytes ?? role.data.byteLength;
    else bytes += role.range?.bytes ?? (role.role === 'output' ? role.bytes : (graph.tensors.get(role.tensor)?.bytes ?? 0));
  }
  return bytes;
}

/**
 * The floor of a step at the adapter's peaks: its multiply-accumulates at
 * the rate of the arithmetic it uses (float32 FMA for float kernels,
 * dot4I8Packed or the unpacked vec4<i32> dot for integer ones), or its bytes
 * at the copy bandwidth, whichever takes longer; in ms.
 */
export function stepFloorMs(step: Step, bytes: number, peaks: AdapterPeaks): number {
  const variant = step.plan.variant as { readonly dot4?: boolean };
  const gops = step.bits === 'f32' ? peaks.f32Gflops : variant.dot4 === true && peaks.dot4Gops !== null ? peaks.dot4Gops : peaks.unpackedDotGops;
  const compute = step.macs > 0 ? (2 * step.macs) / (gops * 1e6) : 0;
  return Math.max(compute, bytes / (peaks.bandwidthGBs * 1e6));
}

/** A fixed-width table of a profile, one line per layer, for the CLI. */
export function formatProfile(p: SessionProfile): string {
  const roof = p.peaks !== undefined;
  const head = ['layer', 'op', 'shape', 'bits', 'MACs', 'ms', 'GOP/s', ...(roof ? ['floor ms', 'x floor'] : [])];
  const rows = p.layers.map((l) => [
    l.layer,
    l.op,
    l.shape.join('x'),
    l.bits,
    l.macs > 0 ? String(l.macs) : '',
    l.medianMs === null ? '-' : l.medianMs.toFixed(3),
    l.gops === null ? '' : l.gops.toFixed(2),
    ...(roof ? [l.floorMs === null ? '' : l.floorMs.toFixed(3), l.floorMs !== null && l.floorMs > 0 && l.medianMs !== null ? (l.medianMs / l.floorMs).toFixed(1) : ''] : []),
  ]);
  const peaks = p.peaks;
  const roofLine = peaks === undefined ? [] : [`peaks: f32 ${peaks.f32Gflops.toFixed(1)} GFLOP/s, dot4I8Packed ${peaks.dot4Gops === null ? '-' : `${peaks.dot4Gops.toFixed(1)} GOP/s`}, unpacked dot ${peaks.unpackedDotGops.toFixed(1)} GOP/s, copy ${peaks.bandwidthGBs.toFixed(1)} GB/s; floor: the layer's MACs or bytes at those rates, x floor: how far its time is from it`];
  // The peaks are wall-timed dispatches: on a fast GPU their launch overhead understates the rates, and a layer can beat its floor.
  const below = p.layers.filter((l) => l.floorMs !== null && l.medianMs !== null && l.medianMs < l.floorMs).length;
  if (below > 0) roofLine.push(`note: ${below} layer(s) ran faster than their floor: the measured peaks understate this adapter (they are timed from the host), so read the floors as bounds from below only where x floor >= 1`);
  const total = p.gpuMs === null ? 'no timestamp-query: per-layer times unavailable' : `GPU ${p.gpuMs.toFixed(3)} ms (sum of layers)`;
  return [
    `adapter: ${p.adapter}`,
    `batch ${p.batch}, median of ${p.repeats} runs after ${p.warmup} warm-up: wall ${p.wallMs.toFixed(3)} ms per inference, ${total}`,
    ...(p.pieces === undefined ? [] : [`the batch runs in ${p.pieces.count} pieces of at most ${p.pieces.size} (it exceeds the adapter's limits or memory at once): the times above are one piece's`]),
    ...roofLine,
    ...formatTextTable(head, rows, { rightFrom: 4 }),
  ].join('\n');
}
