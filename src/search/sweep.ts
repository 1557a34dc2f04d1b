import type { Bits, CalibratorName, Granularity, LayerQuant, QuantConfig, Scheme } from '../quant/config.js';
import { LAYER_DEFAULTS } from '../quant/config.js';
import type { EvalBackend, Evaluation, Evaluator } from './evaluator.js';
import { inShard, type Shard } from './shard.js';

/** The uniform configs of a sweep: every combination of these, weights first. */
export interface SweepGrid {
  readonly weights: readonly Bits[];
  readonly activations: readonly Bits[];
  readonly schemes: readonly Scheme[];
  readonly granularities: readonly Granularity[];
  readonly calibrators: readonly CalibratorName[];
}

export const DEFAULT_SWEEP: SweepGrid = {
  weights: [8, 6, 5, 4, 3, 2],
  activations: [8, 6, 4],
  schemes: ['affine'],
  granularities: ['per-channel'],
  calibrators: ['max'],
};

/** One point of a sweep: its config and what it measured. */
export interface SweepPoint {
  /** The point's place in the grid's fixed order (what shards split on). */
  readonly id: number;
  readonly label: string;
  readonly config: QuantConfig;
  readonly evaluation: Evaluation;
}

/**
 * The grid's configs in a fixed order. Weights below 8 bits take the MSE
 * weight calibrator (as the presets do: at 4 bits and below, clipping the
 * largest weights beats keeping them); activations take the grid's
 * calibrator.
 */
export function sweepConfigs(grid: SweepGrid): Array<{ id: number; label: string; config: QuantConfig }> {
  const out: Array<{ id: number; label: string; config: QuantConfig }> = [];
  for (const scheme of grid.schemes) {
    for (const weightGranularity of grid.granularities) {
      for (const calibrator of grid.calibrators) {
        for (const weightBits of grid.weights) {
          for (const activationBits of grid.activations) {
            const setting: LayerQuant = { ...LAYER_DEFAULTS, weightBits, activationBits, scheme, weightGranularity, calibrator, weightCalibrator: weightBits < 8 ? 'mse' : 'max' };
            const label = `w${weightBits}a${activationBits} ${scheme} ${weightGranularity} ${calibrator}`;
            out.push({ id: out.length, label, config: { name: label, default: setting } });
          }
        }
      }
    }
  }
  return out;
}

/** Evaluates the grid's points (those of the shard, when given) one after the other. */
export async function sweep(
  evaluator: Evaluator,
  grid: SweepGrid,
  options: { backend?: EvalBackend; shard?: Shard; onPoint?: (done: number, total: number, p: SweepPoint) => void } = {},
): Promise<SweepPoint[]> {
  const mine = sweepConfigs(grid).filter((p) => inShard(p.id, options.shard));
  const points: SweepPoint[] = [];
  for (const p of mine) {
    const point = { ...p, evaluation: await evaluator.evaluate(p.config, options.backend ?? 'fake-quant') };
    points.push(point);
    options.onPoint?.(points.length, mine.length, point);
  }
  return points;
}
