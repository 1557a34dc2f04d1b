import { runGraph } from '../cpu/float-executor.js';
import { runQuantized } from '../cpu/golden/golden-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import type { QuantizedGraph } from './quantized-graph.js';

export interface TensorSqnr {
  tensor: string;
  bits: number;
  /** 10 log10(sum r^2 / sum (r - dequant(q))^2), in dB; Infinity when exact. */
  sqnrDb: number;
}

/**
 * Signal-to-quantization-noise ratio of every integer tensor of the golden
 * model against the float model's tensor of the same name, on one batch.
 * Errors accumulate along the graph, so later layers show the total effect.
 */
export function tensorSqnr(qg: QuantizedGraph, inputs: Readonly<Record<string, Tensor>>): TensorSqnr[] {
  const ref = runGraph(qg.float, inputs, { keepIntermediates: true });
  for (const i of qg.float.inputs) ref[i.name] = inputs[i.name]!;
  const out: TensorSqnr[] = [];
  runQuantized(qg, inputs, {
    onInteger: (name, t, p) => {
      const r = ref[name];
      if (!r || r.data.length !== t.data.length) return;
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < t.data.length; i++) {
        const x = r.data[i]!;
        const e = x - p.scale * (t.data[i]! - p.zeroPoint);
        signal += x * x;
        noise += e * e;
      }
      out.push({ tensor: name, bits: p.bits, sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise) });
    },
  });
  return out;
}

/** Top-1 agreement of two prediction lists. */
export function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? 0 : same / a.length;
}
