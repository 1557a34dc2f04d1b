import { existsSync, readFileSync } from 'node:fs';
import { PRESETS, type CalibratorName, type QuantConfig } from '../quant/config.js';
import { parseQuantConfig, resolveQuantConfig } from '../quant/config-json.js';

/** A preset name, a JSON file, or inline JSON. */
export function loadConfig(spec: string): QuantConfig {
  return existsSync(spec) ? parseQuantConfig(JSON.parse(readFileSync(spec, 'utf8')), spec) : resolveQuantConfig(spec, '--config');
}

/** The calibrator recorded by `calibrate --calibrator` applies to presets, which name none of their own choosing. */
export function withStatsCalibrator(config: QuantConfig, spec: string, statsCalibrator: string | undefined): QuantConfig {
  if (!statsCalibrator || !PRESETS[spec] || config.default === 'float') return config;
  const [name, param] = statsCalibrator.split(':');
  return { ...config, default: { ...config.default, calibrator: name as CalibratorName, ...(param ? { calibratorParam: Number(param) } : {}) } };
}
