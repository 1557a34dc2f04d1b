/**
 * Evaluation on the GPU: a session of the chosen runner behind the same
 * backend shape as the CPU ones, so that `eval --backend gpu` reports the
 * same fields and the same outputDigest as `cpu-golden` when the integers
 * agree. It also counts the time spent in runs, for gpuMsPerImage.
 */
import type { Tensor } from '../cpu/tensor.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import type { GpuRunner, SessionHandle } from '../host/gpu-runner.js';
import type { Graph } from '../ir/graph.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import type { PlanOptions } from '../runtime/plan-graph.js';
import type { BackendRun } from './backends.js';

export interface GpuBackend {
  /** Plans the session for an input shape (typed errors for layers the GPU cannot run come here). */
  prepare(shape: readonly number[]): Promise<void>;
  run(x: Tensor): Promise<BackendRun>;
  /** Milliseconds spent in session runs so far (upload, kernels, readback). */
  readonly runMs: number;
  dispose(): Promise<void>;
}

export async function gpuBackend(runner: GpuRunner, model: Graph | QuantizedGraph, options: PlanOptions = {}): Promise<GpuBackend> {
  const session: SessionHandle = await runner.createSession(model, options);
  const output = model.outputs[0]!.name;
  let runMs = 0;
  return {
    async prepare(shape) {
      await session.memory({ shape: [...shape], data: new Float32Array(0) });
    },
    async run(x) {
      const t0 = performance.now();
      const r = await session.run(x);
      runMs += performance.now() - t0;
      const logits = r.outputs[output]!;
      const ints = r.integers[output];
      return { logits, digestWords: ints ?? new Int32Array(logits.data.buffer, logits.data.byteOffset, logits.data.length) };
    },
    get runMs() {
      return runMs;
    },
    async dispose() {
      await session.dispose();
    },
  };
}

/** One line naming the adapter and the host it was reached from. */
export function describeAdapter(f: AdapterFacts): string {
  const name = [f.vendor, f.architecture, f.device, f.description].filter((s) => s !== '').join(' ') || 'unnamed adapter';
  return `${name} (${f.host}${f.isFallbackAdapter ? ', fallback adapter' : ''}${f.dot4I8Packed ? ', dot4I8Packed' : ''})`;
}
