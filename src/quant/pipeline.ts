import type { PlanFacts } from '../runtime/operator.js';
import { validateForGpu } from '../runtime/validate.js';
import { QuantConfigError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { calibrateRange, type CalibrationMethod } from './calibration/calibrators.js';
import type { TensorStats } from './calibration/tensor-stats.js';
import { weightThresholds } from './calibration/weights.js';
import type { LayerQuant, QuantConfig } from './config.js';
import { quantizeGraph, type RangeOf, type WeightThresholds } from './quantize-graph.js';
import type { QuantizedGraph } from './quantized-graph.js';
import { collectStats, type CollectOptions } from './calibrate-graph.js';
import { prepareForQuantization, type PrepareOptions } from './prepare.js';
import { checkStatsMatch, type CalibratedTensors } from './calibration/calibrated-tensors.js';
import { checkRefinement, type Refinement } from './refine/refinement.js';
import type { Tensor } from '../cpu/tensor.js';

export function calibrationMethod(s: LayerQuant): CalibrationMethod {
  switch (s.calibrator) {
    case 'percentile':
      return { kind: 'percentile', percentile: s.calibratorParam ?? 99.99 };
    case 'entropy':
      return { kind: 'entropy' };
    case 'mse':
      return { kind: 'mse' };
    default:
      return { kind: 'max' };
  }
}

/** Activation ranges from calibration statistics, by each layer's calibrator, bitwidth and scheme. */
export function rangesFromStats(stats: ReadonlyMap<string, TensorStats>): RangeOf {
  return (tensor, s) => {
    const t = stats.get(tensor);
    if (!t) throw new QuantConfigError(`the calibration statistics have no entry for tensor '${tensor}' (calibrated on another model?)`);
    // A scale calibrated from NaN or infinity means nothing: the model (or its input) is broken there.
    if (t.nonFinite > 0) throw new QuantConfigError(`tensor '${tensor}': calibration saw ${t.nonFinite} NaN or infinite value(s) of ${t.count}; the float model overflows or divides by zero there`);
    return calibrateRange(t, calibrationMethod(s), s.activationBits, s.scheme !== 'affine');
  };
}

export const configuredWeightThresholds: WeightThresholds = (w, m, s) =>
  weightThresholds(w, m, s.weightGranularity, s.weightCalibrator === 'mse' ? { kind: 'mse', bits: s.weightBits } : { kind: 'max' });

export interface QuantizeOptions {
  /** An adapter's facts (Session.facts, Gpu.facts): the result is validated for it, and a layer its GPU cannot run is a GpuUnsupportedError naming every such layer. */
  readonly gpu?: PlanFacts;
  /**
   * What `refine` learned (AdaRound codes, empirical bias corrections): needed
   * where the config asks for `rounding: 'adaround'` or `biasCorrection: 'empirical'`,
   * and refused when learned for another model, config or calibration.
   */
  readonly refinement?: Refinement;
}

/**
 * The graph a config quantizes (equalized where it says so), once the
 * statistics are checked to be of that graph: what `quantize` and `refine` see.
 */
export function preparedFor(graph: Graph, stats: ReadonlyMap<string, TensorStats>, config: QuantConfig): Graph {
  const prepared = prepareForQuantization(graph, { equalize: config.equalize === true });
  checkStatsMatch(stats, prepared.equalization !== undefined);
  return prepared;
}

/**
 * Quantize a graph with a config, using one calibration's statistics (see
 * `calibrate`). With `config.equalize` (or a graph equalized already) the
 * statistics must come from the equalized graph, and without it from the
 * plain one; the result's `float.equalization` says what equalization did.
 */
export function quantize(graph: Graph, stats: ReadonlyMap<string, TensorStats>, config: QuantConfig, options: QuantizeOptions = {}): QuantizedGraph {
  const prepared = preparedFor(graph, stats, config);
  const ranges = rangesFromStats(stats);
  let qg = quantizeGraph(prepared, config, ranges, configuredWeightThresholds);
  // The fingerprints are those of the nearest-rounding graph: refine() learned on that one.
  checkRefinement(qg, options.refinement);
  if (options.refinement !== undefined) qg = quantizeGraph(prepared, config, ranges, configuredWeightThresholds, options.refinement.layers);
  if (options.gpu !== undefined) validateForGpu(qg, options.gpu);
  return qg;
}

/**
 * Activation statistics of every tensor over calibration images: one batch
 * (an NCHW float tensor, preprocessed as the model expects) or a stream of
 * them. One calibration serves every config: the calibrator (max,
 * percentile, entropy, MSE), bitwidths and schemes are applied by `quantize`.
 * The float passes run on ONNX Runtime where it loads (`executor: 'js'`
 * for our own executor, the reference); the statistics agree within float
 * rounding. With `equalize` the statistics are those of the cross-layer
 * equalized graph, and say so: `quantize` then needs `config.equalize`.
 */
export async function calibrate(
  graph: Graph,
  images: Tensor | AsyncIterable<Tensor> | Iterable<Tensor>,
  options: CollectOptions & PrepareOptions = {},
): Promise<CalibratedTensors> {
  const batches = 'shape' in images && 'data' in images ? [images] : images;
  return (await collectStats(prepareForQuantization(graph, { equalize: options.equalize === true }), batches, options)).tensors;
}
