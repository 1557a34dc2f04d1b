import { LAYER_DEFAULTS, type Bits, type LayerQuant, type QuantConfig } from '../quant/config.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';

/**
 * What a mixed-precision choice can change, read off a quantized graph:
 * layers with integer weights (convolutions and dense layers) have weight
 * bits; layers that own their output's quantization parameters (those, and
 * additions, products, concatenations, lookup tables) have activation bits.
 * Pools and data movement inherit their input's parameters and are not
 * choices of their own.
 */
export interface SearchSpace {
  /** Layer names in network order. */
  readonly weightLayers: readonly string[];
  readonly activationLayers: readonly string[];
}

const OWN_OUTPUT = new Set(['conv', 'dense', 'lut', 'add', 'sub', 'mul', 'concat']);

export function searchSpace(qg: QuantizedGraph): SearchSpace {
  const weightLayers: string[] = [];
  const activationLayers: string[] = [];
  for (const l of qg.layers) {
    if (l.kind === 'conv' || l.kind === 'dense') weightLayers.push(l.name);
    if (OWN_OUTPUT.has(l.kind)) activationLayers.push(l.name);
  }
  return { weightLayers, activationLayers };
}

/**
 * Where sensitivity tables and searches start, by scheme: 8-bit weights and
 * activations with the MSE calibrator for both (at 8 bits it matches max, and
 * at the low bitwidths a search reaches it clips better: bench/README.md);
 * `scaled` is affine activations with per-channel weights, `pow2` the
 * power-of-two fixed point of the presets (per-tensor weights).
 */
export const SEARCH_BASE: Readonly<Record<'scaled' | 'pow2', LayerQuant>> = {
  scaled: { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8, calibrator: 'mse', weightCalibrator: 'mse' },
  pow2: { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8, scheme: 'pow2', weightGranularity: 'per-tensor', calibrator: 'mse', weightCalibrator: 'mse' },
};

/** Per-layer bitwidths on top of a base setting: what sweeps, sensitivity cells and searches produce. */
export interface Assignment {
  readonly weights: Readonly<Record<string, Bits>>;
  readonly activations: Readonly<Record<string, Bits>>;
  /** pow2 only: fractional offsets by layer (the sequential search's choices). */
  readonly fractional?: Readonly<Record<string, Pick<LayerQuant, 'weightFractionalBits' | 'biasFractionalBits' | 'activationFractionalBits'>>>;
  /** Bias bits by layer (the sequential search's choices). */
  readonly biasBits?: Readonly<Record<string, number>>;
  /** Layers left in float (the sequential search's layers not yet reached). */
  readonly float?: readonly string[];
}

/**
 * The QuantConfig of an assignment: `base` as the default, and one override
 * per layer that the assignment sets (exact names, no globs), so that
 * `eval --config` runs exactly what was chosen.
 */
export function assignmentConfig(base: LayerQuant, a: Assignment, name?: string): QuantConfig {
  const layers: NonNullable<QuantConfig['layers']> = {};
  const names = new Set([...Object.keys(a.weights), ...Object.keys(a.activations), ...Object.keys(a.fractional ?? {}), ...Object.keys(a.biasBits ?? {})]);
  for (const layer of names) {
    const o: Partial<LayerQuant> = {};
    const w = a.weights[layer];
    const act = a.activations[layer];
    if (w !== undefined && w !== base.weightBits) o.weightBits = w;
    if (act !== undefined && act !== base.activationBits) o.activationBits = act;
    const b = a.biasBits?.[layer];
    if (b !== undefined && b !== base.biasBits) o.biasBits = b;
    Object.assign(o, a.fractional?.[layer] ?? {});
    if (Object.keys(o).length > 0) layers[layer] = o;
  }
  for (const layer of a.float ?? []) layers[layer] = 'float';
  return { ...(name ? { name } : {}), default: base, ...(Object.keys(layers).length > 0 ? { layers } : {}) };
}

/** A short label of an assignment's bits: `w4a8` when uniform, else `w2-8a4-8 (mixed)`. */
export function assignmentLabel(base: LayerQuant, a: Assignment): string {
  const range = (values: number[], fallback: number): string => {
    const all = values.length > 0 ? values : [fallback];
    const [lo, hi] = [Math.min(...all), Math.max(...all)];
    return lo === hi ? String(lo) : `${lo}-${hi}`;
  };
  const w = range(Object.values(a.weights), base.weightBits);
  const act = range(Object.values(a.activations), base.activationBits);
  return `w${w}a${act}${w.includes('-') || act.includes('-') ? ' (mixed)' : ''}`;
}
