import { QuantConfigError } from '../../errors.js';
import { TensorStats, type TensorStatsJSON } from './tensor-stats.js';
import { CalibratedTensors, statsEqualized } from './calibrated-tensors.js';

/**
 * One calibration run as plain JSON: the statistics of every tensor, by
 * tensor name. Statistics rather than ranges are stored so that one run
 * serves every config (any method, bitwidth or scheme) without touching the
 * calibration images again.
 */
export interface CalibrationStatsFile {
  format: 'quantgpu-calibration-stats';
  version: 1;
  /** Measured on the cross-layer equalized graph (QuantConfig.equalize); absent in files older than equalization: false. */
  equalized?: boolean;
  tensors: Record<string, TensorStatsJSON>;
}

export function statsToFile(stats: ReadonlyMap<string, TensorStats>): CalibrationStatsFile {
  const tensors: Record<string, TensorStatsJSON> = {};
  for (const [name, s] of stats) tensors[name] = s.toJSON();
  return { format: 'quantgpu-calibration-stats', version: 1, equalized: statsEqualized(stats), tensors };
}

/** Parse a file written by `statsToFile`; a bad field throws QuantConfigError naming it. */
export function statsFromFile(json: unknown): CalibratedTensors {
  if (typeof json !== 'object' || json === null) throw new QuantConfigError('calibration stats: expected an object');
  const o = json as Record<string, unknown>;
  if (o.format !== 'quantgpu-calibration-stats') throw new QuantConfigError(`calibration stats.format: expected 'quantgpu-calibration-stats', got ${String(o.format)}`);
  if (o.version !== 1) throw new QuantConfigError(`calibration stats.version: expected 1, got ${String(o.version)}`);
  if (o.equalized !== undefined && typeof o.equalized !== 'boolean') throw new QuantConfigError(`calibration stats.equalized: expected true or false, got ${JSON.stringify(o.equalized)}`);
  const tensors = o.tensors;
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) throw new QuantConfigError('calibration stats.tensors: expected an object');
  const out = new Map<string, TensorStats>();
  for (const [name, value] of Object.entries(tensors)) out.set(name, TensorStats.fromJSON(value, `calibration stats.tensors['${name}']`));
  return new CalibratedTensors(out, o.equalized === true);
}
