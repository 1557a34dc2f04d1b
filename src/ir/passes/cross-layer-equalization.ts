import type { Constant, Graph } from '../graph.js';
import type { ChannelDistribution, Layer } from '../layers.js';
import { knownNumel } from '../shape.js';
import { GraphIndex } from './graph-index.js';

/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization
 * Through Weight Equalization and Bias Correction", section 4.1).
 *
 * For two weighted layers where output channel i of the first reaches input
 * channel i of the second only through positive-homogeneous functions
 * (f(s x) = s f(x) for s > 0: ReLU, LeakyReLU, max and average pools, a
 * flatten), dividing the first's channel i (weights and bias) by s_i and
 * multiplying the second's input channel i by s_i leaves the network's
 * function unchanged. With s_i = sqrt(r1_i * r2_i) / r2_i both channels end
 * with the range sqrt(r1_i * r2_i), so per-tensor weight grids waste less of
 * their levels on the widest channel. A layer in a chain belongs to two
 * pairs, so the pairs are swept until the scales settle.
 *
 * Ranges are max |w| (weights are quantized symmetrically). The first layer
 * may be a convolution (any group count where it is the first of a pair:
 * each output channel has its own filter) or a dense layer; the second a
 * convolution with one group, a depthwise convolution (its channel i is
 * input and output at once) or a dense layer.
 */

export interface EqualizedPair {
  first: string;
  second: string;
  /** The operators between them (empty when the second reads the first's output directly). */
  between: string[];
  channels: number;
}

export interface SkippedPair {
  /** The layer whose output channels could not be rescaled. */
  first: string;
  /** The layer that stopped the walk to the next weighted layer (that layer itself, when it is the one refused). */
  at: string;
  reason: string;
}

export interface EqualizationSummary {
  equalized: EqualizedPair[];
  skipped: SkippedPair[];
  /** Sweeps over the pairs until no scale moved by more than the tolerance. */
  sweeps: number;
}

/** Stop when every scale of a sweep is within this of 1. */
const TOLERANCE = 1e-6;
const MAX_SWEEPS = 200;

type Weighted = Extract<Layer, { op: 'conv' | 'dense' }>;

/**
 * Where channel c's weights lie in a flat weight tensor: `outer` runs of
 * `inner` consecutive elements, starting at o * outerStride + c * channelStride.
 */
interface ChannelLayout {
  channels: number;
  outer: number;
  outerStride: number;
  channelStride: number;
  inner: number;
}

function forChannel(l: ChannelLayout, c: number, f: (index: number) => void): void {
  for (let o = 0; o < l.outer; o++) {
    const start = o * l.outerStride + c * l.channelStride;
    for (let j = 0; j < l.inner; j++) f(start + j);
  }
}

/** The output channels of a conv (any group) or dense layer: one filter each. */
function outputLayout(w: Constant): ChannelLayout {
  const m = w.shape[0]!;
  const per = w.data.length / m;
  return { channels: m, outer: 1, outerStride: 0, channelStride: per, inner: per };
}

/**
 * The input channels of the second layer of a pair, where each channel of the
 * tensor between them is `block` consecutive elements of its input (1 for a
 * conv's NCHW channels, H*W where a flatten turned them into dense columns).
 */
function inputLayout(l: Weighted, w: Constant, block: number): ChannelLayout | string {
  if (l.op === 'dense') {
    const [units, k] = w.shape as [number, number];
    return { channels: k / block, outer: units, outerStride: k, channelStride: block, inner: block };
  }
  const [m, cPerGroup] = w.shape as [number, number];
  const window = w.data.length / (m * cPerGroup);
  if (l.group === 1) return { channels: cPerGroup, outer: m, outerStride: cPerGroup * window, channelStride: window, inner: window };
  if (cPerGroup === 1 && l.group === m) return { channels: m, outer: 1, outerStride: 0, channelStride: window, inner: window };
  return `grouped convolution (${l.group} groups)`;
}

/** What a layer between the pair does to channel i: passes it on scaled alike, or a reason why not. */
function passThrough(l: Layer): string | undefined {
  switch (l.op) {
    case 'maxPool':
    case 'avgPool':
    case 'globalAvgPool':
    case 'globalMaxPool':
    case 'flatten':
    case 'reshape':
      return undefined;
    case 'activation':
      if (l.fn.kind === 'relu' || l.fn.kind === 'leakyRelu') return undefined;
      return activationReason(l.fn);
    case 'add':
    case 'sub':
      return 'a residual add (its other input would need the same scales)';
    case 'concat':
      return 'a concat';
    default:
      return `${l.op} is not positive-homogeneous per channel`;
  }
}

function activationReason(a: { kind: string; min?: number; max?: number }): string {
  if (a.kind === 'clip') return `${a.min === 0 && a.max === 6 ? 'ReLU6' : 'clip'} between: its clip is not positive-homogeneous`;
  return `${a.kind} between is not positive-homogeneous`;
}

function fusedReason(l: Layer): string | undefined {
  if (!('activation' in l) || l.activation === undefined) return undefined;
  const a = l.activation;
  if (a.kind === 'relu' || a.kind === 'leakyRelu') return undefined;
  if (a.kind === 'clip' && a.min === 0 && a.max === Infinity) return undefined;
  return activationReason(a);
}

interface Pair {
  first: Weighted;
  second: Weighted;
  between: string[];
  out: ChannelLayout;
  in: ChannelLayout;
}

/** Walk from a weighted layer's output to the next weighted layer; a pair, or why there is none. */
function findPair(idx: GraphIndex, first: Weighted): Pair | SkippedPair {
  const graph = idx.graph;
  const skip = (at: string, reason: string): SkippedPair => ({ first: first.name, at, reason });
  const fused = fusedReason(first);
  if (fused) return skip(first.name, fused);
  const w1 = graph.constants.get(first.inputs[1]!);
  if (!w1) return skip(first.name, 'its weights are not a constant');
  const out = outputLayout(w1);
  const between: string[] = [];
  let tensor = first.outputs[0]!;
  let block = 1;
  for (;;) {
    if (idx.outputs.has(tensor)) return skip(first.name, `its output '${tensor}' is a graph output`);
    const readers = idx.readers.get(tensor) ?? [];
    if (readers.length !== 1) return skip(first.name, `'${tensor}' is read by ${readers.length} layers (a residual or a branch)`);
    const next = readers[0]!;
    if (next.op === 'conv' || next.op === 'dense') {
      if (next.inputs[0] !== tensor) return skip(next.name, `'${tensor}' is not its data input`);
      const w2 = graph.constants.get(next.inputs[1]!);
      if (!w2) return skip(next.name, 'its weights are not a constant');
      const inL = inputLayout(next, w2, block);
      if (typeof inL === 'string') return skip(next.name, inL);
      if (inL.channels !== out.channels) return skip(next.name, `${out.channels} output channels meet ${inL.channels} input channels`);
      return { first, second: next, between, out, in: inL };
    }
    const reason = passThrough(next) ?? fusedReason(next);
    if (reason) return skip(next.name, reason);
    if (next.op === 'flatten' || next.op === 'reshape') {
      // Only a flatten of NCHW into [N, C*H*W] keeps each channel a block of columns.
      const from = graph.shapes.get(tensor);
      const to = graph.shapes.get(next.outputs[0]!);
      const perImage = from ? knownNumel(from.slice(1)) : NaN;
      if (!from || !to || to.length !== 2 || to[1] !== perImage || !(perImage > 0) || typeof from[1] !== 'number') return skip(next.name, `${next.op} does not keep channels as blocks of columns`);
      block = (perImage / from[1]) * block;
    }
    between.push(next.op === 'activation' ? next.fn.kind : next.op);
    tensor = next.outputs[0]!;
  }
}

function maxAbs(w: ArrayLike<number>, l: ChannelLayout, c: number): number {
  let m = 0;
  forChannel(l, c, (i) => (m = Math.max(m, Math.abs(w[i]!))));
  return m;
}

/**
 * Equalize every pair it can; a new graph (constants replaced, the input
 * untouched) and what was done. The graph must have its shapes inferred.
 */
export function equalizeGraph(graph: Graph): { graph: Graph; summary: EqualizationSummary } {
  const idx = new GraphIndex(graph);
  const pairs: Pair[] = [];
  const skipped: SkippedPair[] = [];
  const readers = (name: string | undefined): number => (name === undefined ? 0 : idx.readers.get(name)?.length ?? 0);
  for (const l of graph.layers) {
    if (l.op !== 'conv' && l.op !== 'dense') continue;
    const p = findPair(idx, l);
    if (!('second' in p)) skipped.push(p);
    else if (p.first.inputs[2] && !graph.constants.has(p.first.inputs[2])) skipped.push({ first: l.name, at: l.name, reason: 'its bias is not a constant' });
    else if ([p.first.inputs[1], p.first.inputs[2], p.second.inputs[1]].some((c) => readers(c) > 1)) skipped.push({ first: l.name, at: p.second.name, reason: 'a weight or bias constant is shared with another layer' });
    else pairs.push(p);
  }
  // Working copies: every constant a pair touches, in float64 so sweeps add no float32 rounding until the end.
  const work = new Map<string, Float64Array>();
  const own = (name: string): Float64Array => {
    let a = work.get(name);
    if (!a) work.set(name, (a = Float64Array.from(graph.constants.get(name)!.data)));
    return a;
  };
  /** Per first layer: the product of the scales its output channels were divided by. */
  const divided = new Map<string, Float64Array>();
  let sweeps = 0;
  for (let moved = pairs.length > 0; moved && sweeps < MAX_SWEEPS; sweeps++) {
    moved = false;
    for (const p of pairs) {
      const w1 = own(p.first.inputs[1]!);
      const w2 = own(p.second.inputs[1]!);
      const b1 = p.first.inputs[2] ? own(p.first.inputs[2]) : undefined;
      let total = divided.get(p.first.name);
      if (!total) divided.set(p.first.name, (total = new Float64Array(p.out.channels).fill(1)));
      for (let c = 0; c < p.out.channels; c++) {
        const r1 = maxAbs(w1, p.out, c);
        const r2 = maxAbs(w2, p.in, c);
        if (r1 === 0 || r2 === 0) continue; // a dead channel: nothing to balance
        const s = Math.sqrt(r1 / r2); // = sqrt(r1 * r2) / r2
        if (Math.abs(s - 1) > TOLERANCE) moved = true;
        forChannel(p.out, c, (i) => (w1[i]! /= s));
        if (b1) b1[c]! /= s;
        forChannel(p.in, c, (i) => (w2[i]! *= s));
        total[c]! *= s;
      }
    }
  }
  const constants = new Map(graph.constants);
  for (const [name, data] of work) constants.set(name, { shape: graph.constants.get(name)!.shape, data: Float32Array.from(data) });
  // A batch-norm's output distribution scales with its channel (std stays positive: s > 0).
  const layers = graph.layers.map((l): Layer => {
    const total = divided.get(l.name);
    if (!total || (l.op !== 'conv' && l.op !== 'dense') || !l.outputDistribution) return l;
    const d: ChannelDistribution = l.outputDistribution;
    return { ...l, outputDistribution: { mean: d.mean.map((v, c) => v / total[c]!), std: d.std.map((v, c) => v / total[c]!) } };
  });
  const equalized = pairs.map((p) => ({ first: p.first.name, second: p.second.name, between: p.between, channels: p.out.channels }));
  return { graph: { ...graph, layers, constants }, summary: { equalized, skipped, sweeps } };
}

/** One line per pair, for a CLI's stderr. */
export function formatEqualization(s: EqualizationSummary): string {
  const lines = [`equalize: ${s.equalized.length} pair(s) equalized in ${s.sweeps} sweep(s), ${s.skipped.length} layer(s) left alone`];
  for (const p of s.equalized) lines.push(`  equalized ${p.first} -> ${p.second}${p.between.length ? ` (through ${p.between.join(', ')})` : ''}, ${p.channels} channels`);
  for (const p of s.skipped) lines.push(`  skipped ${p.first}${p.at !== p.first ? ` at ${p.at}` : ''}: ${p.reason}`);
  return lines.join('\n');
}
