/**
 * The page's sensitivity table and mixed-precision search: the library's
 * own `sensitivity` and `search` (src/search/), on a validation set cut from
 * the training images after the calibration ones (never the test
 * split, which the page's runs report; a folder's images after the calibration ones), as `quantgpu sensitivity` and
 * `quantgpu search` choose theirs. Both run their passes on the page's
 * executor (onnxruntime-web, else quantgpu's own), the search's decider on
 * the CPU golden model.
 */
import type { Tensor } from '../../src/cpu/tensor.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import type { Graph } from '../../src/ir/graph.js';
import type { TensorStats } from '../../src/quant/calibration/tensor-stats.js';
import type { Bits, LayerQuant } from '../../src/quant/config.js';
import { Evaluator, type EvalSet } from '../../src/search/evaluator.js';
import type { ResultsDoc } from '../../src/search/results.js';
import { search, type SearchResult } from '../../src/search/search.js';
import { sensitivity } from '../../src/search/sensitivity.js';
import { searchSpace } from '../../src/search/space.js';
import { BATCH, Cancelled, type ModelInput } from './run.js';

/** Images as the Evaluator's set: preprocessed batches in the model's layout, with their labels. */
export async function evalSet(images: ImageDataset, m: ModelInput, name: string): Promise<EvalSet> {
  const batches: Tensor[] = [];
  const labels: number[] = [];
  for await (const b of images.batches(BATCH, m.size, m.pre, m.layout)) {
    batches.push(b.x);
    labels.push(...b.labels);
  }
  return { name, batches, labels: Int32Array.from(labels) };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * The evaluator of the table and the search. Before each evaluation it lets
 * the page draw and hear clicks (a pass on onnxruntime-web resolves without
 * leaving the microtask queue), and stops with Cancelled once the current
 * work's signal (`signal()`: each run has its own) is aborted.
 */
export async function createEvaluator(graph: Graph, stats: ReadonlyMap<string, TensorStats>, set: EvalSet, signal: () => AbortSignal | undefined): Promise<Evaluator> {
  return Evaluator.create(graph, stats, set, {
    beforeEvaluation: async () => {
      await tick();
      if (signal()?.aborted) throw new Cancelled('cancelled');
    },
  });
}

/** A progress callback that stops the work at its next step once `signal` is aborted (the library's loops call it between evaluations). */
function stoppable<A extends unknown[]>(signal: AbortSignal, f: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    if (signal.aborted) throw new Cancelled('cancelled');
    f(...a);
  };
}

/** What the page records of where the validation images came from, as a results file says it. */
export interface TuneSets {
  dataset: string;
  model: string;
  calibration: number;
  validationStart: number;
}

/**
 * Each weight layer's weights alone at each of `bits`, every other choice at
 * `base`, as a sensitivity results file (the report's heat map draws it).
 * Weights only: the activations' table is as long again, and the weights
 * are what a smaller model saves.
 */
export async function weightSensitivity(
  evaluator: Evaluator,
  base: LayerQuant,
  bits: readonly Bits[],
  sets: TuneSets,
  o: { signal: AbortSignal; onCell: (done: number, total: number) => void },
): Promise<ResultsDoc> {
  const space = searchSpace(evaluator.quantize({ default: base }));
  const r = await sensitivity(evaluator, { weightLayers: space.weightLayers, activationLayers: [] }, base, { bits, onCell: stoppable(o.signal, o.onCell) });
  const { seconds: _s, ...reference } = r.reference;
  return {
    format: 'quantgpu-search-results',
    version: 1,
    command: 'sensitivity',
    model: sets.model,
    dataset: sets.dataset,
    sets: { calibration: { split: 'train', start: 0, count: sets.calibration }, validation: { split: 'train', start: sets.validationStart, count: evaluator.set.labels.length } },
    floatAccuracy: { validation: evaluator.float.accuracy },
    environment: {},
    space,
    sensitivity: { reference, cells: r.cells },
  };
}

/** The fast mixed-precision search (bit-operations as the cost) within `maxLoss` of float on the validation images. */
export function mixedPrecision(
  evaluator: Evaluator,
  base: LayerQuant,
  maxLoss: number,
  o: { signal: AbortSignal; rankImages: number; onProgress: (stage: string, done: number, total: number) => void },
): Promise<SearchResult> {
  return search(evaluator, { method: 'fast', objective: 'bops', maxLoss, base, rankImages: o.rankImages, decide: 'cpu-golden', onProgress: stoppable(o.signal, o.onProgress) });
}
