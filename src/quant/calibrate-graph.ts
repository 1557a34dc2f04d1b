import { runGraph } from '../cpu/float-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { QuantConfigError } from '../errors.js';
import { createFloatExecutor, type ExecutorChoice, type ExecutorKind, type GraphExecutor } from '../executor/executor.js';
import type { Graph } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import { knownNumel } from '../ir/shape.js';
import { TensorStats } from './calibration/tensor-stats.js';

/** Statistics of every tensor of a (prepared) graph over the calibration images. */
export interface CalibrationStats {
  images: number;
  tensors: Map<string, TensorStats>;
  /** Which executor ran the float passes, and its runtime (`onnxruntime-node 1.30.0`). */
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
}

/** Layers whose output is their input under another name: its statistics are a copy, not a second pass. */
const ALIASES = new Set<Layer['op']>(['identity', 'flatten', 'reshape', 'squeeze', 'unsqueeze']);

/** Activation bytes one image may hold per ONNX Runtime call: batches are split to stay near it. */
const BYTES_PER_CALL = 128 * 2 ** 20;

/**
 * Run the float graph over a stream of calibration batches and fold every
 * tensor (graph inputs and each layer's outputs) into streaming statistics;
 * memory stays that of one batch plus a fixed histogram per tensor.
 *
 * On ONNX Runtime every observed tensor is an extra output of the written
 * graph, and the runs are pipelined: in Node the session works in its own
 * thread on the next batch while this thread counts the histograms of the
 * last one (ONNX Runtime on one thread, the histograms on the other core).
 */
export async function collectStats(graph: Graph, batches: AsyncIterable<Tensor> | Iterable<Tensor>, options: CollectOptions = {}): Promise<CalibrationStats> {
  const inputName = graph.inputs[0]!.name;
  const observed = graph.layers.filter((l) => !ALIASES.has(l.op)).flatMap((l) => l.outputs);
  const exec = await createFloatExecutor(graph, {
    ...(options.executor ? { executor: options.executor } : {}),
    outputs: observed,
    // The histograms take this thread; ONNX Runtime gets one of its own.
    threads: 1,
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
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
      // Our executor hands each layer's output over as it is made, so no batch holds every tensor at once.
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
      images = await collectPipelined(graph, exec, batches, observed, stat, options.onProgress);
    }
  } finally {
    await exec.dispose();
  }
  if (images === 0) throw new QuantConfigError('calibration saw no images');
  // Aliases (in graph order, so chains resolve): the same values as their input.
  for (const l of graph.layers) {
    if (!ALIASES.has(l.op)) continue;
    const src = tensors.get(l.inputs[0]!);
    if (src) tensors.set(l.outputs[0]!, src.clone());
  }
  return { images, tensors, executor: exec.kind, runtime: exec.runtime };
}

async function collectPipelined(
  graph: Graph,
  exec: GraphExecutor,
  batches: AsyncIterable<Tensor> | Iterable<Tensor>,
  observed: readonly string[],
  stat: (name: string) => TensorStats,
  onProgress: ((images: number) => void) | undefined,
): Promise<number> {
  const inputName = graph.inputs[0]!.name;
  const perImage = 4 * observed.reduce((n, t) => n + knownNumel(graph.shapes.get(t) ?? []), 0);
  const chunk = Math.max(1, Math.floor(BYTES_PER_CALL / Math.max(1, perImage)));
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
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const part: Tensor = { shape: [m, ...x.shape.slice(1)], data: x.data.subarray(start * per, (start + m) * per) };
      // Start the next run, then count the last one's histograms while it works.
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
