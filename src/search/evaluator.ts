import { runQuantized } from '../cpu/golden/golden-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { InputError } from '../errors.js';
import { argmaxRows } from '../eval/evaluate.js';
import { createFakeQuantExecutor, createFloatExecutor, type ExecutorOptions } from '../executor/executor.js';
import type { GpuRunner } from '../host/gpu-runner.js';
import type { Graph } from '../ir/graph.js';
import type { TensorStats } from '../quant/calibration/tensor-stats.js';
import { layerSetting, type QuantConfig } from '../quant/config.js';
import { costReport } from '../quant/cost.js';
import { quantize } from '../quant/pipeline.js';
import { prepareForQuantization } from '../quant/prepare.js';
import { cutTensors } from '../ir/slice-graph.js';
import { firstChangedLayer, PrefixCache, type Prefix } from './prefix-reuse.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';

/** Images an evaluation runs on, preprocessed in the model's layout, with their labels. */
export interface EvalSet {
  /** `validation` (from the training split) or `test`. */
  readonly name: string;
  readonly batches: readonly Tensor[];
  readonly labels: Int32Array;
  /** The model's fixed batch, where it has one: every batch is this size, and the set is cut only between batches. */
  readonly batch?: number;
}

/**
 * Where a config is evaluated: the fake-quant graph on ONNX Runtime (`exact`
 * fidelity: 99-100% top-1 agreement with the golden model), its `fast`
 * variant (rounds every tensor alike: 5x faster, what ranks candidates), the
 * golden model (the GPU's exact integers, on the CPU), or the GPU itself.
 */
export type EvalBackend = 'fake-quant' | 'fake-quant-fast' | 'cpu-golden' | 'gpu';
/** The backends a user chooses between (the fast simulator is the search's own tool). */
export const EVAL_BACKENDS: readonly EvalBackend[] = ['fake-quant', 'cpu-golden', 'gpu'];

/** What one config costs and buys on one set of images. */
export interface Evaluation {
  readonly backend: EvalBackend;
  readonly split: string;
  readonly images: number;
  /** Top-1 accuracy, a fraction. */
  readonly accuracy: number;
  /** Top-1 agreement with the float model on the same images. */
  readonly agreement: number;
  /**
   * Standard error of (accuracy - float accuracy) on these images, from the
   * images on which exactly one of the two is right (paired, as McNemar's
   * test counts them): how far the loss measured here may be from the loss
   * on other images.
   */
  readonly lossStdError: number;
  /** Signal-to-noise ratio of the logits against float's, in dB. */
  readonly sqnrDb: number;
  /** The logits' squared error against float's over float's power: 10^(-sqnrDb/10). */
  readonly noise: number;
  readonly sizeBytes: number;
  readonly sizeVsInt8: number;
  readonly bops: number;
  readonly bopsVsInt8: number;
  /** GPU backend: milliseconds a run took per image (upload, kernels, readback). */
  readonly gpuMsPerImage?: number;
  readonly seconds: number;
}

export interface EvaluatorOptions {
  /** Where the float reference and the fake-quant passes run (see `createFloatExecutor`). */
  readonly executor?: ExecutorOptions['executor'];
  readonly onFallback?: (reason: string) => void;
  /** For the `gpu` backend. */
  readonly gpu?: GpuRunner;
  /**
   * Awaited before each evaluation runs (cached ones do not): a page's
   * passes on WebAssembly never leave the microtask queue on their own, so
   * the page yields to its event loop here (a click on Cancel is heard) and
   * throws to stop a table or a search between evaluations.
   */
  readonly beforeEvaluation?: () => Promise<void>;
}

/** The float model's logits and predictions on a set: what every evaluation is compared with. */
interface FloatReference {
  readonly logits: Float32Array[];
  readonly predictions: Int32Array;
  readonly accuracy: number;
}

/**
 * A config's identity for caching: every layer's resolved setting, in
 * order, over the graph as quantization sees it (`prepareForQuantization`
 * splits fused activations such as HardSwish into layers of their own,
 * which a config can set apart).
 */
export function configKey(prepared: Graph, config: QuantConfig): string {
  return JSON.stringify(prepared.layers.map((l) => layerSetting(config, l.name)));
}

/**
 * Evaluates configs of one model on one set of images, remembering what it
 * has done: the float reference is computed once, a config seen before (in
 * any spelling: the key is the resolved setting of every layer) costs
 * nothing, and `evaluations` counts the runs made.
 */
export class Evaluator {
  private readonly cache = new Map<string, Promise<Evaluation>>();
  /** The anchor last named (see evaluate), quantized. */
  private readonly anchors = new Map<string, QuantizedGraph>();
  private readonly prefixes = new PrefixCache();
  /** The graph as quantization sees it: its layer names are what configs, keys and searches walk. */
  readonly prepared: Graph;

  private constructor(
    readonly graph: Graph,
    readonly stats: ReadonlyMap<string, TensorStats>,
    readonly set: EvalSet,
    readonly float: FloatReference,
    private readonly options: EvaluatorOptions,
    private readonly counter: { runs: number; fromCut: number; images: number } = { runs: 0, fromCut: 0, images: 0 },
    prepared?: Graph,
  ) {
    this.prepared = prepared ?? prepareForQuantization(graph);
  }

  /** Runs the float model on the set once (on the chosen executor). */
  static async create(graph: Graph, stats: ReadonlyMap<string, TensorStats>, set: EvalSet, options: EvaluatorOptions = {}): Promise<Evaluator> {
    const exec = await createFloatExecutor(graph, { ...(options.executor ? { executor: options.executor } : {}), ...(options.onFallback ? { onFallback: options.onFallback } : {}) });
    const input = graph.inputs[0]!.name;
    const logits: Float32Array[] = [];
    try {
      for (const x of set.batches) logits.push(Object.values(await exec.run({ [input]: x }))[0]!.data);
    } finally {
      await exec.dispose();
    }
    const predictions = concatPredictions(logits, set);
    return new Evaluator(graph, stats, set, { logits, predictions, accuracy: accuracyOf(predictions, set.labels) }, options);
  }

  /** Evaluations run so far (cached ones not counted), this evaluator's and its subsets'. */
  get evaluations(): number {
    return this.counter.runs;
  }

  /** Images those evaluations ran (each evaluation runs every image of its set): the work, where evaluations on small subsets and whole sets differ. */
  get imagesEvaluated(): number {
    return this.counter.images;
  }

  /** Of those, the ones that ran only the layers after a cut (see `evaluate`'s anchor). */
  get evaluationsFromCut(): number {
    return this.counter.fromCut;
  }

  /**
   * An evaluator over the set's first batches (at least `images` images), with
   * the same float reference and the same count of evaluations: a cheaper
   * ranking of many candidates.
   */
  subset(images: number): Evaluator {
    let n = 0;
    let k = 0;
    while (k < this.set.batches.length && n < images) n += this.set.batches[k++]!.shape[0]!;
    if (k === this.set.batches.length) return this;
    const set: EvalSet = { name: `${this.set.name} (first ${n})`, batches: this.set.batches.slice(0, k), labels: this.set.labels.subarray(0, n) };
    const predictions = this.float.predictions.subarray(0, n);
    const float = { logits: this.float.logits.slice(0, k), predictions, accuracy: accuracyOf(predictions, set.labels) };
    return new Evaluator(this.graph, this.stats, set, float, this.options, this.counter, this.prepared);
  }

  quantize(config: QuantConfig): QuantizedGraph {
    return quantize(this.graph, this.stats, config);
  }

  private executorOptions(): Pick<ExecutorOptions, 'executor' | 'onFallback'> {
    return { ...(this.options.executor ? { executor: this.options.executor } : {}), ...(this.options.onFallback ? { onFallback: this.options.onFallback } : {}) };
  }

  /**
   * The anchor's fake-quant tensors at the cut before the first layer where
   * `qg` differs from it, for every batch of the set: computed by running
   * the anchor's layers before the cut, then kept. Undefined where nothing
   * would be saved (a change in the first layer, or none) or the tensors
   * would take too much memory.
   */
  private async prefixFor(anchor: QuantConfig, qg: QuantizedGraph, fidelity: 'fast' | 'exact'): Promise<Prefix | undefined> {
    const anchorKey = configKey(this.prepared, anchor);
    let qa = this.anchors.get(anchorKey);
    if (!qa) {
      qa = this.quantize(anchor);
      this.anchors.clear();
      this.anchors.set(anchorKey, qa);
    }
    const at = firstChangedLayer(qa, qg);
    // Indices and tensors of the prepared float graph that the fake-quant graphs are made from.
    const prepared = qa.float;
    if (at <= 0 || at >= prepared.layers.length) return undefined;
    const key = `${fidelity}:${at}:${anchorKey}`;
    const known = this.prefixes.get(key);
    if (known) return known;
    const cut = cutTensors(prepared, at);
    const floats = floatsPerImage(prepared, cut) * this.set.labels.length;
    if (!this.prefixes.fits(floats)) return undefined;
    const exec = await createFakeQuantExecutor(qa, { fidelity, ...this.executorOptions(), slice: { from: 0, to: at, outputs: cut } });
    const input = this.graph.inputs[0]!.name;
    const batches: Array<Record<string, Tensor>> = [];
    try {
      for (const x of this.set.batches) batches.push(await exec.run({ [input]: x }));
    } finally {
      await exec.dispose();
    }
    const prefix: Prefix = { key, at, batches, floats };
    this.prefixes.put(prefix);
    return prefix;
  }

  /**
   * `anchor`: a config this one differs from in few layers (the search's
   * current state, the sensitivity table's base). On the fake-quant
   * backends only the layers from the first one that differs are run, fed
   * the anchor's tensors at that cut (computed once and kept, see
   * PrefixCache); the outputs are those of a whole run.
   */
  evaluate(config: QuantConfig, backend: EvalBackend = 'fake-quant', options: { anchor?: QuantConfig } = {}): Promise<Evaluation> {
    const key = `${backend}:${configKey(this.prepared, config)}`;
    let e = this.cache.get(key);
    if (!e) {
      e = this.run(config, backend, options.anchor);
      this.cache.set(key, e);
      // A failed evaluation is not kept: the caller sees the error, a retry runs again.
      e.catch(() => this.cache.delete(key));
    }
    return e;
  }

  private async run(config: QuantConfig, backend: EvalBackend, anchor: QuantConfig | undefined): Promise<Evaluation> {
    await this.options.beforeEvaluation?.();
    const t0 = performance.now();
    const qg = this.quantize(config);
    const input = this.graph.inputs[0]!.name;
    const logits: Float32Array[] = [];
    let gpuMs: number | undefined;
    if (backend === 'cpu-golden') {
      for (const x of this.set.batches) logits.push(Object.values(runQuantized(qg, { [input]: x }).outputs)[0]!.data);
    } else if (backend === 'gpu') {
      if (!this.options.gpu) throw new InputError('the gpu backend needs a GPU runner (EvaluatorOptions.gpu)');
      const session = await this.options.gpu.createSession(qg);
      gpuMs = 0;
      try {
        for (const x of this.set.batches) {
          const t = performance.now();
          logits.push(Object.values((await session.run(x)).outputs)[0]!.data);
          gpuMs += performance.now() - t;
        }
      } finally {
        await session.dispose();
      }
    } else {
      const fidelity = backend === 'fake-quant-fast' ? 'fast' : 'exact';
      const prefix = anchor ? await this.prefixFor(anchor, qg, fidelity) : undefined;
      const exec = await createFakeQuantExecutor(qg, { fidelity, ...this.executorOptions(), ...(prefix ? { slice: { from: prefix.at } } : {}) });
      if (prefix) this.counter.fromCut++;
      try {
        for (const [b, x] of this.set.batches.entries()) logits.push(Object.values(await exec.run(prefix ? prefix.batches[b]! : { [input]: x }))[0]!.data);
      } finally {
        await exec.dispose();
      }
    }
    this.counter.runs++;
    this.counter.images += this.set.labels.length;
    const predictions = concatPredictions(logits, this.set);
    let signal = 0;
    let error = 0;
    logits.forEach((l, b) => {
      const f = this.float.logits[b]!;
      for (let i = 0; i < l.length; i++) {
        signal += f[i]! * f[i]!;
        error += (l[i]! - f[i]!) ** 2;
      }
    });
    const noise = signal > 0 ? error / signal : 0;
    const cost = costReport(qg);
    let same = 0;
    let onlyFloat = 0;
    let onlyQuant = 0;
    predictions.forEach((p, i) => {
      const f = this.float.predictions[i];
      const label = this.set.labels[i];
      same += p === f ? 1 : 0;
      if (f === label && p !== label) onlyFloat++;
      else if (f !== label && p === label) onlyQuant++;
    });
    const images = this.set.labels.length;
    const discordant = onlyFloat + onlyQuant;
    const lossStdError = images ? Math.sqrt(Math.max(0, discordant - (onlyFloat - onlyQuant) ** 2 / images)) / images : 0;
    return {
      backend,
      split: this.set.name,
      images,
      accuracy: accuracyOf(predictions, this.set.labels),
      agreement: images ? same / images : 0,
      lossStdError,
      sqnrDb: noise > 0 ? -10 * Math.log10(noise) : Infinity,
      noise,
      sizeBytes: cost.sizeBytes,
      sizeVsInt8: cost.sizeBytes / cost.int8Bytes,
      bops: cost.bops,
      bopsVsInt8: cost.bops / cost.int8Bops,
      ...(gpuMs !== undefined ? { gpuMsPerImage: gpuMs / images } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
  }
}

function floatsPerImage(graph: Graph, tensors: readonly string[]): number {
  return tensors.reduce((sum, t) => sum + (graph.shapes.get(t) ?? []).slice(1).reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1), 0);
}

function concatPredictions(logits: readonly Float32Array[], set: EvalSet): Int32Array {
  const out = new Int32Array(set.labels.length);
  let at = 0;
  logits.forEach((l, b) => {
    const rows = set.batches[b]!.shape[0]!;
    out.set(argmaxRows({ shape: [rows, l.length / rows], data: l }), at);
    at += rows;
  });
  return out;
}

function accuracyOf(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  predictions.forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
  return labels.length ? correct / labels.length : 0;
}
