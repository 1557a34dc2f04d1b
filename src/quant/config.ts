import { QuantConfigError } from '../errors.js';

export type Bits = 2 | 3 | 4 | 5 | 6 | 7 | 8 | 16;
export type Scheme = 'symmetric' | 'affine' | 'pow2';
export type Granularity = 'per-channel' | 'per-tensor';
export type CalibratorName = 'max' | 'percentile' | 'entropy' | 'mse';

/** How one layer is quantized (fields as in schema/quant-config.schema.json). */
export interface LayerQuant {
  weightBits: Bits;
  activationBits: Bits;
  scheme: Scheme;
  weightGranularity: Granularity;
  biasBits: number;
  calibrator: CalibratorName;
  /** The percentile of the percentile calibrator. */
  calibratorParam?: number;
  weightCalibrator: 'max' | 'mse';
  /**
   * pow2 only: the fractional offset n of Qm.n (scale 2^-n) of the weights (every
   * channel), of the biases (before they join the accumulator, whose scale is
   * the weights' times the input's) and of the layer's output activations.
   * Unset, calibration chooses them. Any integer: n may be negative or exceed the bits.
   */
  weightFractionalBits?: number;
  biasFractionalBits?: number;
  activationFractionalBits?: number;
  /**
   * How the weights land on their grid: to the nearest level, or to the level
   * AdaRound learned on calibration images (Nagel et al. 2020). Unset: nearest.
   */
  rounding?: WeightRounding;
  /**
   * Fold the quantized layer's expected output error into its bias: measured
   * over calibration images (empirical), or from the batch-norm statistics of
   * its input known at import (analytic; Nagel et al. 2019). Unset: none.
   */
  biasCorrection?: BiasCorrection;
}

export type WeightRounding = 'nearest' | 'adaround';
export type BiasCorrection = 'none' | 'empirical' | 'analytic';

export type LayerSetting = LayerQuant | 'float';

export interface QuantConfig {
  name?: string;
  default: LayerSetting;
  /** Overrides by layer name or glob; later keys win over earlier ones. */
  layers?: Record<string, Partial<LayerQuant> | 'float'>;
  /**
   * Cross-layer equalization (Nagel et al. 2019) of the float graph before
   * calibration: a whole-graph choice, since it changes the tensors that
   * calibration measures. Unset: false.
   */
  equalize?: boolean;
}

export const LAYER_DEFAULTS: Omit<LayerQuant, 'weightBits' | 'activationBits'> = {
  scheme: 'affine',
  weightGranularity: 'per-channel',
  biasBits: 32,
  calibrator: 'max',
  weightCalibrator: 'max',
};

const q = (weightBits: Bits, activationBits: Bits, extra: Partial<LayerQuant> = {}): LayerQuant => ({ ...LAYER_DEFAULTS, weightBits, activationBits, ...extra });

/** Named presets: `w{weight bits}a{activation bits}`. */
export const PRESETS: Readonly<Record<string, QuantConfig>> = {
  float: { name: 'float', default: 'float' },
  w8a8: { name: 'w8a8', default: q(8, 8) },
  'w8a8-pow2': { name: 'w8a8-pow2', default: q(8, 8, { scheme: 'pow2', weightGranularity: 'per-tensor' }) },
  w4a8: { name: 'w4a8', default: q(4, 8, { weightCalibrator: 'mse' }) },
  /** w4a8 with the post-training methods of issue 20: learned rounding and bias correction need `refine` first. */
  // No cross-layer equalization: with per-channel weights it measured no better, and on fashion-mbv3 0.4
  // points worse, than AdaRound alone (bench/adaround.ts); it pays with per-tensor weights (bench/equalization.ts).
  'w4a8-adaround': { name: 'w4a8-adaround', default: q(4, 8, { weightCalibrator: 'mse', rounding: 'adaround', biasCorrection: 'empirical' }) },
  w4a4: { name: 'w4a4', default: q(4, 4, { weightCalibrator: 'mse', calibrator: 'mse' }) },
  w2a8: { name: 'w2a8', default: q(2, 8, { weightCalibrator: 'mse' }) },
};

/** `*` matches any run of characters, `?` one; everything else literally. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The setting of one layer: the default, then every matching override in order. */
export function layerSetting(config: QuantConfig, layerName: string): LayerSetting {
  let setting: LayerSetting = config.default;
  for (const [pattern, override] of Object.entries(config.layers ?? {})) {
    if (pattern !== layerName && !globToRegExp(pattern).test(layerName)) continue;
    if (override === 'float') setting = 'float';
    else {
      const base: Partial<LayerQuant> = setting === 'float' ? {} : setting;
      const merged = { ...LAYER_DEFAULTS, ...base, ...override };
      if (merged.weightBits === undefined || merged.activationBits === undefined) {
        throw new QuantConfigError(`layers['${pattern}']: layer '${layerName}' is float by default, so the override must give weightBits and activationBits`);
      }
      setting = merged as LayerQuant;
    }
  }
  return setting;
}

/** Which override patterns match no layer at all (likely typos); reported, not fatal. */
export function unusedPatterns(config: QuantConfig, layerNames: readonly string[]): string[] {
  return Object.keys(config.layers ?? {}).filter((p) => !layerNames.some((n) => n === p || globToRegExp(p).test(n)));
}
