import { bindInputs, runGraph } from '../cpu/float-executor.js';
import { requireFinite } from '../cpu/tensor.js';
import type { Tensor } from '../cpu/tensor.js';
import { QuantConfigError, QuantGpuError } from '../errors.js';
import { createFloatExecutor, type ExecutorChoice, type ExecutorKind, type ExecutorOptions, type GraphExecutor } from '../executor/executor.js';
import { writeGraph } from '../export/onnx/float-graph.js';
import type { Graph } from '../ir/graph.js';
import { inferGraphShapes } from '../ir/infer-shapes.js';
import type { Layer } from '../ir/layers.js';
import { knownNumel } from '../ir/shape.js';
import { IS_NODE } from '../util/host.js';
import { TensorStats } from './calibration/tensor-stats.js';
import { CalibratedTensors } from './calibration/calibrated-tensors.js';

/** Statistics of every tensor of a (prepared) graph over the calibration images. */
export interface CalibrationStats {
  images: number;
  /** Equalized where the graph measured was (its `equalization` set). */
  tensors: CalibratedTensors;
  /** Which executor ran the float passes, and its runtime (`onnxruntime-node 1.30.0 (2 worker threads)`). */
  executor: ExecutorKind;
  runtime: string;
}

export interface CollectOptions {
  /** Called with the number of images done so far. */
  onProgress?: (images: number) => void;
  /** Where the float passes run (default `auto`: ONNX Runtime where it loads). */
  executor?: ExecutorChoice;
  /** Told why `auto` fell back to our executor. */
  onFallback?: (reason: string) => void;
  /** Node: calibration worker threads on onnxruntime-node (default: one per core, at most four; 0: none, one session pipelined with this thread). */
  workers?: number;
  /** Which ONNX Runtime package runs the session when there are no workers (see `ExecutorOptions`). */
  ortPackage?: ExecutorOptions['ortPackage'];
}

/** Layers whose output is their input under another name: its statistics are a copy, not a second pass. */
const ALIASES = new Set<Layer['op']>(['identity', 'flatten', 'reshape', 'squeeze', 'unsqueeze']);

/** Activation bytes one ONNX Runtime call may return: batches are split to stay near it. */
const BYTES_PER_CALL = 128 * 2 ** 20;

/**
 * How many images of a batch one ONNX Runtime call takes: the observed
 * tensors' bytes per image, from the shapes the batch's own input shape
 * gives (symbolic heights and widths included), kept near BYTES_PER_CALL.
 */
function chunker(graph: Graph, observed: readonly string[]): (x: Tensor) => number {
  const known = new Map<string, number>();
  return (x) => {
    const key = x.shape.slice(1).join(',');
    let chunk = known.get(key);
    if (chunk === undefined) {
      const one: Graph = { ...graph, inputs: [{ name: graph.inputs[0]!.name, shape: [1, ...x.shape.slice(1)] }], shapes: new Map() };
      inferGraphShapes(one);
      const perImage = 4 * observed.reduce((n, t) => n + knownNumel(one.shapes.get(t) ?? []), 0);
      chunk = Math.max(1, Math.floor(BYTES_PER_CALL / Math.max(1, perImage)));
      known.set(key, chunk);
    }
    return chunk;
  };
}

// A variable specifier: bundlers for the browser leave this Node-only module alone.
const PARALLEL_MODULE = './calibration/parallel-calibration.js';
type ParallelModule = typeof import('./calibration/parallel-calibration.js');
type CalibrationWorkers = import('./calibration/parallel-calibration.js').CalibrationWorkers;

/**
 * Run the float graph over a stream of calibration batches and fold every
 * tensor (graph inputs and each layer's outputs) into streaming statistics;
 * memory stays that of a few batches plus a fixed histogram per tensor.
 *
 * On ONNX Runtime every observed tensor is an extra output of the written
 * graph. In Node, worker threads each run onnxruntime-node and count the
 * statistics of the batches they get, and the statistics merge exactly; in
 * a page (onnxruntime-web), runs are pipelined with the counting. Our own
 * executor hands each layer's output over as it is made.
 */
export async function collectStats(graph: Graph, images: AsyncIterable<Tensor> | Iterable<Tensor>, options: CollectOptions = {}): Promise<CalibrationStats> {
  const inputName = graph.inputs[0]!.name;
  const observed = graph.layers.filter((l) => !ALIASES.has(l.op)).flatMap((l) => l.outputs);
  const chunk = chunker(graph, observed);
  // Every batch is checked as our executor checks inputs, with its typed errors, before a runtime sees it.
  async function* checked(): AsyncGenerator<Tensor> {
    for await (const x of images) {
      bindInputs(graph, { [inputName]: x });
      requireFinite(x.data, `calibration input '${inputName}'`, x.data.length / (x.shape[0] || 1));
      yield x;
    }
  }
  const batches = checked();
  const choice = options.executor ?? 'auto';
  let result: (Omit<CalibrationStats, 'tensors'> & { tensors: Map<string, TensorStats> }) | undefined;

  if (choice !== 'js' && IS_NODE && options.workers !== 0) {
    let workers: CalibrationWorkers | undefined;
    let bytes: Uint8Array | undefined;
    try {
      bytes = writeGraph(graph, { extraOutputs: observed }).bytes;
      const m = (await import(/* @vite-ignore */ PARALLEL_MODULE)) as ParallelModule;
      workers = await m.startCalibrationWorkers(bytes, inputName, observed, options.workers);
    } catch (e) {
      // Not a bug of ours: the executor below tries onnxruntime-web, then says why it falls back.
      if (!(e instanceof QuantGpuError) && !isModuleMissing(e)) throw e;
    }
    if (workers) {
      try {
        const r = await workers.run(batches, chunk, options.onProgress);
        result = { ...r, executor: 'ort', runtime: workers.runtime };
      } finally {
        await workers.dispose();
      }
    }
  }
  if (!result) result = await collectOnExecutor(graph, batches, observed, chunk, options);
  if (result.images === 0) throw new QuantConfigError('calibration saw no images');
  // Aliases (in graph order, so chains resolve): the same values as their input.
  for (const l of graph.layers) {
    if (!ALIASES.has(l.op)) continue;
    const src = result.tensors.get(l.inputs[0]!);
    if (src) result.tensors.set(l.outputs[0]!, src.clone());
  }
  return { ...result, tensors: new CalibratedTensors(result.tensors, graph.equalization !== undefined) };
}

function isModuleMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

async function collectOnExecutor(
  graph: Graph,
  batches: AsyncIterable<Tensor>,
  observed: readonly string[],
  chunk: (x: Tensor) => number,
  options: CollectOptions,
): Promise<Omit<CalibrationStats, 'tensors'> & { tensors: Map<string, TensorStats> }> {
  const inputName = graph.inputs[0]!.name;
  const exec = await createFloatExecutor(graph, {
    ...(options.executor ? { executor: options.executor } : {}),
    outputs: observed,
    // The histograms take this thread.
    threads: 1,
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
    ...(options.ortPackage ? { ortPackage: options.ortPackage } : {}),
  });
  const tensors = new Map<string, TensorStats>();
  const stat = (name: string): TensorStats => {
    let s = tensors.get(name);
    if (!s) tensors.set(name, (s = new TensorStats()));
    return s;
  };
  let images = 0;
  try {
    if (exec.kind === 'js') {
      for await (const x of batches) {
        stat(inputName).observe(x.data);
        runGraph(graph, { [inputName]: x }, {
          onLayer: (li, outs) => {
            const layer = graph.layers[li]!;
            if (!ALIASES.has(layer.op)) layer.outputs.forEach((o, k) => stat(o).observe(outs[k]!.data));
          },
        });
        images += x.shape[0]!;
        options.onProgress?.(images);
      }
    } else {
      images = await collectPipelined(inputName, exec, batches, observed, chunk, stat, options.onProgress);
    }
  } finally {
    await exec.dispose();
  }
  return { images, tensors, executor: exec.kind, runtime: exec.runtime };
}

/** ONNX Runtime runs the next chunk while this thread counts the last one's histograms. */
async function collectPipelined(
  inputName: string,
  exec: GraphExecutor,
  batches: AsyncIterable<Tensor>,
  observed: readonly string[],
  chunkOf: (x: Tensor) => number,
  stat: (name: string) => TensorStats,
  onProgress: ((images: number) => void) | undefined,
): Promise<number> {
  let images = 0;
  let inFlight: Promise<{ n: number; out: Record<string, Tensor> }> | undefined;
  const drain = async (): Promise<void> => {
    if (!inFlight) return;
    const { n, out } = await inFlight;
    inFlight = undefined;
    for (const t of observed) stat(t).observe(out[t]!.data);
    images += n;
    onProgress?.(images);
  };
  for await (const x of batches) {
    stat(inputName).observe(x.data);
    const n = x.shape[0]!;
    const per = n === 0 ? 0 : x.data.length / n;
    const chunk = chunkOf(x);
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const part: Tensor = { shape: [m, ...x.shape.slice(1)], data: x.data.subarray(start * per, (start + m) * per) };
      const next = exec.run({ [inputName]: part }).then((out) => ({ n: m, out }));
      // A run that fails while the previous one is being counted is reported by the await below, not as unhandled.
      next.catch(() => undefined);
      await drain();
      inFlight = next;
    }
  }
  await drain();
  return images;
}
