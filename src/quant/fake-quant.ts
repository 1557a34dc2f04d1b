import { runGraph } from '../cpu/float-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import type { Constant, Graph } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import { requantize } from './fixed-point.js';
import type { QParams } from './qparams.js';
import type { QMatmulLayer, QuantizedGraph } from './quantized-graph.js';
import { dequantizeValue, quantizeValue, roundHalfEven } from './rounding.js';

/**
 * How closely the simulator follows the engine. `exact` requantizes
 * convolution and dense outputs as the golden model does (below); `fast`
 * rounds them like every other tensor, but for power-of-two multipliers
 * (see `requantizedLayers`): 5x faster on ONNX Runtime, and what a search
 * ranks candidates with before the golden model decides.
 */
export type FakeQuantFidelity = 'exact' | 'fast';

/**
 * Fake quantization (the simulation method of Finotti & Albertini, 2021): the
 * float graph runs in float, but with the quantized weights and biases
 * (dequantized back to float) and with every tensor that is an integer in the
 * quantized graph rounded to its grid (quantize, then dequantize).
 *
 * Convolution and dense outputs whose requantization shifts right by few bits
 * are not rounded but requantized as the golden model does it
 * (`requantizeLike`): the float output is S_in * S_w * acc, the accumulator
 * is read back from it, and the fixed-point multiplier with its two
 * roundings (docs/quantization.md eq. 15) gives the output code. Plain
 * rounding would differ from the engine in one output in 2^(shift+1): up to
 * a few percent of the outputs of 4-bit layers, whose multipliers are large
 * (with it, top-1 agreement with the golden model at w4a8 rose from
 * 95.8-98.8% to 99.8-100% on the zoo, 500 test images). Their clamp activation (ReLU, ReLU6) is the
 * requantization's clamp, so it leaves the float layer.
 * What remains different from the golden model: float rounding of the
 * accumulation, and the rounding of the other integer steps (average pools,
 * rescaled additions and products).
 */
export function fakeQuantGraph(qg: QuantizedGraph, fidelity: FakeQuantFidelity = 'exact'): Graph {
  const constants = new Map<string, Constant>(qg.float.constants);
  const matmuls = requantizedLayers(qg, fidelity);
  for (const l of qg.layers) {
    if (l.kind !== 'conv' && l.kind !== 'dense') continue;
    const m = l.weightShape[0]!;
    const k = l.weights.length / m;
    const inScale = qg.tensors.get(l.inputs[0]!)!.scale;
    const w = new Float32Array(l.weights.length);
    const b = new Float32Array(m);
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < k; i++) w[c * k + i] = l.weights[c * k + i]! * l.weightScales[c]!;
      b[c] = l.bias[c]! * l.weightScales[c]! * inScale;
    }
    constants.set(l.layer.inputs[1]!, { shape: l.weightShape, data: w });
    constants.set(l.layer.inputs[2] ?? `${l.name}.fake_quant_bias`, { shape: [m], data: b });
  }
  const integer = new Set(qg.layers.filter((l) => l.kind === 'conv' || l.kind === 'dense').map((l) => l.outputs[0]!));
  const layers = qg.float.layers.map((layer): Layer => {
    if ((layer.op !== 'conv' && layer.op !== 'dense') || !integer.has(layer.outputs[0]!)) return layer;
    const withBias = layer.inputs[2] ? layer : { ...layer, inputs: [...layer.inputs, `${layer.name}.fake_quant_bias`] };
    if (!matmuls.has(layer.outputs[0]!)) return withBias;
    const { activation: _clamp, ...bare } = withBias;
    return bare;
  });
  return { ...qg.float, layers, constants };
}

/**
 * Right shifts from which the two roundings of eq. 15 differ from one in
 * fewer than one output in 2^13: layers whose every channel shifts this far
 * are simply rounded, which is cheaper on every executor. In the zoo no layer
 * does (right shifts of 3 to 12 at w8a8, -1 to 8 at w4a8), so every integer
 * convolution and dense layer is requantized.
 */
const DOUBLE_ROUNDING_MATTERS_BELOW = 12;

/**
 * Whether a layer's multipliers are all powers of two (m0 = 2^30, a right
 * shift): its outputs land on exact ties often, where the golden model rounds
 * away from zero and float rounding goes to even, so even the `fast`
 * simulator requantizes them. Every step of that is exact in float32.
 */
export function powerOfTwoRequant(l: QMatmulLayer): boolean {
  return l.requant.m0.every((m, c) => m === 2 ** 30 && l.requant.shift[c]! > 0);
}

/**
 * The integer convolution and dense layers whose outputs are requantized as
 * the golden model does rather than rounded (by output tensor). `exact`: those
 * with a channel whose requantization shifts right by 1 to 11 bits, and those
 * with power-of-two multipliers. `fast`: the power-of-two ones only (plain
 * rounding would put the pow2 scheme's outputs off by a step on every tie).
 */
export function requantizedLayers(qg: QuantizedGraph, fidelity: FakeQuantFidelity = 'exact'): Map<string, QMatmulLayer> {
  const out = new Map<string, QMatmulLayer>();
  for (const l of qg.layers) {
    if (l.kind !== 'conv' && l.kind !== 'dense') continue;
    const small = l.requant.shift.some((s) => s > 0 && s < DOUBLE_ROUNDING_MATTERS_BELOW);
    if (powerOfTwoRequant(l) || (fidelity === 'exact' && small)) out.set(l.outputs[0]!, l);
  }
  return out;
}

/** Where a layer's output channel sits: axis 1 for convolutions (NCHW), the last axis for dense layers. */
export function channelOf(l: QMatmulLayer, shape: readonly number[]): (index: number) => number {
  const m = l.weightShape[0]!;
  if (l.kind === 'dense') return (i) => i % m;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / plane) % m;
}

function roundToGrid(t: Tensor, p: QParams): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = dequantizeValue(quantizeValue(d[i]!, p.scale, p.zeroPoint, p.lo, p.hi), p.scale, p.zeroPoint);
}

/**
 * A float convolution or dense output (S_in * S_w[c] * acc, bias included) to
 * the golden model's output, in place: acc read back to the nearest integer,
 * then requantize (eq. 17) and dequantize.
 */
function requantizeLike(t: Tensor, l: QMatmulLayer, pIn: QParams, pOut: QParams): void {
  const d = t.data;
  const channel = channelOf(l, t.shape);
  for (let i = 0; i < d.length; i++) {
    const c = channel(i);
    const acc = roundHalfEven(d[i]! / (pIn.scale * l.weightScales[c]!));
    d[i] = dequantizeValue(requantize(acc, l.requant.m0[c]!, l.requant.shift[c]!, pOut.zeroPoint, pOut.lo, pOut.hi), pOut.scale, pOut.zeroPoint);
  }
}

/** Run the fake-quantized float graph; returns the float outputs. */
export function runFakeQuant(qg: QuantizedGraph, fq: Graph, inputs: Readonly<Record<string, Tensor>>, fidelity: FakeQuantFidelity = 'exact'): Record<string, Tensor> {
  const fed: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    const p = qg.tensors.get(name);
    const copy = { shape: t.shape, data: Float32Array.from(t.data) };
    if (p) roundToGrid(copy, p);
    fed[name] = copy;
  }
  const matmuls = requantizedLayers(qg, fidelity);
  // Shape-only layers share their input's array; rounding twice to the same grid changes nothing.
  return runGraph(fq, fed, {
    onLayer: (li, outs) =>
      fq.layers[li]!.outputs.forEach((o, k) => {
        const p = qg.tensors.get(o);
        const l = matmuls.get(o);
        if (l) requantizeLike(outs[k]!, l, qg.tensors.get(l.inputs[0]!)!, p!);
        else if (p) roundToGrid(outs[k]!, p);
      }),
  });
}
