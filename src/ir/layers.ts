import type { Dim } from './shape.js';

/**
 * The layer descriptors of the IR. Tensors are named; a layer's `inputs` may
 * name graph inputs, other layers' outputs or constants (weights live in
 * `Graph.constants`, so a weight read from a graph input works too, as in
 * ONNX's single-operator tests). Layout is NCHW throughout.
 */

/** Elementwise functions of one input that can be fused into the layer before. */
export type Activation =
  | { kind: 'relu' }
  /** ReLU6 is clip(0, 6). */
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'sigmoid' }
  /** max(0, min(1, alpha * x + beta)) */
  | { kind: 'hardSigmoid'; alpha: number; beta: number }
  /** x * relu6(x + 3) / 6 */
  | { kind: 'hardSwish' };

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

interface LayerBase {
  /** Unique layer name (the ONNX node name, or one made up from the output). */
  name: string;
  inputs: string[];
  outputs: string[];
}

interface Fusable {
  /** An activation applied to this layer's output (fused by the simplifier). */
  activation?: Activation;
}

interface SpatialWindow {
  strides: [number, number];
  dilations: [number, number];
  /** Explicit pads: top, left, bottom, right. Ignored unless `autoPad` is NOTSET. */
  pads: [number, number, number, number];
  autoPad: AutoPad;
}

/**
 * Per output channel, the normal distribution N(mean, std^2) of a layer's
 * output before its activation, where a batch-norm folded into the layer
 * states it (its beta and |gamma|): what analytic bias correction knows of
 * the next layer's input without seeing an image.
 */
export interface ChannelDistribution {
  mean: Float32Array;
  std: Float32Array;
}

/** Conv and Dense layers that absorbed a batch-norm remember its output distribution. */
interface KnownDistribution {
  outputDistribution?: ChannelDistribution;
}

/** inputs: [x, w, b?]; w is [M, C/group, kH, kW]. */
export interface ConvLayer extends LayerBase, Fusable, SpatialWindow, KnownDistribution {
  op: 'conv';
  group: number;
}

/** inputs: [x, w, b?]; w is [C, M/group, kH, kW]. */
export interface ConvTransposeLayer extends LayerBase, Fusable, SpatialWindow {
  op: 'convTranspose';
  group: number;
  outputPadding: [number, number];
  /** ONNX `output_shape` (spatial part); when given, pads are derived from it. */
  outputShape?: [number, number];
}

/** Fully connected: inputs [x, w, b?], x is [..., K], w is [units, K] (constant). */
export interface DenseLayer extends LayerBase, Fusable, KnownDistribution {
  op: 'dense';
}

/** General matrix product of two run-time tensors (ONNX Gemm with a non-constant B). */
export interface GemmLayer extends LayerBase, Fusable {
  op: 'gemm';
  alpha: number;
  beta: number;
  transA: boolean;
  transB: boolean;
}

/** Batched matrix product with broadcasting (ONNX MatMul of two run-time tensors). */
export interface MatMulLayer extends LayerBase, Fusable {
  op: 'matMul';
}

/** inputs: [x, scale, bias, mean, variance] over axis 1. */
export interface BatchNormLayer extends LayerBase, Fusable {
  op: 'batchNorm';
  epsilon: number;
}

export interface ActivationLayer extends LayerBase {
  op: 'activation';
  fn: Activation;
}

/** Broadcasting elementwise arithmetic of two tensors. */
export interface BinaryLayer extends LayerBase, Fusable {
  op: 'add' | 'sub' | 'mul' | 'div';
}

export interface ConcatLayer extends LayerBase {
  op: 'concat';
  axis: number;
}

export interface PoolLayer extends LayerBase, SpatialWindow {
  op: 'maxPool' | 'avgPool';
  kernel: [number, number];
  ceilMode: boolean;
  /** Average pool: whether padded elements count in the divisor. */
  countIncludePad: boolean;
}

export interface GlobalPoolLayer extends LayerBase {
  op: 'globalAvgPool' | 'globalMaxPool';
}

export interface FlattenLayer extends LayerBase {
  op: 'flatten';
  axis: number;
}

export interface ReshapeLayer extends LayerBase {
  op: 'reshape';
  /** Target shape: numbers, -1 (inferred), 0 (copied from the input unless allowZero), or symbols. */
  shape: Dim[];
  allowZero: boolean;
}

export interface SqueezeLayer extends LayerBase {
  op: 'squeeze' | 'unsqueeze';
  /** Empty for squeeze means: every dimension of size 1. */
  axes: number[];
}

export interface TransposeLayer extends LayerBase {
  op: 'transpose';
  perm: number[];
}

export interface PadLayer extends LayerBase {
  op: 'pad';
  /** ONNX layout: all begins, then all ends, one per axis. Negative values crop. */
  pads: number[];
  mode: 'constant' | 'reflect' | 'edge';
  value: number;
}

/** Nearest-neighbour resize (ONNX Resize/Upsample with mode nearest). */
export interface ResizeLayer extends LayerBase {
  op: 'resize';
  /** One scale per axis, or undefined when `sizes` is given. */
  scales?: number[];
  sizes?: number[];
  coordinateMode: 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel' | 'tf_half_pixel_for_nn';
  nearestMode: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
}

export interface SoftmaxLayer extends LayerBase {
  op: 'softmax';
  axis: number;
  /** Opsets before 13 coerce the input to 2-D at `axis` and normalise over all trailing axes. */
  coerce2d: boolean;
}

/** A copy; only kept where a graph output is another tensor under a second name. */
export interface IdentityLayer extends LayerBase {
  op: 'identity';
}

export type Layer =
  | IdentityLayer
  | ConvLayer
  | ConvTransposeLayer
  | DenseLayer
  | GemmLayer
  | MatMulLayer
  | BatchNormLayer
  | ActivationLayer
  | BinaryLayer
  | ConcatLayer
  | PoolLayer
  | GlobalPoolLayer
  | FlattenLayer
  | ReshapeLayer
  | SqueezeLayer
  | TransposeLayer
  | PadLayer
  | ResizeLayer
  | SoftmaxLayer;

export type LayerOp = Layer['op'];

export type FusableLayer = ConvLayer | ConvTransposeLayer | DenseLayer | GemmLayer | MatMulLayer | BatchNormLayer | BinaryLayer;

/** Layers that may carry a fused activation. */
export function isFusable(layer: Layer): layer is FusableLayer {
  switch (layer.op) {
    case 'conv':
    case 'convTranspose':
    case 'dense':
    case 'gemm':
    case 'matMul':
    case 'batchNorm':
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return true;
    default:
      return false;
  }
}
