import { goldenSteps } from '../../cpu/golden/golden-executor.js';
import { floatSteps } from '../../cpu/float-executor.js';
import type { Tensor } from '../../cpu/tensor.js';
import { QuantConfigError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { TensorStats } from '../calibration/tensor-stats.js';
import type { LayerQuant, QuantConfig } from '../config.js';
import { configuredWeightThresholds, preparedFor, rangesFromStats } from '../pipeline.js';
import { weightRange } from '../qparams.js';
import { quantizeGraph } from '../quantize-graph.js';
import type { QMatmulLayer, QuantizedGraph } from '../quantized-graph.js';
import { adaroundSteps, type AdaRoundOptions } from './adaround.js';
import { ColumnMoments } from './column-moments.js';
import { layersToLearn, learnedForOf, needsLearning, type LayerRefinement, type Refinement } from './refinement.js';

export interface RefineProgress {
  /** The layer being learned, its place among the layers to learn, and how many there are. */
  layer: string;
  index: number;
  layers: number;
  /** Work done and in all, in units of estimated arithmetic (for an ETA). */
  done: number;
  total: number;
}

export interface RefineOptions extends AdaRoundOptions {
  /** Input columns (output positions x images) per layer that enter AdaRound's products (default 8192). */
  maxColumns?: number;
  onProgress?: (p: RefineProgress) => void;
}

/**
 * Learn what a config's `rounding: 'adaround'` and `biasCorrection:
 * 'empirical'` layers need, on calibration images (a batch, or a stream of
 * them; preprocessed as the model expects), for `quantize(..., { refinement })`.
 *
 * Layer by layer in graph order: the layer's inputs are gathered from the
 * float network and from the quantized one, whose earlier layers already
 * carry what was learned for them (so each layer learns to undo the error
 * that reaches it); AdaRound learns its weight codes against the float layer
 * on float inputs, then the mean pre-activation error of the quantized layer
 * (learned codes, quantized inputs) against the float one, per output
 * channel, becomes its bias correction. The images are kept in memory, each
 * batch a paused run of both executors (`floatSteps`, `goldenSteps`), so
 * each layer costs one step of each, never a rerun of the layers before.
 *
 * Runs on the CPU in Node and in browsers; yields to the event loop between
 * batches and every few AdaRound iterations.
 */
export async function refine(
  graph: Graph,
  stats: ReadonlyMap<string, TensorStats>,
  config: QuantConfig,
  images: Tensor | AsyncIterable<Tensor> | Iterable<Tensor>,
  options: RefineOptions = {},
): Promise<Refinement> {
  const t0 = performance.now();
  // Learned on the graph `quantize` will see.
  const prepared = preparedFor(graph, stats, config);
  const ranges = rangesFromStats(stats);
  const nearest = quantizeGraph(prepared, config, ranges, configuredWeightThresholds);
  const targets = layersToLearn(prepared, config);
  const batches = await collectBatches(images);
  const count = batches.reduce((a, b) => a + (b.shape[0] ?? 1), 0);
  const learned = new Map<string, LayerRefinement>();
  const done = (): Refinement => ({ learnedFor: learnedForOf(nearest), layers: learned, images: count, seconds: (performance.now() - t0) / 1000 });
  if (targets.length === 0) return done();
  if (count === 0) throw new QuantConfigError(`refine: ${targets.length} layer(s) ask for learning, and no calibration images were given`);
  if (prepared.inputs.length !== 1) throw new QuantConfigError(`refine: the model has ${prepared.inputs.length} inputs; learning feeds images to a model with one`);
  const input = prepared.inputs[0]!.name;
  const maxColumns = options.maxColumns ?? 8192;
  const iterations = options.iterations ?? 400;

  const work: QuantizedGraph = { ...nearest, layers: [...nearest.layers] };
  const floatRuns = batches.map((x) => floatSteps(prepared, { [input]: x }));
  const quantRuns = batches.map((x) => goldenSteps(work, { [input]: x }));
  const plan = targets.map((name) => {
    const index = work.layers.findIndex((l) => l.name === name && (l.kind === 'conv' || l.kind === 'dense'));
    const q = work.layers[index] as QMatmulLayer;
    const s = nearest.settings.get(name) as LayerQuant;
    return { name, index, q, s, cost: layerCost(prepared, q, needsLearning(s).rounding ? iterations : 0, count, maxColumns) };
  });
  // Codes travel as int8 (the GPU's widest weight lane): AdaRound learns 2- to 8-bit weights.
  const wide = plan.filter((p) => needsLearning(p.s).rounding && p.s.weightBits > 8).map((p) => `'${p.name}'`);
  if (wide.length > 0) throw new QuantConfigError(`refine: AdaRound learns 2- to 8-bit weights; layer(s) ${wide.join(', ')} have more`);
  const total = plan.reduce((a, p) => a + p.cost.data + p.cost.learn, 0);
  let spent = 0;
  const report = (i: number, extra: number): void => options.onProgress?.({ layer: plan[i]!.name, index: i, layers: plan.length, done: spent + extra, total });

  for (const [i, { name, index, q, s, cost }] of plan.entries()) {
    report(i, 0);
    const moments = new ColumnMoments(q.layer, q.weightShape, count, maxColumns);
    const inP = work.tensors.get(q.inputs[0]!)!;
    for (let b = 0; b < batches.length; b++) {
      const xf = advanceTo(floatRuns[b]!, name);
      const xq = advanceTo(quantRuns[b]!, name);
      const deq = new Float32Array(xq.data.length);
      for (let j = 0; j < deq.length; j++) deq[j] = inP.scale * (xq.data[j]! - inP.zeroPoint);
      moments.add(xf, { shape: xq.shape, data: deq });
      report(i, (cost.data * (b + 1)) / batches.length);
      await nextTurn();
    }
    moments.finish();
    spent += cost.data;
    const w = prepared.constants.get(q.layer.inputs[1]!)!.data;
    const needs = needsLearning(s);
    const entry: LayerRefinement = {};
    let codes = q.weights;
    if (needs.rounding) {
      codes = await learnCodes(q, w, s, moments, options, async (f) => {
        report(i, f * cost.learn);
        await nextTurn();
      });
      entry.weights = Int8Array.from(codes);
    }
    spent += cost.learn;
    if (needs.bias) entry.biasCorrection = biasCorrection(q, codes, w, moments);
    learned.set(name, entry);
    // The learned layer runs in the quantized network from here on.
    const rebuilt = quantizeGraph(prepared, config, ranges, configuredWeightThresholds, learned);
    work.layers[index] = rebuilt.layers[index]!;
    report(i, 0);
  }
  return done();
}

/** Resume a paused run up to the step of layer `name`; that layer's first input. */
function advanceTo(run: Generator<{ layer: { name: string }; inputs: readonly Tensor[] }, unknown>, name: string): Tensor {
  for (;;) {
    const r = run.next();
    if (r.done) throw new QuantConfigError(`refine: layer '${name}' was not reached`);
    if (r.value.layer.name === name) return r.value.inputs[0]!;
  }
}

/** AdaRound per group of the layer (a depthwise layer: one small problem per channel), in chunks of iterations that yield. */
async function learnCodes(
  q: QMatmulLayer,
  w: Float32Array,
  s: LayerQuant,
  moments: ColumnMoments,
  options: RefineOptions,
  progress: (fraction: number) => Promise<void>,
): Promise<Int32Array> {
  const m = q.weightShape[0]!;
  const k = moments.k;
  const rowsPerGroup = m / moments.groups;
  const codes = new Int32Array(m * k);
  for (let g = 0; g < moments.groups; g++) {
    const weights = w.subarray(g * rowsPerGroup * k, (g + 1) * rowsPerGroup * k);
    const cross = moments.cross[g]!;
    // C = W (X X~^T) / N, one row per output channel of the group.
    const target = new Float64Array(rowsPerGroup * k);
    for (let r = 0; r < rowsPerGroup; r++) {
      for (let i = 0; i < k; i++) {
        const a = weights[r * k + i]!;
        if (a === 0) continue;
        for (let j = 0; j < k; j++) target[r * k + j]! += a * cross[i * k + j]!;
      }
    }
    const steps = adaroundSteps(
      { weights, rows: rowsPerGroup, k, scales: q.weightScales.subarray(g * rowsPerGroup, (g + 1) * rowsPerGroup), qmax: weightRange(s.weightBits), gram: moments.gram[g]!, target },
      options,
    );
    // A large group yields every few iterations (about 2^22 multiply-adds a slice); many small ones (depthwise) every 16 groups.
    const large = rowsPerGroup * k * k * 16 > 1 << 22;
    for (;;) {
      const r = steps.next();
      if (r.done) {
        codes.set(r.value, g * rowsPerGroup * k);
        break;
      }
      if (large) await progress((g + r.value) / moments.groups);
    }
    if (!large && (g % 16 === 15 || g === moments.groups - 1)) await progress((g + 1) / moments.groups);
  }
  return codes;
}

/**
 * Minus the mean pre-activation error of the quantized layer per output
 * channel: mean(W~ x~) - mean(W x) = W~ mean(x~) - W mean(x), with the
 * biases cancelling (Nagel et al. 2019, empirical bias correction).
 */
function biasCorrection(q: QMatmulLayer, codes: Int32Array, w: Float32Array, moments: ColumnMoments): Float32Array {
  const m = q.weightShape[0]!;
  const k = moments.k;
  const rowsPerGroup = m / moments.groups;
  const out = new Float32Array(m);
  for (let c = 0; c < m; c++) {
    const g = Math.floor(c / rowsPerGroup);
    const mq = moments.meanQuant[g]!;
    const mf = moments.meanFloat[g]!;
    let e = 0;
    for (let i = 0; i < k; i++) e += codes[c * k + i]! * q.weightScales[c]! * mq[i]! - w[c * k + i]! * mf[i]!;
    out[c] = -e;
  }
  return out;
}

/** Estimated arithmetic of one layer: gathering its products, and its AdaRound iterations. */
function layerCost(graph: Graph, q: QMatmulLayer, iterations: number, images: number, maxColumns: number): { data: number; learn: number } {
  const groups = q.layer.op === 'conv' ? q.layer.group : 1;
  const m = q.weightShape[0]!;
  const k = q.weights.length / m;
  const shape = graph.shapes.get(q.outputs[0]!) ?? [];
  const positions = q.kind === 'conv' ? shape.slice(2).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1) : 1;
  const columns = Math.min(maxColumns, images * positions);
  return { data: groups * (1.5 * k * k * columns + 2 * k * images * positions), learn: iterations * m * k * k };
}

async function collectBatches(images: Tensor | AsyncIterable<Tensor> | Iterable<Tensor>): Promise<Tensor[]> {
  if ('shape' in images && 'data' in images) return [images];
  const out: Tensor[] = [];
  for await (const b of images) out.push(b);
  return out;
}

/** Let the event loop turn (progress output, a page's repaint). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
