import type { Tensor } from '../cpu/tensor.js';
import type { GpuRunner } from '../host/gpu-runner.js';
import type { Bits, LayerQuant } from '../quant/config.js';
import type { EvalBackend, Evaluation, Evaluator } from './evaluator.js';
import { inShard, type Shard } from './shard.js';
import { assignmentConfig, type SearchSpace } from './space.js';

/** Which of a layer's tensors a cell lowers. */
export type TensorKind = 'weights' | 'activations';

/** One cell of the table: one layer's weights or activations alone at `bits`, every other choice at the reference's. */
export interface SensitivityCell {
  /** The cell's place in the table's fixed order (what shards split on). */
  readonly id: number;
  readonly layer: string;
  readonly kind: TensorKind;
  readonly bits: Bits;
  /** Accuracy against the reference's (a fraction; negative is a loss). */
  readonly accuracyDelta: number;
  /** The logits' SNR against float, in dB. */
  readonly sqnrDb: number;
  /** The logits' noise power (see Evaluation.noise) beyond the reference's. */
  readonly noiseDelta: number;
  /** What the whole model costs with this cell's choice (size and bit-operations against int8). */
  readonly sizeVsInt8: number;
  readonly bopsVsInt8: number;
}

export const SENSITIVITY_BITS: readonly Bits[] = [7, 6, 5, 4, 3, 2];

/** The table's cells in a fixed order: weights of each weight layer, then activations of each activation layer, bits falling. */
export function sensitivityCells(space: SearchSpace, bits: readonly Bits[] = SENSITIVITY_BITS): Array<{ id: number; layer: string; kind: TensorKind; bits: Bits }> {
  const out: Array<{ id: number; layer: string; kind: TensorKind; bits: Bits }> = [];
  for (const layer of space.weightLayers) for (const b of bits) out.push({ id: out.length, layer, kind: 'weights', bits: b });
  for (const layer of space.activationLayers) for (const b of bits) out.push({ id: out.length, layer, kind: 'activations', bits: b });
  return out;
}

/**
 * Per-layer sensitivity: for each layer and bitwidth, that layer alone
 * lowered (its weights, or its output activations) with every other choice
 * at the reference `base` (8 bits), evaluated on the evaluator's set
 * (the validation split: the search reads this table) by the fast
 * simulator unless `backend` says otherwise.
 */
export async function sensitivity(
  evaluator: Evaluator,
  space: SearchSpace,
  base: LayerQuant,
  options: { bits?: readonly Bits[]; backend?: EvalBackend; shard?: Shard; onCell?: (done: number, total: number) => void } = {},
): Promise<{ reference: Evaluation; cells: SensitivityCell[] }> {
  const backend = options.backend ?? 'fake-quant-fast';
  const anchor = { default: base };
  const reference = await evaluator.evaluate(anchor, backend);
  const mine = sensitivityCells(space, options.bits).filter((c) => inShard(c.id, options.shard));
  // Layer by layer in network order, so that the cells of one layer share the tensors before it (see Evaluator.evaluate's anchor).
  const order = new Map(evaluator.prepared.layers.map((l, i) => [l.name, i]));
  const byLayer = [...mine].sort((x, y) => order.get(x.layer)! - order.get(y.layer)! || x.id - y.id);
  const cells: SensitivityCell[] = [];
  for (const c of byLayer) {
    const a = c.kind === 'weights' ? { weights: { [c.layer]: c.bits }, activations: {} } : { weights: {}, activations: { [c.layer]: c.bits } };
    const e = await evaluator.evaluate(assignmentConfig(base, a), backend, { anchor });
    cells.push({
      ...c,
      accuracyDelta: e.accuracy - reference.accuracy,
      sqnrDb: e.sqnrDb,
      noiseDelta: e.noise - reference.noise,
      sizeVsInt8: e.sizeVsInt8,
      bopsVsInt8: e.bopsVsInt8,
    });
    options.onCell?.(cells.length, mine.length);
  }
  return { reference, cells: cells.sort((x, y) => x.id - y.id) };
}

/** The GPU storage of weights: 3-bit weights travel as 4-bit lanes, 5 to 7 as 8-bit ones (see the architecture page). */
export function weightLanes(bits: number): 2 | 4 | 8 {
  return bits <= 2 ? 2 : bits <= 4 ? 4 : 8;
}

/** Per-layer GPU milliseconds per image, by the weights' lane width: { 8: {layer: ms}, 4: ..., 2: ... }. */
export type LayerTimes = Partial<Record<2 | 4 | 8, Record<string, number>>>;

/**
 * Each layer's GPU time (median of timestamp queries, per image) at each
 * weight lane width, from three profiles of uniform configs (weights at 8, 4
 * and 2 bits, activations at the base's): activations travel as 8-bit lanes
 * whatever their bits, so a layer's time depends on its weights' lanes alone.
 */
export async function gpuLayerTimes(runner: GpuRunner, evaluator: Evaluator, base: LayerQuant, images: number = 8, lanes: ReadonlyArray<2 | 4 | 8> = [8, 4, 2]): Promise<LayerTimes> {
  const out: LayerTimes = {};
  // The first images of the evaluator's set: a profile wants a batch, not the whole set.
  const first = evaluator.set.batches[0]!;
  // A fixed-batch model takes its own batch only.
  const batch = evaluator.set.batch ?? Math.min(images, first.shape[0]!);
  const x: Tensor = { shape: [batch, ...first.shape.slice(1)], data: first.data.slice(0, (batch * first.data.length) / first.shape[0]!) };
  for (const lane of lanes) {
    const session = await runner.createSession(evaluator.quantize({ default: { ...base, weightBits: lane } }));
    try {
      const p = await session.profile(x, { warmup: 2, repeats: 5 });
      out[lane] = Object.fromEntries(p.layers.filter((l) => l.medianMs !== null).map((l) => [l.layer, l.medianMs! / batch]));
    } finally {
      await session.dispose();
    }
  }
  return out;
}
