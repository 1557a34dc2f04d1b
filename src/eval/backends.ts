import { runQuantized } from '../cpu/golden/golden-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { createFakeQuantExecutor, createFloatExecutor, type ExecutorOptions, type GraphExecutor } from '../executor/executor.js';
import type { Graph } from '../ir/graph.js';
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

/** A CPU backend, open until disposed (ONNX Runtime holds a session and a worker). */
export interface OpenBackend {
  run(x: Tensor): Promise<BackendRun>;
  /** What computes it: `onnxruntime-node 1.30.0`, `quantgpu js`, or the golden model. */
  readonly runtime: string;
  dispose(): Promise<void>;
}

/**
 * cpu-float and fake-quant run on the executor the options choose (ONNX
 * Runtime by default, see `createFloatExecutor`); cpu-golden is the integer
 * golden model, always ours.
 */
export async function openCpuBackend(name: CpuBackend, graph: Graph, qg?: QuantizedGraph, options: ExecutorOptions = {}): Promise<OpenBackend> {
  const input = graph.inputs[0]!.name;
  const output = graph.outputs[0]!.name;
  if (name === 'cpu-float') {
    const exec = await createFloatExecutor(graph, options);
    return wrap(exec, (out) => {
      const logits = out[output]!;
      return { logits, digestWords: new Int32Array(logits.data.buffer, logits.data.byteOffset, logits.data.length) };
    });
  }
  if (!qg) throw new Error(`backend ${name} needs a quantized graph`);
  if (name === 'cpu-golden') {
    return {
      runtime: 'quantgpu golden model',
      run: async (x) => {
        const r = runQuantized(qg, { [input]: x });
        return { logits: r.outputs[output]!, digestWords: r.integers[output] ?? new Int32Array(0) };
      },
      dispose: async () => undefined,
    };
  }
  const exec = await createFakeQuantExecutor(qg, options);
  const outInfo = qg.outputs.find((o) => o.name === output)!;
  const p = outInfo.integer ? qg.tensors.get(outInfo.integer) : undefined;
  return wrap(exec, (out) => {
    const logits = out[output]!;
    // The simulator's outputs on the output grid: comparable with the golden model's integers.
    const words = p && outInfo.integer === output ? Int32Array.from(logits.data, (r) => quantizeValue(r, p.scale, p.zeroPoint, p.lo, p.hi)) : new Int32Array(0);
    return { logits, digestWords: words };
  });

  function wrap(exec: GraphExecutor, finish: (out: Record<string, Tensor>) => BackendRun): OpenBackend {
    return { runtime: exec.runtime, run: async (x) => finish(await exec.run({ [input]: x })), dispose: () => exec.dispose() };
  }
}
