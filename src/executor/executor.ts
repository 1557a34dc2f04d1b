import { bindInputs, runGraph } from '../cpu/float-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { ExecutorUnavailableError, InputError, QuantGpuError } from '../errors.js';
import { writeGraph } from '../export/onnx/float-graph.js';
import { fakeQuantToOnnx, type GraphSlice } from '../export/onnx/fake-quant.js';
import type { Graph } from '../ir/graph.js';
import { sliceGraph } from '../ir/slice-graph.js';
import { fakeQuantGraph, runFakeQuant, type FakeQuantFidelity } from '../quant/fake-quant.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { firstLine, openOrtSession, type OrtSessionOptions } from './ort-session.js';

/**
 * Where the CPU passes of a graph run: `js`, our TypeScript executor (the
 * reference, and the fallback), or `ort`, the same graph written as ONNX and
 * run by ONNX Runtime at native speed. The golden model (exact integer
 * arithmetic) always runs in TypeScript.
 */
export type ExecutorKind = 'ort' | 'js';
/** `auto`: ONNX Runtime where it loads and takes the model, else our executor. */
export type ExecutorChoice = ExecutorKind | 'auto';
export const EXECUTOR_CHOICES: readonly ExecutorChoice[] = ['auto', 'ort', 'js'];

export interface GraphExecutor {
  readonly kind: ExecutorKind;
  /** What runs the graph, for reports (`onnxruntime-node 1.30.0`, `quantgpu js`). */
  readonly runtime: string;
  /** The graph's outputs and the extra tensors asked for, by tensor name. */
  run(inputs: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  /** Frees the runtime (ONNX Runtime's session and worker); the executor cannot run afterwards. */
  dispose(): Promise<void>;
}

export interface ExecutorOptions {
  /** Default `auto`. */
  executor?: ExecutorChoice;
  /** Tensors to return besides the graph outputs (the float executor only). */
  outputs?: readonly string[];
  /** ONNX Runtime's intra-op threads (default: its own choice, one per core). */
  threads?: number;
  /** Which ONNX Runtime package to use (default: onnxruntime-node, then onnxruntime-web). */
  ortPackage?: OrtSessionOptions['only'];
  /** Told why `auto` fell back to our executor (ONNX Runtime missing, or an operator it lacks). */
  onFallback?: (reason: string) => void;
  /** The fake-quant executor: how closely it follows the engine (see `FakeQuantFidelity`; default exact). */
  fidelity?: FakeQuantFidelity;
}

export function parseExecutorChoice(value: string, where: string): ExecutorChoice {
  if (!(EXECUTOR_CHOICES as readonly string[]).includes(value)) throw new InputError(`${where} ${value}: choose one of ${EXECUTOR_CHOICES.join(', ')}`);
  return value as ExecutorChoice;
}

const JS_RUNTIME = 'quantgpu js';

/** The float graph on the chosen executor; the extra `outputs` come back with the graph's own. */
export async function createFloatExecutor(graph: Graph, options: ExecutorOptions = {}): Promise<GraphExecutor> {
  const extra = options.outputs ?? [];
  const unknown = extra.filter((t) => !graph.shapes.has(t));
  if (unknown.length > 0) throw new InputError(`outputs: ${unknown.map((t) => `'${t}'`).join(', ')} name no tensor of graph '${graph.name}'`);
  const js = (): GraphExecutor => ({
    kind: 'js',
    runtime: JS_RUNTIME,
    run: async (inputs) => {
      const all = runGraph(graph, inputs, { keepIntermediates: extra.length > 0 });
      const result: Record<string, Tensor> = {};
      for (const name of [...graph.outputs.map((o) => o.name), ...extra]) result[name] = all[name] ?? inputs[name]!;
      return result;
    },
    dispose: async () => undefined,
  });
  return choose(options, js, () => writeGraph(graph, { extraOutputs: extra }), graph);
}

/**
 * The fake-quantized graph (see `fakeQuantGraph`) on the chosen executor:
 * float layers with dequantized weights, every integer tensor rounded to its
 * grid. On ONNX Runtime the rounding is QuantizeLinear/DequantizeLinear at 8
 * bits and Div/Round/Clip/Mul arithmetic elsewhere (see `fakeQuantToOnnx`).
 */
export async function createFakeQuantExecutor(qg: QuantizedGraph, options: FakeQuantExecutorOptions = {}): Promise<GraphExecutor> {
  if (options.outputs && options.outputs.length > 0) throw new InputError('the fake-quant executor returns the graph outputs (a slice gives others: FakeQuantExecutorOptions.slice)');
  const fidelity = options.fidelity ?? 'exact';
  const whole = fakeQuantGraph(qg, fidelity);
  const slice = options.slice;
  const fq = slice ? sliceGraph(whole, slice.from, slice.to, slice.outputs) : whole;
  // Rounding a tensor at a cut again to its own grid changes nothing: a slice runs like the whole.
  const js = (): GraphExecutor => ({ kind: 'js', runtime: JS_RUNTIME, run: async (inputs) => runFakeQuant(qg, fq, inputs, fidelity), dispose: async () => undefined });
  return choose(options, js, () => fakeQuantToOnnx(qg, fidelity, slice), fq);
}

export interface FakeQuantExecutorOptions extends ExecutorOptions {
  /**
   * Run layers [from, to) only (see sliceGraph): fed the tensors at the cut
   * before `from` as an earlier run rounded them, giving `outputs`. What a
   * search uses to run only the layers after the first one a candidate
   * changes.
   */
  slice?: GraphSlice;
}

async function choose(
  options: ExecutorOptions,
  js: () => GraphExecutor,
  write: () => { bytes: Uint8Array; outputNames: Map<string, string> },
  graph: Graph,
): Promise<GraphExecutor> {
  const choice = options.executor ?? 'auto';
  if (choice === 'js') return js();
  try {
    return await ortExecutor(graph, write, options);
  } catch (e) {
    if (choice === 'ort' || !(e instanceof QuantGpuError)) throw e;
    options.onFallback?.(`ONNX Runtime cannot run this graph (${e.message}); using quantgpu's own executor`);
    return js();
  }
}

async function ortExecutor(graph: Graph, write: () => { bytes: Uint8Array; outputNames: Map<string, string> }, options: ExecutorOptions): Promise<GraphExecutor> {
  const written = write();
  const session = await openOrtSession(written.bytes, { ...(options.threads !== undefined ? { threads: options.threads } : {}), ...(options.ortPackage ? { only: options.ortPackage } : {}) });
  let disposed = false;
  return {
    kind: 'ort',
    runtime: session.runtime,
    async run(inputs) {
      if (disposed) throw new ExecutorUnavailableError('this executor was disposed', []);
      // The same checks and typed errors as our executor, before ONNX Runtime sees the data.
      bindInputs(graph, inputs);
      const feeds: Record<string, Tensor> = {};
      for (const i of graph.inputs) feeds[i.name] = inputs[i.name]!;
      let out: Record<string, Tensor>;
      try {
        out = await session.run(feeds);
      } catch (e) {
        if (e instanceof QuantGpuError) throw e;
        throw new ExecutorUnavailableError(`ONNX Runtime failed to run the model: ${firstLine(e)}`, []);
      }
      const result: Record<string, Tensor> = {};
      for (const [tensor, name] of written.outputNames) result[tensor] = out[name]!;
      return result;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
