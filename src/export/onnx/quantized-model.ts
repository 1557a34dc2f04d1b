/**
 * What the quantized-model formats (QDQ, QONNX) share: the float operators
 * of the prepared graph, every integer tensor given its grid right after its
 * producer (graph inputs included), and the weights and bias of every integer
 * convolution and dense layer written from our codes, never re-rounded from
 * the float constants (AdaRound's codes survive). A format says how.
 */
import { UnsupportedOperatorError } from '../../errors.js';
import { intQuantRange } from '../../import/onnx/quantized/qonnx-op.js';
import { clampedParams, type QParams } from '../../quant/qparams.js';
import type { QMatmulLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import type { OnnxModelBuilder } from './builder.js';
import { writeGraph, type TensorRewrite } from './float-graph.js';

export interface QuantizedFormat {
  /** The format's name in errors. */
  name: string;
  /** Nodes that put integer tensor `tensor`, with parameters `p`, on its grid. */
  tensor(p: QParams, tensor: string): TensorRewrite;
  /** Nodes that define `name`, the layer's weights, from its integer codes. */
  weights(b: OnnxModelBuilder, name: string, l: QMatmulLayer): void;
  /** Nodes that define `name`, the layer's bias, from its int32 codes in units of S_in * S_w[c] (`inP` the input's parameters). */
  bias(b: OnnxModelBuilder, name: string, l: QMatmulLayer, inP: QParams): void;
}

/** The quantized graph as an ONNX model in `format`. */
export function writeQuantizedGraph(qg: QuantizedGraph, format: QuantizedFormat): Uint8Array {
  const constants = new Map<string, (b: OnnxModelBuilder, name: string) => void>();
  // A layer with no bias in the float model may have one in integers (a learned bias correction): it gets a bias input.
  const biased = new Map<string, string>();
  const floatConstants = new Map(qg.float.constants);
  for (const l of qg.layers) {
    if ((l.kind !== 'conv' && l.kind !== 'dense') || l.layer.inputs[2] !== undefined || l.bias.every((v) => v === 0)) continue;
    let name = `${l.layer.name}/bias`;
    while (floatConstants.has(name)) name += '_';
    floatConstants.set(name, { shape: [l.weightShape[0]!], data: new Float32Array(l.weightShape[0]!) });
    biased.set(l.layer.name, name);
  }
  const float = biased.size === 0 ? qg.float : { ...qg.float, constants: floatConstants, layers: qg.float.layers.map((x) => (biased.has(x.name) ? { ...x, inputs: [x.inputs[0]!, x.inputs[1]!, biased.get(x.name)!] } : x)) };
  for (const l of qg.layers) {
    if (l.kind !== 'conv' && l.kind !== 'dense') continue;
    const inP = qg.tensors.get(l.inputs[0]!)!;
    // A constant shared by two layers would carry one layer's codes and scales for both.
    for (const c of [l.layer.inputs[1]!, l.layer.inputs[2]]) {
      if (c !== undefined && qg.float.layers.filter((x) => x.inputs.includes(c)).length > 1) throw new UnsupportedOperatorError(l.name, l.layer.op, `shares its constant '${c}' with another layer, which ${format.name} export does not write`);
    }
    constants.set(l.layer.inputs[1]!, (b, name) => format.weights(b, name, l));
    // A layer with neither a float bias nor a learned one keeps none: its integer bias is all zero.
    const bias = l.layer.inputs[2] ?? biased.get(l.layer.name);
    if (bias !== undefined) constants.set(bias, (b, name) => format.bias(b, name, l, inP));
  }
  return writeGraph(float, {
    rewrite: (t) => {
      const p = qg.tensors.get(t);
      return p === undefined ? undefined : format.tensor(p, t);
    },
    constant: (name) => constants.get(name),
  }).bytes;
}

/**
 * For each tensor written by a layer with a fused ReLU or clip (or passed on
 * unchanged by pools and data movement, which keep their input's
 * parameters): the range that activation clamps the full code range to,
 * computed as the quantizer does. The float graph applies the activation
 * before the tensor's quantizer (QDQ's QuantizeLinear, QONNX's Quant), so
 * the full range there gives the same codes; any other narrower range
 * (a QONNX file's narrow activations, read back) has to be written as such.
 */
export function fusedClamps(qg: QuantizedGraph): (t: string) => QParams | undefined {
  const producer = new Map(qg.float.layers.flatMap((l) => l.outputs.map((o) => [o, l] as const)));
  return (t) => {
    for (let cur = t; ; ) {
      const l = producer.get(cur);
      if (l === undefined) return undefined;
      const a = 'activation' in l ? l.activation : undefined;
      const p = qg.tensors.get(cur)!;
      if (a?.kind === 'relu' || a?.kind === 'clip') {
        const full = { ...p, ...intQuantRange(p.bits, p.scheme !== 'affine', false) };
        return a.kind === 'relu' ? clampedParams(full, 0, Infinity) : clampedParams(full, a.min, a.max);
      }
      const from = l.inputs[0];
      if (from === undefined || qg.tensors.get(from) !== p) return undefined;
      cur = from;
    }
  };
}
