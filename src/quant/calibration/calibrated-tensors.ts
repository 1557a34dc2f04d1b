import { QuantConfigError } from '../../errors.js';
import type { TensorStats } from './tensor-stats.js';

/**
 * The statistics of one calibration, by tensor name, and whether the graph
 * they were measured on was cross-layer equalized: equalization rescales the
 * tensors calibration measures, so statistics of one graph give wrong ranges
 * for the other, and `quantize` refuses the mix (see `checkStatsMatch`).
 */
export class CalibratedTensors extends Map<string, TensorStats> {
  constructor(
    entries: Iterable<readonly [string, TensorStats]>,
    readonly equalized: boolean,
  ) {
    super(entries);
  }
}

/** Whether statistics came from an equalized graph; a plain Map (made by hand) counts as not. */
export function statsEqualized(stats: ReadonlyMap<string, TensorStats>): boolean {
  return stats instanceof CalibratedTensors && stats.equalized;
}

/** Throws a QuantConfigError saying what to do where the statistics' graph and the quantized one differ in equalization. */
export function checkStatsMatch(stats: ReadonlyMap<string, TensorStats>, graphEqualized: boolean): void {
  const statsEq = statsEqualized(stats);
  if (statsEq === graphEqualized) return;
  if (graphEqualized) {
    throw new QuantConfigError('the model is cross-layer equalized (the config\'s equalize: true, or search --equalize) but the calibration statistics were collected without equalization: calibrate again with equalization (quantgpu calibrate --equalize, or calibrate(graph, images, { equalize: true })), or drop equalize');
  }
  throw new QuantConfigError('the calibration statistics were collected on the cross-layer equalized model but the config does not ask for equalization: add "equalize": true to the config (search: --equalize), or calibrate again without --equalize');
}
