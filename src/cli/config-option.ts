import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { PRESETS, type CalibratorName, type QuantConfig } from '../quant/config.js';
import { parseQuantConfigText, resolveQuantConfig } from '../quant/config-json.js';

/** A preset name, a JSON file, or inline JSON. */
export function loadConfig(spec: string): QuantConfig {
  if (!existsSync(spec)) return resolveQuantConfig(spec, '--config');
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (e) {
    throw new InputError(`--config ${spec}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseQuantConfigText(text, spec);
}

/** The calibrator recorded by `calibrate --calibrator` applies to presets, which name none of their own choosing. */
export function withStatsCalibrator(config: QuantConfig, spec: string, statsCalibrator: string | undefined): QuantConfig {
  if (!statsCalibrator || !PRESETS[spec] || config.default === 'float') return config;
  const [name, param] = statsCalibrator.split(':');
  return { ...config, default: { ...config.default, calibrator: name as CalibratorName, ...(param ? { calibratorParam: Number(param) } : {}) } };
}
