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
/**
 * The fake-quant simulator's outputs on their integer grids, by output name
 * (outputs that are an integer tensor's dequantized value): comparable with
 * the golden model's and the GPU's codes.
 */
export function simulatedCodes(qg: QuantizedGraph, outputs: Readonly<Record<string, Tensor>>): Record<string, Int32Array> {
  const codes: Record<string, Int32Array> = {};
  for (const o of qg.outputs) {
    const p = o.integer === o.name ? qg.tensors.get(o.name) : undefined;
    const t = outputs[o.name];
    if (p !== undefined && t !== undefined) codes[o.name] = Int32Array.from(t.data, (r) => quantizeValue(r, p.scale, p.zeroPoint, p.lo, p.hi));
  }
  return codes;
}

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
  return wrap(exec, (out) => ({ logits: out[output]!, digestWords: simulatedCodes(qg, out)[output] ?? new Int32Array(0) }));

  function wrap(exec: GraphExecutor, finish: (out: Record<string, Tensor>) => BackendRun): OpenBackend {
    return { runtime: exec.runtime, run: async (x) => finish(await exec.run({ [input]: x })), dispose: () => exec.dispose() };
  }
}
