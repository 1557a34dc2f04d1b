/**
 * A first convolution with few input channels, as a 1x1 reduction over an
 * im2col copy that the input's quantize step writes (shaders/quantize.wgsl).
 *
 * Channels travel four to a word, so a convolution reads one word per tap and
 * group of four input channels. With 1 or 3 input channels (a grey or RGB
 * image) that word is mostly padding: a 3x3 kernel on 3 channels reads nine
 * words for 27 values, on 1 channel nine words for 9. Quantizing the input
 * straight into windows, 27 values in 7 words per output position, turns the
 * layer into a 1x1 convolution with K = 27 on [N, 27, OH, OW]: fewer dots, no
 * padding tests, one load per word. The sum is the same, so the results stay
 * bit-exact with the golden model (the padding taps hold the real zero, as the
 * golden model's padding reads).
 */
import type { ConvLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import type { QuantizeWindow } from './quantize.js';

export interface Im2colConv {
  /** The window the quantize step reads through. */
  readonly window: QuantizeWindow;
  /** The layer as a 1x1 convolution over the im2col tensor: weights reordered to (kH, kW, C). */
  readonly layer: QMatmulLayer;
  /** The im2col tensor, [N, kH * kW * C, OH, OW]. */
  readonly shape: readonly [number, number, number, number];
}

/**
 * The im2col form of convolution `q` on an NCHW input of `inputShape`, or
 * undefined where it would not read fewer words (4 or more input channels,
 * a 1x1 kernel) or does not apply (groups, a dense layer).
 */
export function im2colConv(q: QMatmulLayer, inputShape: readonly number[]): Im2colConv | undefined {
  if (q.kind !== 'conv' || inputShape.length !== 4) return undefined;
  const layer = q.layer as ConvLayer;
  const [m, c, kH, kW] = q.weightShape as [number, number, number, number];
  if (layer.group !== 1 || inputShape[1] !== c) return undefined;
  // From 4 channels on a tap's words are full: the copy would only repeat the input kH * kW times.
  if (c >= 4 || kH * kW === 1) return undefined;
  const k = kH * kW * c;
  const [n, , h, w] = inputShape as [number, number, number, number];
  const [sH, sW] = layer.strides;
  const [dH, dW] = layer.dilations;
  const { padTop, padLeft, outH, outW } = resolveWindow2d(h, w, [kH, kW], layer);
  // ONNX order (m, c, ky, kx) to the lanes' order (m, ky, kx, c).
  const weights = new Int32Array(q.weights.length);
  for (let o = 0; o < m; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let t = 0; t < kH * kW; t++) weights[o * k + t * c + ci] = q.weights[(o * c + ci) * kH * kW + t]!;
    }
  }
  const pointwise: ConvLayer = { ...layer, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: 'NOTSET', group: 1 };
  return {
    window: { kH, kW, strideH: sH, strideW: sW, dilH: dH, dilW: dW, padTop, padLeft, outH, outW },
    layer: { ...q, layer: pointwise, weightShape: [m, k, 1, 1], weights },
    shape: [n, k, outH, outW],
  };
}
