import { activationLayer, leakyRelu, relu, softmaxLayer } from './layers-activations.js';
import type { LayerConverter } from './layers-context.js';
import { batchNorm, conv2d, dense, depthwiseConv2d, globalPool, pool, separableConv2d } from './layers-ops-compute.js';
import { average, concatenate, flatten, merge, passThrough, permuteLayer, reshape, rescaling, upSampling, padOrCrop } from './layers-ops-layout.js';

/** Converters by Keras class name (aliases included). */
export const LAYER_CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: conv2d,
  Convolution2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  SeparableConvolution2D: separableConv2d,
  Dense: dense,
  BatchNormalization: batchNorm,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  Activation: activationLayer,
  Softmax: softmaxLayer,
  ZeroPadding2D: padOrCrop(1),
  Cropping2D: padOrCrop(-1),
  Add: merge('add'),
  Subtract: merge('sub'),
  Multiply: merge('mul'),
  Average: average,
  Concatenate: concatenate,
  MaxPooling2D: pool('maxPool'),
  MaxPool2D: pool('maxPool'),
  AveragePooling2D: pool('avgPool'),
  AvgPool2D: pool('avgPool'),
  GlobalAveragePooling2D: globalPool('globalAvgPool'),
  GlobalAvgPool2D: globalPool('globalAvgPool'),
  GlobalMaxPooling2D: globalPool('globalMaxPool'),
  GlobalMaxPool2D: globalPool('globalMaxPool'),
  Flatten: flatten,
  Reshape: reshape,
  Permute: permuteLayer,
  UpSampling2D: upSampling,
  Rescaling: rescaling,
  // Training-only layers are the identity at inference.
  Dropout: passThrough,
  SpatialDropout2D: passThrough,
  GaussianNoise: passThrough,
  GaussianDropout: passThrough,
  AlphaDropout: passThrough,
  ActivityRegularization: passThrough,
};
