import { activation, addN, binary, bound, constMath, softmax } from './graph-ops-elementwise.js';
import { conv, fusedBatchNorm, matMul, pool, reduce } from './graph-ops-compute.js';
import { cast, concat, expandDims, padOp, passThrough, reshape, squeeze, transpose } from './graph-ops-layout.js';
import { nhwcOnly, type GraphConverter } from './graph-op-helpers.js';

/** Converters by TF op name. Placeholder and Const are read by the importer itself. */
export const GRAPH_CONVERTERS: Record<string, GraphConverter> = {
  Conv2D: conv(false),
  _FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2dNative: conv(true),
  MatMul: matMul,
  _FusedMatMul: matMul,
  BiasAdd: (ctx, node) => {
    nhwcOnly(ctx, node);
    return binary('add')(ctx, node);
  },
  Add: binary('add'),
  AddV2: binary('add'),
  AddN: addN,
  Sub: binary('sub'),
  Mul: binary('mul'),
  RealDiv: binary('div'),
  Div: binary('div'),
  Maximum: bound('max'),
  Minimum: bound('min'),
  Relu: activation('Relu'),
  Relu6: activation('Relu6'),
  Sigmoid: activation('Sigmoid'),
  LeakyRelu: activation('LeakyRelu'),
  Softmax: softmax,
  Mean: reduce('globalAvgPool'),
  Max: reduce('globalMaxPool'),
  MaxPool: pool('maxPool'),
  AvgPool: pool('avgPool'),
  Pad: padOp('constant'),
  PadV2: padOp('constant'),
  MirrorPad: padOp('mirror'),
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concat,
  Transpose: transpose,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  Cast: cast,
  Identity: passThrough,
  StopGradient: passThrough,
  Snapshot: passThrough,
  PreventGradient: passThrough,
  EnsureShape: passThrough,
  IdentityN: (ctx, node) => node.inputs.map((_, i) => ctx.value(node, i)),
  Rsqrt: constMath((x) => 1 / Math.sqrt(x)),
  Sqrt: constMath(Math.sqrt),
  Square: constMath((x) => x * x),
  Neg: constMath((x) => -x),
  Reciprocal: constMath((x) => 1 / x),
};
