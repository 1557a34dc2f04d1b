import type { Graph } from '../ir/graph.js';
import type { Activation, Layer } from '../ir/layers.js';
import { GraphIndex } from '../ir/passes/graph-index.js';
import { endInside, firstInside, resolveWindow2d } from '../ir/window.js';

/**
 * Analytic bias correction (Nagel et al. 2019, "Data-Free Quantization
 * Through Weight Equalization and Bias Correction", section 4.2).
 *
 * Quantized weights W~ = W + dW shift a layer's expected output by
 * dW E[x]. Where the layer's input comes from a layer that absorbed a
 * batch-norm (its output before the activation is N(beta, gamma^2) per
 * channel, see ChannelDistribution), E[x] per input channel is known without
 * an image: beta itself with no activation between, the mean of the clipped
 * normal through a ReLU or a clip (ReLU6), the same mean through average
 * pools and a flatten, the sum of the means through a residual add. Subtracting dW E[x] from the bias per output channel
 * removes the expected error. A bias is one number per channel, so a
 * convolution gets the error averaged over its output positions: each tap's
 * share counts only the positions where it reads the input, not padding.
 */

/** What analytic bias correction did over a quantized graph. */
export interface AnalyticBiasCorrection {
  corrected: string[];
  /** Layers asked to be corrected whose input mean is not known, and why. */
  skipped: Array<{ layer: string; reason: string }>;
}

/** Standard normal density and distribution function. */
function phi(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** The normal CDF, through the Chebyshev fit of erfc in Numerical Recipes (fractional error below 1.2e-7: far below 4-bit weight errors). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * E[min(max(X, lo), hi)] for X ~ N(mean, std^2), lo < hi (either may be
 * infinite): lo P(X < lo) + hi P(X > hi) + the normal's mass in between times
 * its mean there.
 */
export function clippedNormalMean(mean: number, std: number, lo: number, hi: number): number {
  if (std === 0) return Math.min(hi, Math.max(lo, mean));
  const a = (lo - mean) / std;
  const b = (hi - mean) / std;
  const [Pa, Pb] = [lo === -Infinity ? 0 : normalCdf(a), hi === Infinity ? 1 : normalCdf(b)];
  const [pa, pb] = [lo === -Infinity ? 0 : phi(a), hi === Infinity ? 0 : phi(b)];
  return (lo === -Infinity ? 0 : lo * Pa) + (hi === Infinity ? 0 : hi * (1 - Pb)) + mean * (Pb - Pa) + std * (pa - pb);
}

function clampOf(a: Activation | undefined): { lo: number; hi: number } | string {
  if (a === undefined) return { lo: -Infinity, hi: Infinity };
  if (a.kind === 'relu') return { lo: 0, hi: Infinity };
  if (a.kind === 'clip') return { lo: a.min, hi: a.max };
  return `${a.kind} between: the mean of its output is not known in closed form here`;
}

/** What is known of a tensor per channel: its mean, and its normal distribution where it still is one. */
interface Known {
  mean: Float64Array;
  normal?: { mean: Float32Array; std: Float32Array };
}

/** Layers that keep each channel's mean (average pools: padding ignored) or the whole tensor (reshapes). */
const MEAN_KEEPING = new Set<Layer['op']>(['avgPool', 'globalAvgPool']);
const RESHAPING = new Set<Layer['op']>(['flatten', 'reshape', 'identity']);

function clipped(k: Known, c: { lo: number; hi: number }, what: string): Known | string {
  if (c.lo === -Infinity && c.hi === Infinity) return k;
  if (!k.normal) return `${what} of a tensor that is no longer normal: its mean is not known from the means before`;
  const { mean, std } = k.normal;
  return { mean: Float64Array.from(mean, (m, ch) => clippedNormalMean(m, std[ch]!, c.lo, c.hi)) };
}

/** What is known of a tensor from the batch-norms folded before it, or why nothing is. */
function knownOf(tensor: string, idx: GraphIndex): Known | string {
  const p = idx.producer.get(tensor);
  if (!p) return idx.graph.constants.has(tensor) ? `'${tensor}' is a constant` : `its input '${tensor}' is a graph input: no batch-norm statistics`;
  if (p.op === 'conv' || p.op === 'dense') {
    if (!p.outputDistribution) return `'${p.name}' before it folded no batch-norm: its output distribution is not known`;
    const c = clampOf(p.activation);
    if (typeof c === 'string') return c;
    const { mean, std } = p.outputDistribution;
    return clipped({ mean: Float64Array.from(mean), normal: { mean, std } }, c, p.activation?.kind ?? 'identity');
  }
  if (p.op === 'activation') {
    const c = clampOf(p.fn);
    if (typeof c === 'string') return c;
    const k = knownOf(p.inputs[0]!, idx);
    return typeof k === 'string' ? k : clipped(k, c, p.fn.kind);
  }
  if (RESHAPING.has(p.op)) return knownOf(p.inputs[0]!, idx);
  if (MEAN_KEEPING.has(p.op)) {
    const k = knownOf(p.inputs[0]!, idx);
    return typeof k === 'string' ? k : { mean: k.mean };
  }
  if ((p.op === 'add' || p.op === 'sub') && !p.activation) {
    // A residual sum: means add whatever the two branches' correlation (the sum's distribution does not).
    const [a, b] = [knownOf(p.inputs[0]!, idx), knownOf(p.inputs[1]!, idx)];
    if (typeof a === 'string') return a;
    if (typeof b === 'string') return b;
    if (a.mean.length !== b.mean.length) return `${p.op} '${p.name}' broadcasts ${a.mean.length} channels against ${b.mean.length}`;
    return { mean: a.mean.map((v, c) => (p.op === 'add' ? v + b.mean[c]! : v - b.mean[c]!)) };
  }
  if (p.op === 'add' || p.op === 'sub') return `${p.op} with ${p.activation!.kind} between: the mean of a clipped sum needs the sum's distribution`;
  return `${p.op} between: it does not keep each channel's mean`;
}

/**
 * E[x] per channel of a conv or dense layer's data input, from the output
 * distributions of the layers before it; or why it is not known.
 */
export function expectedInput(graph: Graph, layer: Extract<Layer, { op: 'conv' | 'dense' }>, idx = new GraphIndex(graph)): Float64Array | string {
  const k = knownOf(layer.inputs[0]!, idx);
  return typeof k === 'string' ? k : k.mean;
}

/**
 * Per kernel tap (ky * kw + kx), the share of a convolution's output
 * positions at which that tap reads the input rather than padding: a padded
 * tap multiplies zero, so its weight error adds nothing there. All ones where
 * the input's height or width is not known.
 */
export function tapShares(graph: Graph, layer: Extract<Layer, { op: 'conv' }>, kernel: readonly [number, number]): Float64Array {
  const [kh, kw] = kernel;
  const shares = new Float64Array(kh * kw).fill(1);
  const shape = graph.shapes.get(layer.inputs[0]!);
  const [h, w] = [shape?.[2], shape?.[3]];
  if (typeof h !== 'number' || typeof w !== 'number') return shares;
  const win = resolveWindow2d(h, w, kernel, layer);
  const axis = (k: number, size: number, out: number, pad: number, stride: number, dilation: number): number => {
    if (out <= 0) return 0;
    const offset = k * dilation - pad; // input position of this tap at output 0
    return Math.max(0, Math.min(out, endInside(offset, stride, size)) - Math.min(out, firstInside(offset, stride))) / out;
  };
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      shares[ky * kw + kx] = axis(ky, h, win.outH, win.padTop, layer.strides[0], layer.dilations[0]) * axis(kx, w, win.outW, win.padLeft, layer.strides[1], layer.dilations[1]);
    }
  }
  return shares;
}

/**
 * The mean, over the layer's output positions, of the input element that
 * weight element i of output channel o multiplies: its input channel's mean
 * times the share of positions where that tap is inside the input (a dense
 * layer after a flatten sees each channel as a block of K / C columns).
 */
export function weightInputMeans(graph: Graph, layer: Extract<Layer, { op: 'conv' | 'dense' }>, weightShape: readonly number[], channelMeans: Float64Array): ((o: number, i: number) => number) | string {
  const m = weightShape[0]!;
  const k = weightShape.reduce((a, d) => a * d, 1) / m;
  if (layer.op === 'dense') {
    if (k % channelMeans.length !== 0) return `${k} input columns do not split into ${channelMeans.length} channels`;
    const block = k / channelMeans.length;
    return (_o, i) => channelMeans[Math.floor(i / block)]!;
  }
  const cPerGroup = weightShape[1]!;
  const window = k / cPerGroup;
  const mPerGroup = m / layer.group;
  if (cPerGroup * layer.group !== channelMeans.length) return `${cPerGroup * layer.group} input channels meet ${channelMeans.length} known means`;
  const shares = tapShares(graph, layer, [weightShape[2] ?? 1, weightShape[3] ?? 1]);
  return (o, i) => channelMeans[Math.floor(o / mPerGroup) * cPerGroup + Math.floor(i / window)]! * shares[i % window]!;
}

/**
 * The float bias with the expected error of the quantized weights removed:
 * b - (W~ - W) E[x] per output channel, W~ = q * scale.
 */
export function correctedBias(
  bias: Float32Array,
  w: Float32Array,
  q: Int32Array,
  scales: Float32Array,
  inputMean: (o: number, i: number) => number,
): Float64Array {
  const m = scales.length;
  const k = w.length / m;
  const out = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    let err = 0;
    for (let i = 0; i < k; i++) err += (q[o * k + i]! * scales[o]! - w[o * k + i]!) * inputMean(o, i);
    out[o] = bias[o]! - err;
  }
  return out;
}
