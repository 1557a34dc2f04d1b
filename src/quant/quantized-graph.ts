import type { AnalyticBiasCorrection } from './bias-correction.js';
import type { Graph, TensorInfo } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import type { LayerSetting, QuantConfig } from './config.js';
import type { QParams } from './qparams.js';

/**
 * The quantized graph: every layer in the integer form the shaders run.
 * Integer tensors are named as in the float graph; their parameters are in
 * `tensors`. Float tensors (graph inputs, the float islands of "float"
 * layers, the final logits) carry no parameters.
 */

/** Per-output-channel requantization: out = clamp(Z + MBQM(acc, m0[c], shift[c]), lo, hi). */
export interface Requant {
  m0: Int32Array;
  shift: Int32Array;
}

interface QBase {
  name: string;
  inputs: string[];
  outputs: string[];
}

/** Float -> integer with the output's parameters (round half to even, saturate). */
export interface QQuantizeLayer extends QBase {
  kind: 'quantize';
}

/** Integer -> float. */
export interface QDequantizeLayer extends QBase {
  kind: 'dequantize';
}

/** Convolution (any groups, depthwise included) and dense layers: integer weights, int32 bias, requantization. */
export interface QMatmulLayer extends QBase {
  kind: 'conv' | 'dense';
  /** The float layer, for its geometry (strides, pads, group). */
  layer: Extract<Layer, { op: 'conv' | 'dense' }>;
  weightShape: number[];
  /** Integer weights, narrow symmetric range of `weightBits`. */
  weights: Int32Array;
  weightBits: number;
  weightScales: Float32Array;
  /** int32 bias in units of S_w * S_in (zero where the float layer has none). */
  bias: Int32Array;
  requant: Requant;
}

/** Elementwise function of one input as a table over the input's integer range. */
export interface QLutLayer extends QBase {
  kind: 'lut';
  /** table[q - inputParams.lo] = output q. */
  table: Int32Array;
}

/**
 * Add/Sub: each input rescaled to a common fixed-point scale (left shift, then
 * its own multiplier), summed, then requantized. Mul: the product of the
 * zero-point-corrected inputs, requantized with S_a * S_b / S_out.
 */
export interface QBinaryLayer extends QBase {
  kind: 'add' | 'sub' | 'mul';
  leftShift: number;
  inputRequant: [Requant, Requant];
  outputRequant: Requant;
}

export interface QConcatLayer extends QBase {
  kind: 'concat';
  axis: number;
  /** One rescale per input (identity where the parameters already match). */
  inputRequant: Requant[];
}

/** Pools work on integers directly; average pools divide the zero-point-corrected sum, rounding half away from zero. */
export interface QPoolLayer extends QBase {
  kind: 'maxPool' | 'avgPool' | 'globalAvgPool' | 'globalMaxPool';
  layer: Layer;
}

/** Layers that only move integers: flatten, reshape, squeeze, unsqueeze, transpose, pad, resize, identity. */
export interface QMoveLayer extends QBase {
  kind: 'move';
  layer: Layer;
  /** pad: the integer that stands for the pad value. */
  padValue?: number;
}

/** A layer left in float: its inputs are dequantized, its output quantized where integer layers read it. */
export interface QFloatLayer extends QBase {
  kind: 'float';
  layer: Layer;
}

export type QLayer = QQuantizeLayer | QDequantizeLayer | QMatmulLayer | QLutLayer | QBinaryLayer | QConcatLayer | QPoolLayer | QMoveLayer | QFloatLayer;

export interface QuantizedGraph {
  name: string;
  config: QuantConfig;
  /** The prepared float graph it came from. */
  float: Graph;
  inputs: TensorInfo[];
  /** Float outputs, and the integer tensor each was dequantized from (what `outputDigest` hashes). */
  outputs: Array<TensorInfo & { integer?: string }>;
  layers: QLayer[];
  tensors: Map<string, QParams>;
  /** The setting each float layer got from the config. */
  settings: Map<string, LayerSetting>;
  /** Float constants that float layers read. */
  constants: Graph['constants'];
  /** Where a layer's setting asks for analytic bias correction: which layers got it, and why the others did not. */
  analyticBiasCorrection?: AnalyticBiasCorrection;
}
