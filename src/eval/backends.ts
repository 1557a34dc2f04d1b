import { runGraph } from '../cpu/float-executor.js';
import { runQuantized } from '../cpu/golden/golden-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import type { Graph } from '../ir/graph.js';
import { runFakeQuant, fakeQuantGraph } from '../quant/fake-quant.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { quantizeValue } from '../quant/rounding.js';

export const CPU_BACKENDS = ['cpu-float', 'cpu-golden', 'fake-quant'] as const;
export type CpuBackend = (typeof CPU_BACKENDS)[number];

/** One batch through a backend: the logits, and the integers that `outputDigest` hashes. */
export interface BackendRun {
  logits: Tensor;
  /** Integer outputs (quantized backends) or the float32 bit patterns (cpu-float), in image order. */
  digestWords: Int32Array;
}

export type Backend = (x: Tensor) => BackendRun;

export function cpuBackend(name: CpuBackend, graph: Graph, qg?: QuantizedGraph): Backend {
  const input = graph.inputs[0]!.name;
  const output = graph.outputs[0]!.name;
  if (name === 'cpu-float') {
    return (x) => {
      const logits = runGraph(graph, { [input]: x })[output]!;
      return { logits, digestWords: new Int32Array(logits.data.buffer, logits.data.byteOffset, logits.data.length) };
    };
  }
  if (!qg) throw new Error(`backend ${name} needs a quantized graph`);
  if (name === 'cpu-golden') {
    return (x) => {
      const r = runQuantized(qg, { [input]: x });
      return { logits: r.outputs[output]!, digestWords: r.integers[output] ?? new Int32Array(0) };
    };
  }
  const fq = fakeQuantGraph(qg);
  const outInfo = qg.outputs.find((o) => o.name === output)!;
  const p = outInfo.integer ? qg.tensors.get(outInfo.integer) : undefined;
  return (x) => {
    const logits = runFakeQuant(qg, fq, { [input]: x })[output]!;
    // The simulator's outputs on the output grid: comparable with the golden model's integers.
    const words = p && outInfo.integer === output ? Int32Array.from(logits.data, (r) => quantizeValue(r, p.scale, p.zeroPoint, p.lo, p.hi)) : new Int32Array(0);
    return { logits, digestWords: words };
  };
}
