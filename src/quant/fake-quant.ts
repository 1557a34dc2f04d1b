import { runGraph } from '../cpu/float-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import type { Constant, Graph } from '../ir/graph.js';
import type { QParams } from './qparams.js';
import type { QuantizedGraph } from './quantized-graph.js';
import { dequantizeValue, quantizeValue } from './rounding.js';

/**
 * Fake quantization (the simulation method of Finotti & Albertini, 2021): the
 * float graph runs in float, but with the quantized weights and biases
 * (dequantized back to float) and with every tensor that is an integer in the
 * quantized graph rounded to its grid (quantize, then dequantize). It differs
 * from the golden model only in the rounding of the integer steps
 * (requantization, average pools, rescaled additions).
 */
export function fakeQuantGraph(qg: QuantizedGraph): Graph {
  const constants = new Map<string, Constant>(qg.float.constants);
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
  const layers = qg.float.layers.map((layer) => {
    if ((layer.op === 'conv' || layer.op === 'dense') && !layer.inputs[2] && constants.has(`${layer.name}.fake_quant_bias`)) {
      return { ...layer, inputs: [...layer.inputs, `${layer.name}.fake_quant_bias`] };
    }
    return layer;
  });
  return { ...qg.float, layers, constants };
}

function roundToGrid(t: Tensor, p: QParams): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = dequantizeValue(quantizeValue(d[i]!, p.scale, p.zeroPoint, p.lo, p.hi), p.scale, p.zeroPoint);
}

/** Run the fake-quantized float graph; returns the float outputs. */
export function runFakeQuant(qg: QuantizedGraph, fq: Graph, inputs: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const fed: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    const p = qg.tensors.get(name);
    const copy = { shape: t.shape, data: Float32Array.from(t.data) };
    if (p) roundToGrid(copy, p);
    fed[name] = copy;
  }
  // Shape-only layers share their input's array; rounding twice to the same grid changes nothing.
  return runGraph(fq, fed, {
    onLayer: (li, outs) =>
      fq.layers[li]!.outputs.forEach((o, k) => {
        const p = qg.tensors.get(o);
        if (p) roundToGrid(outs[k]!, p);
      }),
  });
}
