import { readFileSync } from 'node:fs';
import type { ImageDataset, ImageLayout, ImageSize } from '../data/dataset.js';
import { openDataset } from '../data/open-dataset.js';
import { InputError, QuantConfigError } from '../errors.js';
import { imageInput } from '../eval/evaluate.js';
import type { Graph } from '../ir/graph.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../io/image.js';
import { cardPreprocessing, readModelCard, type ModelCard } from '../model/model-card.js';
import { loadModelFile, loadQuantizedModelFile } from '../model/load-model-file.js';
import type { ImportedQuantized } from '../import/onnx/quantized/import-quantized.js';
import type { ExecutorChoice } from '../executor/executor.js';
import { collectStats, type CalibrationStats } from '../quant/calibrate-graph.js';
import { statsFromFile } from '../quant/calibration/stats-file.js';
import type { TensorStats } from '../quant/calibration/tensor-stats.js';
import { prepareForQuantization } from '../quant/prepare.js';
import { formatEqualization } from '../ir/passes/cross-layer-equalization.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { refinementFromFile, type Refinement } from '../quant/refine/refinement.js';
import type { Tensor } from '../cpu/tensor.js';
import { noteFallback, parseShapeOption, type ModelOptions } from './options.js';
import { progressBar, type Progress } from './progress.js';

/** A model as the quantizing commands use it: prepared graph, card, preprocessing and image size. */
export interface ModelSetup {
  path: string;
  graph: Graph;
  card: ModelCard | undefined;
  pre: Preprocessing;
  size: ImageSize;
  /** The input's layout: datasets hand out batches in it (`ds.batches(n, m.size, m.pre, m.layout)`). */
  layout: ImageLayout;
  /** The model's fixed batch, where its input's first dimension is a number: every batch fed to it has this size. */
  batch?: number;
}

/** A model file with the `--shape` values applied (input names are read from the file first). */
export function loadCliModel(path: string, shape: readonly string[] = [], simplify = true): Graph {
  if (shape.length === 0) return loadModelFile(path, { simplify });
  const probe = loadModelFile(path, { simplify: false });
  const inputShapes = parseShapeOption(shape, probe.inputs.map((i) => i.name));
  return loadModelFile(path, { inputShapes, simplify });
}

/** The model's fixed batch (a number as the input's first dimension: PyTorch exports often have 1), or undefined where it is free. */
export function fixedBatch(graph: Graph): number | undefined {
  const d = graph.inputs[0]?.shape[0];
  return typeof d === 'number' ? d : undefined;
}

/**
 * Images per batch for a model: its fixed batch where it has one (saying so
 * when that is not what was asked), else `asked`.
 */
export function batchFor(m: Pick<ModelSetup, 'batch' | 'path'>, asked: number, flag?: string): number {
  if (m.batch === undefined || m.batch === asked) return asked;
  if (flag !== undefined) noteOnce(`${m.path} takes batches of ${m.batch} (its input's first dimension); ${flag} ${asked} does not apply`);
  return m.batch;
}

const noted = new Set<string>();

/** A note on stderr, said once however often the work reaches it (eval opens the test set for float and for the quantized pass). */
function noteOnce(text: string): void {
  if (noted.has(text)) return;
  noted.add(text);
  process.stderr.write(`note: ${text}\n`);
}

/** A count of images rounded down to whole fixed batches (a model with a fixed batch of b cannot take a partial one). */
export function wholeBatches(m: Pick<ModelSetup, 'batch' | 'path'>, count: number, what: string): number {
  if (m.batch === undefined || m.batch === 1 || !Number.isFinite(count) || count % m.batch === 0) return count;
  const whole = Math.floor(count / m.batch) * m.batch;
  if (whole === 0) throw new InputError(`${m.path} takes batches of ${m.batch}; ${count} ${what} do not fill one`);
  noteOnce(`${m.path} takes batches of ${m.batch}: ${whole} of the ${count} ${what}`);
  return whole;
}

export function setupModel(path: string, o: ModelOptions = {}): ModelSetup {
  const graph = prepareForQuantization(loadCliModel(path, o.shape));
  const card = readModelCard(path);
  let pre = o.preprocess ?? cardPreprocessing(card);
  if (!pre) {
    pre = DEFAULT_PREPROCESSING;
    process.stderr.write(`note: ${path} has no model card with input.scale/mean/std; feeding pixel/255 (--preprocess sets it)\n`);
  }
  const batch = fixedBatch(graph);
  const input = imageInput(graph, card?.input?.layout);
  const channels = input.size[0];
  for (const [what, values] of [['mean', pre.mean], ['std', pre.std]] as const) {
    if (values.length !== 1 && values.length !== channels) throw new InputError(`${o.preprocess ? '--preprocess' : `the model card of ${path}`}: ${values.length} ${what} values for an input of ${channels} channel(s); give one, or one per channel`);
  }
  return { path, graph, card, pre, ...input, ...(batch === undefined ? {} : { batch }) };
}

/** What cross-layer equalization did (once per process, however many configs reach it). */
export function noteEqualization(graph: Graph): void {
  if (graph.equalization) noteOnce(formatEqualization(graph.equalization));
}

/** What equalization and analytic bias correction did to a quantized model, on stderr. */
export function noteQuantized(qg: QuantizedGraph): void {
  noteEqualization(qg.float);
  const a = qg.analyticBiasCorrection;
  if (!a) return;
  const lines = [`bias correction (analytic): ${a.corrected.length} layer(s) corrected, ${a.skipped.length} skipped`];
  for (const s of a.skipped) lines.push(`  skipped ${s.layer}: ${s.reason}`);
  noteOnce(lines.join('\n'));
}

/**
 * Calibration statistics over the first `images` training images of a
 * dataset (in the model's fixed batch, where it has one); with `equalize`,
 * of the cross-layer equalized graph (QuantConfig.equalize).
 */
export async function calibrateModel(m: ModelSetup, data: string, images: number, bar: Progress, executor: ExecutorChoice = 'auto', equalize = false): Promise<CalibrationStats> {
  const { count, batches } = await trainingBatches(m, data, images);
  const graph = prepareForQuantization(m.graph, { equalize });
  noteEqualization(graph);
  return collectStats(graph, batches, { onProgress: (n) => bar.update(n, count), executor, onFallback: noteFallback });
}

/** The first `images` training images of a dataset as the model takes them (its fixed batch, where it has one), and their count. */
export async function trainingBatches(m: ModelSetup, data: string, images: number): Promise<{ count: number; batches: AsyncIterable<Tensor> }> {
  const ds = await openDataset(data, 'train', wholeBatches(m, images, 'calibration images'));
  async function* batches() {
    // A short last batch cannot feed a fixed-batch model (fewer images in the set than asked).
    for await (const b of ds.batches(m.batch ?? 64, m.size, m.pre, m.layout)) if (m.batch === undefined || b.x.shape[0] === m.batch) yield b.x;
  }
  return { count: ds.count, batches: batches() };
}

function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseJsonText(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new QuantConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function readStatsFile(path: string): { tensors: Map<string, TensorStats>; calibrator?: string } {
  return parseStatsText(readTextFile(path), path);
}

/** The text of a statistics file (`calibrate -o`): its tensors and the calibrator it was made for. */
export function parseStatsText(text: string, path: string): { tensors: Map<string, TensorStats>; calibrator?: string } {
  const json = parseJsonText(text, path);
  const tensors = statsFromFile(json);
  const calibrator = (json as { calibrator?: unknown }).calibrator;
  return { tensors, ...(typeof calibrator === 'string' ? { calibrator } : {}) };
}

/** A refinement file carries the statistics it was learned with (the quantization it fits): they stand in for --stats. */
function carriedStats(refinementPath: string | undefined): Map<string, TensorStats> | undefined {
  return refinementPath === undefined ? undefined : readRefinementFile(refinementPath).stats;
}

/** A file of `quantgpu refine`: the refinement, and the calibration statistics it was learned with. */
export function readRefinementFile(path: string): { refinement: Refinement; stats?: Map<string, TensorStats> } {
  const json = parseJsonText(readTextFile(path), path);
  const refinement = refinementFromFile(json);
  const stats = (json as { stats?: unknown }).stats;
  return { refinement, ...(stats === undefined ? {} : { stats: statsFromFile(stats) }) };
}

/** The test split (its first `limit` images), in whole fixed batches where the model has one. */
export async function openTestSet(m: ModelSetup, data: string, limit = Infinity): Promise<ImageDataset> {
  const ds = await openDataset(data, 'test', limit);
  const whole = wholeBatches(m, ds.count, 'test images');
  return whole === ds.count ? ds : openDataset(data, 'test', whole);
}

/**
 * The statistics a quantizing command works from: the `--stats` file, those
 * a `--refinement` file carries, or a calibration now on the first `images`
 * training images of `data` (with a progress bar; of the equalized graph with
 * `equalize`), and the calibrator the file records.
 */
export async function statsFor(
  m: ModelSetup,
  o: { stats?: string; refinement?: string; data?: string; images: number; json?: boolean; executor?: ExecutorChoice; equalize?: boolean },
): Promise<{ tensors: Map<string, TensorStats>; calibrator?: string }> {
  if (o.stats !== undefined) return readStatsFile(o.stats);
  const carried = carriedStats(o.refinement);
  if (carried !== undefined) return { tensors: carried };
  if (o.data === undefined) throw new InputError('calibration needs --stats or --data');
  const bar = progressBar('calibrate', Boolean(o.json));
  try {
    return { tensors: (await calibrateModel(m, o.data, o.images, bar, o.executor, o.equalize)).tensors };
  } finally {
    bar.stop();
  }
}

/**
 * The statistics of a command that loads the model itself (`run`, `export`):
 * the `--stats` file, those a `--refinement` file carries, or a calibration
 * now on `--data` (default: the model card's dataset). `need` says what asks
 * for them in the error when none is given.
 */
export async function statsForModelFile(
  path: string,
  o: ModelOptions & { stats?: string; refinement?: string; data?: string; calibImages: number; json?: boolean; executor?: ExecutorChoice; equalize?: boolean },
  need: string,
): Promise<{ tensors: Map<string, TensorStats>; calibrator?: string }> {
  if (o.stats !== undefined) return readStatsFile(o.stats);
  const carried = carriedStats(o.refinement);
  if (carried !== undefined) return { tensors: carried };
  const data = o.data ?? readModelCard(path)?.dataset;
  if (data === undefined) throw new InputError(`${need} needs calibration: give --stats or --data (the model has no card naming its dataset)`);
  return statsFor(setupModel(path, o), { ...o, data, images: o.calibImages });
}

/**
 * A model file quantized elsewhere (QDQ, QLinear or QONNX Quant operators), which every
 * quantized command runs with the file's own scales and zero points; or
 * undefined for a float model, which goes on with --config. Flags that
 * choose a quantization (`--config` other than float, `--stats`, a
 * calibration `--data`) make no sense for it and are refused by name;
 * `given` says which flags the command line set. The file's notes (where its
 * arithmetic differs from ours, what runs in float) go to stderr.
 */
export function quantizedModelFile(path: string, o: ModelOptions & { config?: string; stats?: string; json?: boolean }, given: (flag: string) => boolean, calibrationData = false): ImportedQuantized | undefined {
  const q = loadQuantizedModelFile(path, o.shape && o.shape.length > 0 ? { inputShapes: parseShapeOption(o.shape, loadModelFile(path, { simplify: false }).inputs.map((i) => i.name)) } : {});
  if (q === undefined) return undefined;
  const refused = [given('config') && o.config !== 'float' ? `--config ${o.config}` : undefined, given('stats') ? '--stats' : undefined, given('refinement') ? '--refinement' : undefined, calibrationData && given('data') ? '--data' : undefined].filter((f) => f !== undefined);
  if (refused.length > 0) {
    throw new InputError(`${refused.join(', ')}: ${path} is already quantized (QDQ, QLinear or QONNX Quant operators) and runs with its own scales and zero points; leave out ${refused.length > 1 ? 'these flags' : 'the flag'} (or give --config float for its float model)`);
  }
  for (const n of q.notes) noteOnce(`${path} (quantized in the file): ${n}`);
  return q;
}
