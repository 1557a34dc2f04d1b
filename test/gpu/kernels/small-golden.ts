/**
 * The golden side of the small-kernel tests: a one-layer QuantizedGraph built
 * by hand (quantize steps for its inputs, the layer, a dequantize step) run by
 * runQuantized, so every expected integer comes from the golden model itself.
 * Inputs are given as integer codes; the float fed to the quantize step is
 * (q - Z) * S, which quantizes back to q exactly.
 */
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import type { Graph } from '../../../src/ir/graph.js';
import type { Bits, QuantConfig, Scheme } from '../../../src/quant/config.js';
import { quantizeMultiplier } from '../../../src/quant/fixed-point.js';
import { activationRange, type QParams } from '../../../src/quant/qparams.js';
import type { QLayer, Requant } from '../../../src/quant/quantized-graph.js';
import { mulberry32 } from '../../helpers/random.js';

export interface GoldenInput {
  readonly name: string;
  readonly shape: number[];
  readonly params: QParams;
  readonly codes: Int32Array;
}

/** The output codes (NCHW) of `layer` on the given integer inputs, by the golden executor. */
export function goldenLayer(layer: QLayer, inputs: readonly GoldenInput[], outShape: number[], outParams: QParams): Int32Array {
  const out = layer.outputs[0]!;
  const tensors = new Map<string, QParams>([[out, outParams]]);
  const layers: QLayer[] = [];
  const feeds: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const i of inputs) {
    tensors.set(i.name, i.params);
    layers.push({ kind: 'quantize', name: `q_${i.name}`, inputs: [`${i.name}_f`], outputs: [i.name] });
    feeds[`${i.name}_f`] = { shape: i.shape, data: Float32Array.from(i.codes, (q) => (q - i.params.zeroPoint) * i.params.scale) };
  }
  layers.push(layer, { kind: 'dequantize', name: 'dq', inputs: [out], outputs: [`${out}_f`] });
  const infos = inputs.map((i) => ({ name: `${i.name}_f`, shape: i.shape }));
  const float: Graph = { name: 'one-layer', inputs: infos, outputs: [{ name: `${out}_f`, shape: outShape }], layers: [], constants: new Map(), shapes: new Map() };
  const captured = new Map<string, Float32Array>();
  const res = runQuantized(
    { name: 'one-layer', config: {} as QuantConfig, float, inputs: infos, outputs: [{ name: `${out}_f`, shape: outShape, integer: out }], layers, tensors, settings: new Map(), constants: new Map() },
    feeds,
    { onInteger: (name, t) => captured.set(name, t.data as Float32Array) },
  );
  for (const i of inputs) {
    const got = captured.get(i.name)!;
    if (!i.codes.every((q, k) => q === got[k])) throw new Error(`goldenLayer: input '${i.name}' did not quantize back to its codes`);
  }
  return res.integers[`${out}_f`]!;
}

/** A seeded generator. */
export const rng = mulberry32;

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Parameters of a `bits`-bit activation tensor of `scheme`, with a random scale and zero point. */
export function randomParams(r: () => number, bits: Bits, scheme: Scheme): QParams {
  const q = activationRange(bits, scheme);
  if (scheme === 'pow2') {
    const n = randInt(r, -2, 9);
    return { scale: 2 ** -n, zeroPoint: 0, bits, scheme, ...q, fractionalBits: n };
  }
  const scale = 0.002 + r() * 0.3;
  return { scale, zeroPoint: scheme === 'affine' ? randInt(r, q.lo, q.hi) : 0, bits, scheme, ...q };
}

export function randomCodes(r: () => number, count: number, p: QParams): Int32Array {
  return Int32Array.from({ length: count }, () => randInt(r, p.lo, p.hi));
}

export function requantOf(multipliers: ArrayLike<number>): Requant {
  const qs = Array.from(multipliers, (m) => quantizeMultiplier(m));
  return { m0: Int32Array.from(qs, (q) => q.m0), shift: Int32Array.from(qs, (q) => q.shift) };
}

export const BITS: readonly Bits[] = [2, 3, 4, 5, 6, 7, 8];
export const SCHEMES: readonly Scheme[] = ['affine', 'symmetric', 'pow2'];
