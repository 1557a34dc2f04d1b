/**
 * One evaluation of the page: a quantized graph over the test images (bundled, or a folder's)
 * on the GPU (a session on the page's device) or on the CPU golden model,
 * batch by batch with progress and cancel, giving the numbers `quantgpu eval`
 * gives: accuracy, agreement with float, size, bit-operations and
 * outputDigest (the same bytes hashed, see WebOutputDigest), plus the
 * measures a sweep point records, so every run is a point of the page's
 * trade-off charts.
 */
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import type { ImageDataset, ImageLayout, ImageSize } from '../../src/data/dataset.js';
import { evaluate, type EvalProgress } from '../../src/eval/evaluate.js';
import { WebOutputDigest } from '../../src/eval/web-digest.js';
import { createFloatExecutor } from '../../src/executor/executor.js';
import type { Gpu } from '../../src/gpu/device.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Preprocessing } from '../../src/io/preprocessing.js';
import { costReport } from '../../src/quant/cost.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import type { SessionProfile } from '../../src/runtime/profile.js';
import { createSession } from '../../src/runtime/session.js';

/** Where the page's model input comes from: the model's input size, layout and preprocessing. */
export interface ModelInput {
  size: ImageSize;
  layout: ImageLayout;
  pre: Preprocessing;
}

/** Test images: their batches, and their labels known before any is decoded. */
export interface TestImages {
  dataset: ImageDataset;
  labels: Int32Array;
}

export type RunBackend = 'gpu' | 'cpu-golden';

/** Images per batch, as `eval`'s default: the digest does not depend on it. */
export const BATCH = 64;

export class Cancelled extends Error {
  override name = 'Cancelled';
}

/** The float model's logits and top-1 over the same images: the reference for agreement (cached per model, dataset and count by the caller). */
export interface FloatReference {
  logits: Float32Array[];
  predictions: Int32Array;
  accuracy: number;
  runtime: string;
}

export async function floatReference(graph: Graph, test: TestImages, m: ModelInput, onProgress: (p: EvalProgress) => void): Promise<FloatReference> {
  const exec = await createFloatExecutor(graph);
  const output = graph.outputs[0]!.name;
  const logits: Float32Array[] = [];
  try {
    const r = await evaluate(
      async (x) => {
        const out = (await exec.run({ [graph.inputs[0]!.name]: x }))[output]!;
        logits.push(out.data);
        return out;
      },
      test.dataset,
      m.size,
      m.pre,
      { batchSize: BATCH, layout: m.layout, onProgress },
    );
    return { logits, predictions: r.predictions, accuracy: r.accuracy, runtime: exec.runtime };
  } finally {
    await exec.dispose();
  }
}

export interface RunResult {
  backend: RunBackend;
  images: number;
  accuracy: number;
  floatAccuracy: number;
  agreement: number;
  /** As the search's Evaluator computes them (a point of the charts). */
  lossStdError: number;
  sqnrDb: number;
  noise: number;
  sizeBytes: number;
  sizeVsInt8: number;
  sizeVsFloat32: number;
  bops: number;
  bopsVsInt8: number;
  outputDigest: string;
  predictions: Int32Array;
  seconds: number;
  gpuMsPerImage?: number;
  profile?: SessionProfile;
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export async function runEvaluation(
  qg: QuantizedGraph,
  test: TestImages,
  m: ModelInput,
  float: FloatReference,
  o: { backend: RunBackend; gpu?: Gpu; signal: AbortSignal; onProgress: (p: EvalProgress) => void },
): Promise<RunResult> {
  const input = qg.inputs[0]!.name;
  const output = qg.outputs[0]!.name;
  const digest = new WebOutputDigest();
  const logits: Float32Array[] = [];
  let gpuMs = 0;
  const session = o.backend === 'gpu' ? await createSession(qg, { gpu: o.gpu! }) : undefined;
  let profile: SessionProfile | undefined;
  try {
    const predict = async (x: Tensor): Promise<Tensor> => {
      if (o.signal.aborted) throw new Cancelled('cancelled');
      let out: Tensor;
      let ints: Int32Array | undefined;
      if (session) {
        const t0 = performance.now();
        const r = await session.run(x);
        gpuMs += performance.now() - t0;
        out = r.outputs[output]!;
        ints = r.integers[output];
      } else {
        // The golden model runs on this thread: let the page draw the progress between batches.
        await tick();
        const r = runQuantized(qg, { [input]: x });
        out = r.outputs[output]!;
        ints = r.integers[output];
      }
      // As eval's backends: the integer outputs, or the float32 bit patterns of a float tail.
      digest.add(ints ?? new Int32Array(out.data.buffer, out.data.byteOffset, out.data.length));
      logits.push(out.data);
      return out;
    };
    const r = await evaluate(predict, test.dataset, m.size, m.pre, { batchSize: BATCH, layout: m.layout, onProgress: o.onProgress });
    if (session) {
      const first = await test.dataset.batches(BATCH, m.size, m.pre, m.layout).next();
      if (!first.done) profile = await session.profile(first.value.x, { warmup: 1, repeats: 3 });
    }
    const cost = costReport(qg);
    let signal = 0;
    let error = 0;
    logits.forEach((l, b) => {
      const f = float.logits[b]!;
      for (let i = 0; i < l.length; i++) {
        signal += f[i]! * f[i]!;
        error += (l[i]! - f[i]!) ** 2;
      }
    });
    let same = 0;
    let onlyFloat = 0;
    let onlyQuant = 0;
    r.predictions.forEach((p, i) => {
      const f = float.predictions[i];
      const label = test.labels[i];
      same += p === f ? 1 : 0;
      if (f === label && p !== label) onlyFloat++;
      else if (f !== label && p === label) onlyQuant++;
    });
    const n = r.images;
    const noise = signal > 0 ? error / signal : 0;
    return {
      backend: o.backend,
      images: n,
      accuracy: r.accuracy,
      floatAccuracy: float.accuracy,
      agreement: n ? same / n : 0,
      lossStdError: n ? Math.sqrt(Math.max(0, onlyFloat + onlyQuant - (onlyFloat - onlyQuant) ** 2 / n)) / n : 0,
      sqnrDb: noise > 0 ? -10 * Math.log10(noise) : Infinity,
      noise,
      sizeBytes: cost.sizeBytes,
      sizeVsInt8: cost.sizeBytes / cost.int8Bytes,
      sizeVsFloat32: cost.sizeBytes / cost.float32Bytes,
      bops: cost.bops,
      bopsVsInt8: cost.bops / cost.int8Bops,
      outputDigest: await digest.hex(),
      predictions: r.predictions,
      seconds: r.seconds,
      ...(session ? { gpuMsPerImage: gpuMs / Math.max(1, n) } : {}),
      ...(profile ? { profile } : {}),
    };
  } finally {
    session?.dispose();
  }
}
