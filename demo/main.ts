/**
 * The page: pick a model and a dataset (bundled, or a folder of labelled
 * images chosen in the browser), calibrate, set bits per
 * layer, run over the test set on the GPU (or the CPU golden model) and see
 * the numbers `quantgpu eval` gives, with the report's charts. Element ids
 * and data attributes (`data-state`, `data-value`, `data-layer`,
 * `data-field`) are stable: test/demo/page.test.ts drives the page by them.
 */
import { imageInput } from '../src/eval/evaluate.js';
import { requestGpu, type Gpu } from '../src/gpu/device.js';
import type { Graph } from '../src/ir/graph.js';
import { DEFAULT_PREPROCESSING } from '../src/io/preprocessing.js';
import { cardPreprocessing, type ModelCard } from '../src/model/card.js';
import { loadModel, loadTfjsModel } from '../src/model/load-model.js';
import type { TensorStats } from '../src/quant/calibration/tensor-stats.js';
import { statsToFile } from '../src/quant/calibration/stats-file.js';
import { LAYER_DEFAULTS, PRESETS, type Bits, type LayerQuant, type QuantConfig } from '../src/quant/config.js';
import { parseQuantConfig, quantConfigToJson } from '../src/quant/config-json.js';
import { calibrate, quantize } from '../src/quant/pipeline.js';
import { prepareForQuantization } from '../src/quant/prepare.js';
import { profileChart, sensitivityChart, tradeoffChart, type ChartSpec } from '../src/search/report/charts.js';
import type { ResultsDoc } from '../src/search/results.js';
import type { Evaluator } from '../src/search/evaluator.js';
import { searchSpace } from '../src/search/space.js';
import { DATASETS, fetchBytes, ZOO } from './app/assets.js';
import { drawCharts } from './app/charts.js';
import { addRule, applyEdit, renderLayerTable, type TableLayer } from './app/layer-table.js';
import { createEvaluator, evalSet, mixedPrecision, weightSensitivity } from './app/tune.js';
import { bundledSource, droppedFolder, folderSource, pickedFiles, type DataSource, type PageImages } from './app/data.js';
import type { PathedFile } from '../src/data/file-list.js';
import { forConfig, nothingLearned, type Learned } from './app/learning.js';
import type { Refinement } from '../src/quant/refine/refinement.js';
import { BATCH, Cancelled, floatReference, runEvaluation, type FloatReference, type ModelInput, type RunBackend, type RunResult } from './app/run.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);
const choice = (id: string): HTMLSelectElement => $<HTMLSelectElement>(id);
const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

interface Model {
  name: string;
  graph: Graph;
  card: ModelCard | undefined;
  input: ModelInput;
}

interface Point {
  label: string;
  config: QuantConfig;
  result: RunResult;
}

const state: {
  model?: Model;
  stats?: Map<string, TensorStats>;
  /** `source key:images`: what the statistics were counted on. */
  calibratedOn?: string;
  /** The folder chosen in the browser, the dataset select's `folder` entry. */
  folder?: DataSource;
  layers: TableLayer[];
  config: QuantConfig;
  gpu?: Gpu;
  floats: Map<string, FloatReference>;
  points: Point[];
  /** What the points were measured on (model, dataset, images, calibration): points of other sets would not compare. */
  pointsOn?: string;
  abort?: AbortController;
  /** The sensitivity table's and the search's evaluator, with the validation set it was made for (its float reference is computed once). */
  evaluator?: { on: string; evaluator: Evaluator };
  /** Equalized statistics and refinements made for configs that ask for them, on the current calibration's images. */
  learned: Learned;
} = { layers: [], config: structuredClone(PRESETS.w8a8!), floats: new Map(), points: [], learned: nothingLearned() };

function setState(id: string, s: 'idle' | 'running' | 'done' | 'error' | 'cancelled', text: string): void {
  const el = $(id);
  el.dataset.state = s;
  el.textContent = text;
}

function showError(e: unknown): void {
  const err = e as Error;
  $('error').textContent = `${err.name}: ${err.message}`;
  console.error(err);
}

/** How a cancelled or failed piece of work ends: its status says so, and a failure is shown below. */
function settleFailure(status: string, e: unknown): void {
  if (e instanceof Cancelled) setState(status, 'cancelled', 'cancelled');
  else {
    setState(status, 'error', 'failed: see below');
    showError(e);
  }
}

/** Blob URLs of the save links, replaced as their content changes. */
function setDownload(id: string, text: string): void {
  const a = $<HTMLAnchorElement>(id);
  if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.hidden = false;
}

// ---- the GPU -------------------------------------------------------------

async function findGpu(): Promise<void> {
  const status = $('gpu-status');
  const gpuOption = choice('backend').querySelector<HTMLOptionElement>('option[value="gpu"]')!;
  try {
    state.gpu = await requestGpu();
  } catch (e) {
    // No WebGPU: say so plainly and run on the CPU golden model, which gives the same integers.
    gpuOption.disabled = true;
    choice('backend').value = 'cpu-golden';
    status.className = 'warn';
    status.dataset.gpu = 'none';
    status.textContent = `No WebGPU here (${(e as Error).message}). Runs use the CPU golden model instead: the same integer arithmetic, bit for bit, only slower.`;
    return;
  }
  const f = state.gpu.facts;
  const name = [f.vendor, f.architecture, f.description].filter((s) => s !== '').join(' ') || 'unnamed adapter';
  status.dataset.gpu = f.dot4I8Packed ? 'dot4' : 'no-dot4';
  status.className = f.dot4I8Packed ? 'note' : 'warn';
  status.textContent =
    `WebGPU adapter: ${name}${f.isFallbackAdapter ? ' (a software fallback adapter)' : ''}; timestamp-query ${f.timestampQuery ? 'on' : 'off (no per-layer times)'}; ` +
    (f.dot4I8Packed
      ? 'dot4I8Packed available.'
      : 'no dot4I8Packed: the GPU runs the scalar integer dot product (correct, slower). The CPU golden model is the other choice under Backend.');
}

// ---- model and data ------------------------------------------------------

function modelInput(graph: Graph, card: ModelCard | undefined): ModelInput {
  const pre = cardPreprocessing(card);
  return { ...imageInput(graph, card?.input?.layout), pre: pre ?? DEFAULT_PREPROCESSING };
}

function useModel(name: string, raw: Graph, card: ModelCard | undefined): void {
  const graph = prepareForQuantization(raw);
  state.model = { name, graph, card, input: modelInput(graph, card) };
  state.stats = undefined;
  state.learned = nothingLearned();
  state.calibratedOn = undefined;
  state.evaluator = undefined;
  state.layers = [];
  state.points = [];
  $('charts').innerHTML = '';
  $('metrics').innerHTML = '';
  $('misclassified').innerHTML = '';
  $('sensitivity').innerHTML = '';
  setState('tune-status', 'idle', '');
  $('layers').innerHTML = '<tr><td class="note">calibrate first: the table lists the layers a config can set</td></tr>';
  $<HTMLAnchorElement>('save-stats').hidden = true;
  setState('calib-status', 'idle', '');
  // A model's card names its bundled dataset; a folder the user chose stays chosen.
  if (card?.dataset && DATASETS.includes(card.dataset) && choice('dataset').value !== 'folder') choice('dataset').value = card.dataset;
  const [c, h, w] = state.model.input.size;
  $('model-info').textContent =
    `${name}: ${graph.layers.length} layers, input ${state.model.input.layout} ${c}x${h}x${w}` +
    (card?.floatAccuracy !== undefined ? `, float accuracy ${pct(card.floatAccuracy)} (model card)` : '') +
    (cardPreprocessing(card) ? '' : '; no model card: pixels are fed as pixel/255');
  updateButtons();
}

async function loadZooModel(name: string): Promise<void> {
  const z = ZOO.find((m) => m.name === name)!;
  useModel(name, loadModel(await fetchBytes(z.url, name)), z.card);
}

/** An .onnx file, or a TF.js model.json with its weight shards (in the manifest's order). */
async function loadOwnModel(files: readonly File[]): Promise<void> {
  const onnx = files.find((f) => f.name.endsWith('.onnx'));
  if (onnx) return useModel(onnx.name, loadModel(new Uint8Array(await onnx.arrayBuffer())), undefined);
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new Error('choose an .onnx file, or a TF.js model.json with its weight files');
  const modelJson = JSON.parse(await json.text()) as { weightsManifest?: Array<{ paths: string[] }> };
  const paths = (modelJson.weightsManifest ?? []).flatMap((g) => g.paths);
  const shards = await Promise.all(
    paths.map(async (p) => {
      const f = files.find((x) => x.name === p.replace(/^.*\//, ''));
      if (!f) throw new Error(`${json.name} names the weight file ${p}: choose it together with the model.json`);
      return new Uint8Array(await f.arrayBuffer());
    }),
  );
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  shards.reduce((at, s) => (weights.set(s, at), at + s.length), 0);
  useModel(json.name, loadTfjsModel({ modelJson, weightData: weights.buffer }), undefined);
}

/** The dataset chosen: a bundled one, or the folder chosen in the browser. */
function source(): DataSource {
  const v = choice('dataset').value;
  return v === 'folder' && state.folder ? state.folder : bundledSource(v);
}

/** Statistics and float references belong to one dataset: a new one asks for a new calibration. */
function datasetChanged(): void {
  state.stats = undefined;
  state.learned = nothingLearned();
  state.evaluator = undefined;
  setState('calib-status', 'idle', 'dataset changed: calibrate again');
  updateButtons();
}

/**
 * A folder of labelled images chosen in the browser (one subfolder per
 * label, as `--data FOLDER`): it becomes the dataset select's `folder` entry.
 */
function useFolder(files: readonly PathedFile[]): void {
  const { source: src, folder } = folderSource(files);
  state.folder = src;
  const select = choice('dataset');
  let option = select.querySelector<HTMLOptionElement>('option[value="folder"]');
  if (!option) {
    option = document.createElement('option');
    option.value = 'folder';
    select.append(option);
  }
  option.textContent = `${folder.name} (folder, ${folder.files.length} images)`;
  select.value = 'folder';
  const jpegs = folder.files.filter((f) => /\.jpe?g$/i.test(f.file.path)).length;
  const info = $('data-info');
  info.dataset.images = String(folder.files.length);
  info.dataset.classes = String(folder.classes.length);
  info.className = jpegs > 0 ? 'warn' : 'note';
  info.textContent =
    `Folder ${folder.name}: ${folder.files.length} images, ${folder.classes.length} labels (${folder.classes.slice(0, 12).join(', ')}${folder.classes.length > 12 ? ', …' : ''}), in the order of quantgpu's --data ${folder.name}. ` +
    'As the CLI reads a folder, calibration takes its first images, the test run its first images too, and the validation images follow the calibration ones. ' +
    (jpegs > 0
      ? `${jpegs} of them are JPEG: the browser's JPEG decoder differs slightly from the CLI's (jpeg-js; a few levels in some pixels), so the numbers may differ slightly from quantgpu eval's; PNGs decode alike.`
      : 'PNGs decode to the same pixels here as in the CLI (translucent pixels aside); JPEGs would decode slightly differently.');
  datasetChanged();
}

// ---- calibration ---------------------------------------------------------

async function runCalibration(): Promise<void> {
  const m = state.model!;
  const src = source();
  const train = await src.images('train', 0, Math.max(1, Number(input('calib-count').value) || 256));
  const bar = $<HTMLProgressElement>('calib-progress');
  bar.max = train.count;
  setState('calib-status', 'running', `calibrating on ${train.count} ${src.label} ${src.kind === 'folder' ? 'images (the first of the folder)' : 'training images'}…`);
  async function* batches() {
    for await (const b of train.dataset.batches(BATCH, m.input.size, m.input.pre, m.input.layout)) yield b.x;
  }
  const t0 = performance.now();
  let note = '';
  // The evaluator holds the statistics it was made with: a new calibration makes a new one.
  state.evaluator = undefined;
  state.learned = nothingLearned();
  state.stats = await calibrate(m.graph, batches(), {
    onProgress: (n) => {
      bar.value = n;
    },
    onFallback: (why) => (note = `; on quantgpu's executor (${why})`),
  });
  state.calibratedOn = `${src.key}:${train.count}`;
  bar.value = train.count;
  // The table lists what a config can set: layers with integer weights or an output of their own.
  const qg = quantize(m.graph, state.stats, PRESETS.w8a8!);
  const space = searchSpace(qg);
  const names = [...new Set([...space.weightLayers, ...space.activationLayers])];
  const order = new Map(qg.layers.map((l, i) => [l.name, i]));
  state.layers = names
    .sort((a, b) => order.get(a)! - order.get(b)!)
    .map((name) => ({ name, kind: qg.layers[order.get(name)!]!.kind, weights: space.weightLayers.includes(name) }));
  setDownload('save-stats', JSON.stringify(statsToFile(state.stats)));
  setState('calib-status', 'done', `calibrated on ${train.count} images in ${((performance.now() - t0) / 1000).toFixed(1)} s${note}`);
  renderConfig();
}

// ---- the config ----------------------------------------------------------

function setConfig(c: QuantConfig): void {
  state.config = c;
  renderConfig();
}

function renderConfig(): void {
  if (state.layers.length > 0) renderLayerTable($<HTMLTableElement>('layers'), state.layers, state.config);
  const json = quantConfigToJson(state.config);
  $<HTMLTextAreaElement>('config-json').value = json;
  setDownload('save-config', json);
  choice('preset').value = state.config.name && PRESETS[state.config.name] ? state.config.name : '';
  $('config-error').textContent = '';
  updateButtons();
}

/** An edit drops the preset's name: the config is no longer the preset. */
function edited(c: QuantConfig): QuantConfig {
  const { name: _name, ...rest } = c;
  return rest;
}

function parseConfigText(text: string, source: string): QuantConfig {
  const { $schema: _schema, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return parseQuantConfig(rest, source);
}

// ---- runs ----------------------------------------------------------------

function updateButtons(): void {
  const busy = state.abort !== undefined;
  const ready = state.model !== undefined && state.stats !== undefined;
  $<HTMLButtonElement>('calibrate').disabled = busy || state.model === undefined;
  $<HTMLButtonElement>('run').disabled = busy || !ready;
  $<HTMLButtonElement>('sweep').disabled = busy || !ready;
  $<HTMLButtonElement>('cancel').disabled = !busy;
  $<HTMLButtonElement>('sensitivity-run').disabled = busy || !ready;
  $<HTMLButtonElement>('search-run').disabled = busy || !ready;
  $<HTMLButtonElement>('tune-cancel').disabled = !busy;
}

async function floatFor(m: Model, test: PageImages, dataset: string): Promise<FloatReference> {
  const key = `${m.name}|${dataset}|${test.count}`;
  let f = state.floats.get(key);
  if (!f) {
    const bar = $<HTMLProgressElement>('run-progress');
    bar.max = test.count;
    setState('run-status', 'running', 'float reference…');
    f = await floatReference(m.graph, test, m.input, (p) => (bar.value = p.done));
    state.floats.set(key, f);
  }
  return f;
}

/** The statistics and refinement a config needs: equalized ones, learned rounding, made on the calibration images once (app/learning.ts). */
async function configInputs(m: Model, config: QuantConfig): Promise<{ stats: Map<string, TensorStats>; refinement?: Refinement }> {
  // The calibration images are read again only when a config needs them (most do not).
  async function* images() {
    const train = await source().images('train', 0, calibratedCount());
    for await (const b of train.dataset.batches(BATCH, m.input.size, m.input.pre, m.input.layout)) yield b.x;
  }
  const bar = $<HTMLProgressElement>('run-progress');
  return forConfig(m.graph, config, state.stats!, state.learned, images, (text, done, total) => {
    setState('run-status', 'running', text);
    if (done !== undefined && total !== undefined) {
      bar.max = total;
      bar.value = done;
    }
  });
}

async function runOne(config: QuantConfig, label: string, signal: AbortSignal): Promise<Point> {
  const m = state.model!;
  const src = source();
  const dataset = src.key;
  const test = await src.images('test', 0, Math.max(1, Number(input('test-count').value) || 1000));
  const backend = choice('backend').value as RunBackend;
  const { stats, refinement } = await configInputs(m, config);
  const qg = quantize(m.graph, stats, config, { ...(refinement === undefined ? {} : { refinement }), ...(backend === 'gpu' ? { gpu: state.gpu!.facts } : {}) });
  const float = await floatFor(m, test, dataset);
  const on = `${m.name}|${dataset}|${test.count}|${state.calibratedOn}`;
  if (state.pointsOn !== on) state.points = [];
  state.pointsOn = on;
  const bar = $<HTMLProgressElement>('run-progress');
  bar.max = test.count;
  setState('run-status', 'running', `${label}: 0/${test.count}`);
  const result = await runEvaluation(qg, test, m.input, float, {
    backend,
    ...(state.gpu ? { gpu: state.gpu } : {}),
    signal,
    onProgress: (p) => {
      bar.value = p.done;
      $('run-status').textContent = `${label} on ${backend}: ${p.done}/${p.total}, accuracy so far ${pct(p.correct / p.done)}`;
    },
  });
  const point = { label: `#${state.points.length + 1} ${label}`, config, result };
  state.points.push(point);
  await showResult(point, test, m);
  return point;
}

async function showResult(p: Point, test: PageImages, m: Model): Promise<void> {
  const r = p.result;
  const rows: Array<[string, string, string, string | number]> = [
    ['config', 'config', p.label, p.label],
    ['backend', 'backend', r.backend, r.backend],
    ['images', 'images', String(r.images), r.images],
    ['accuracy', 'accuracy', pct(r.accuracy), r.accuracy],
    ['float-accuracy', 'float accuracy', pct(r.floatAccuracy), r.floatAccuracy],
    ['agreement', 'agreement with float', pct(r.agreement), r.agreement],
    ['size', 'size', `${(r.sizeBytes / 1024).toFixed(1)} KiB (${pct(r.sizeVsInt8)} of int8, ${pct(r.sizeVsFloat32)} of float32)`, r.sizeBytes],
    ['bops', 'bit-operations', `${(r.bops / 1e9).toFixed(3)} G per image (${pct(r.bopsVsInt8)} of int8)`, r.bops],
    ...(r.gpuMsPerImage !== undefined ? [['gpu-ms', 'GPU ms per image', r.gpuMsPerImage.toFixed(3), r.gpuMsPerImage] as [string, string, string, number]] : []),
    ['seconds', 'seconds', r.seconds.toFixed(1), r.seconds],
    ['digest', 'output digest', r.outputDigest, r.outputDigest],
  ];
  $('metrics').innerHTML = rows.map(([id, name, text]) => `<dt>${name}</dt><dd id="${id}">${text}</dd>`).join('');
  for (const [id, , , value] of rows) $(id).dataset.value = String(value);
  drawRunCharts(p);
  await showMisclassified(r, test, m);
}

/** Every run so far as a sweep's results file: the report's trade-off charts draw it. */
function pointsDoc(): ResultsDoc {
  const first = state.points[0]!.result;
  return {
    format: 'quantgpu-search-results',
    version: 1,
    command: 'sweep',
    model: state.model!.name,
    dataset: source().label,
    sets: { calibration: { split: 'train', start: 0, count: state.calibratedOn ? calibratedCount() : 0 }, test: { split: 'test', start: 0, count: first.images } },
    floatAccuracy: { test: first.floatAccuracy },
    environment: state.gpu ? { adapter: state.gpu.facts.description || state.gpu.facts.vendor } : {},
    points: state.points.map((p, i) => {
      const r = p.result;
      return {
        id: i + 1,
        label: p.label,
        config: p.config,
        backend: r.backend,
        split: 'test',
        images: r.images,
        accuracy: r.accuracy,
        agreement: r.agreement,
        lossStdError: r.lossStdError,
        sqnrDb: r.sqnrDb,
        noise: r.noise,
        sizeBytes: r.sizeBytes,
        sizeVsInt8: r.sizeVsInt8,
        bops: r.bops,
        bopsVsInt8: r.bopsVsInt8,
        ...(r.gpuMsPerImage !== undefined ? { gpuMsPerImage: r.gpuMsPerImage } : {}),
      };
    }),
  };
}

function drawRunCharts(latest: Point): void {
  const doc = pointsDoc();
  const specs: Array<ChartSpec | undefined> = [tradeoffChart(doc, 'bops'), tradeoffChart(doc, 'size'), tradeoffChart(doc, 'gpu')];
  if (latest.result.profile) specs.push(profileChart(latest.result.profile, `GPU time per layer of ${latest.label} (ms per image, batch ${latest.result.profile.batch}, median of ${latest.result.profile.repeats})`));
  drawCharts(
    $('charts'),
    specs.filter((s): s is ChartSpec => s !== undefined),
    (name) => {
      const p = state.points.find((x) => x.label === name);
      if (p) setConfig(structuredClone(p.config));
    },
  );
}

async function showMisclassified(r: RunResult, test: PageImages, m: Model): Promise<void> {
  const box = $('misclassified');
  box.innerHTML = '';
  const classes = m.card?.classes ?? test.classes;
  const name = (k: number): string => classes?.[k] ?? String(k);
  let shown = 0;
  for (let i = 0; i < r.images && shown < 32; i++) {
    if (r.predictions[i] === test.labels[i]) continue;
    shown++;
    const canvas = document.createElement('canvas');
    await test.draw(i, canvas, m.input.pre);
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.innerHTML = `#${i}: <b>${name(r.predictions[i]!)}</b><br>(is ${name(test.labels[i]!)})`;
    fig.append(canvas, cap);
    box.append(fig);
  }
  if (shown === 0) box.textContent = 'none';
}

/** Runs `configs` in turn with progress and cancel; the status ends as done, cancelled or error. */
async function runConfigs(configs: Array<{ config: QuantConfig; label: string }>): Promise<void> {
  const abort = new AbortController();
  state.abort = abort;
  updateButtons();
  $('error').textContent = '';
  // At once, before any await: whoever waits on the status sees this run, not the last one.
  setState('run-status', 'running', 'starting…');
  try {
    let last: Point | undefined;
    for (const c of configs) last = await runOne(c.config, c.label, abort.signal);
    setState('run-status', 'done', `done: ${last!.label}, ${pct(last!.result.accuracy)} on ${last!.result.images} images in ${last!.result.seconds.toFixed(1)} s`);
  } catch (e) {
    settleFailure('run-status', e);
  } finally {
    state.abort = undefined;
    updateButtons();
  }
}

const labelOf = (c: QuantConfig): string => c.name ?? 'custom';

// ---- sensitivity and search ------------------------------------------------

/** The images the statistics were counted on (`calibratedOn` ends with their number). */
const calibratedCount = (): number => Number(state.calibratedOn!.split(':').at(-1));

/** The validation images' evaluator: the training images after the calibration ones (never the test split; a folder's images after the calibration ones, as the CLI's search takes them). */
async function validationEvaluator(bar: HTMLProgressElement): Promise<Evaluator> {
  const m = state.model!;
  const src = source();
  const calibrated = calibratedCount();
  const images = await src.images('train', calibrated, Math.max(1, Number(input('val-count').value) || 256));
  if (images.count === 0) {
    throw new Error(`calibration took all ${await src.size('train')} ${src.kind === 'folder' ? `images of the folder ${src.label}` : `bundled ${src.label} training images`}: calibrate on fewer to leave validation images for the table and the search`);
  }
  const on = `${m.name}|${state.calibratedOn}|${calibrated}+${images.count}`;
  if (state.evaluator?.on !== on) {
    setState('tune-status', 'running', `float reference on ${images.count} validation images (training images ${calibrated}-${calibrated + images.count - 1})…`);
    bar.removeAttribute('value');
    const set = await evalSet(images.dataset, m.input, 'validation');
    state.evaluator = { on, evaluator: await createEvaluator(m.graph, state.stats!, set, () => state.abort?.signal) };
  }
  return state.evaluator.evaluator;
}

/** 8-bit weights and activations with the config's scheme, granularity and calibrators: the reference the table lowers one layer from, and where the search starts. */
function tuneBase(): LayerQuant {
  const d = state.config.default === 'float' ? LAYER_DEFAULTS : state.config.default;
  return { ...LAYER_DEFAULTS, ...d, weightBits: 8, activationBits: 8 };
}

/** The search ranks its candidates on at most this many validation images: its table is a hundred passes or more, on WebAssembly (a bigger zoo model takes minutes). */
const SEARCH_RANK_IMAGES = 256;

async function tune(what: 'sensitivity' | 'search'): Promise<void> {
  const abort = new AbortController();
  state.abort = abort;
  updateButtons();
  $('error').textContent = '';
  setState('tune-status', 'running', 'starting…');
  const bar = $<HTMLProgressElement>('tune-progress');
  try {
    const evaluator = await validationEvaluator(bar);
    const n = evaluator.set.labels.length;
    const base = tuneBase();
    const t0 = performance.now();
    if (what === 'sensitivity') {
      const bits = [...new Set(input('sens-bits').value.split(/[\s,]+/).filter((b) => b !== '').map(Number))];
      if (bits.length === 0 || bits.some((b) => !Number.isInteger(b) || b < 2 || b > 8)) throw new Error(`sensitivity bits: ${input('sens-bits').value} (whole numbers from 2 to 8, e.g. 4, 2)`);
      const doc = await weightSensitivity(evaluator, base, bits as Bits[], { model: state.model!.name, dataset: source().label, calibration: calibratedCount(), validationStart: calibratedCount() }, {
        signal: abort.signal,
        onCell: (done, total) => {
          bar.max = total;
          bar.value = done;
          $('tune-status').textContent = `sensitivity on ${n} validation images: ${done}/${total} cells`;
        },
      });
      const spec = sensitivityChart(doc, 'weights')!;
      drawCharts($('sensitivity'), [spec]);
      const box = $('sensitivity');
      // The rows the chart was given (one per weight layer), for the page test.
      box.dataset.rows = String((spec.option.yAxis as { data: unknown[] }).data.length);
      box.dataset.cells = String(doc.sensitivity!.cells.length);
      setState('tune-status', 'done', `sensitivity: ${doc.sensitivity!.cells.length} cells on ${n} validation images in ${((performance.now() - t0) / 1000).toFixed(1)} s (reference ${pct(doc.sensitivity!.reference.accuracy)}, float ${pct(evaluator.float.accuracy)})`);
    } else {
      const maxLoss = Number(input('max-loss').value) / 100;
      if (!(maxLoss >= 0)) throw new Error(`loss bound: ${input('max-loss').value} (points of accuracy, e.g. 1)`);
      const r = await mixedPrecision(evaluator, base, maxLoss, {
        signal: abort.signal,
        rankImages: SEARCH_RANK_IMAGES,
        onProgress: (stage, done, total) => {
          bar.max = Math.max(1, total);
          bar.value = done;
          $('tune-status').textContent = `search (${stage}): ${done}/${total}`;
        },
      });
      // The search hears a cancel at its next progress report; one after its last still stops the test-set run.
      if (abort.signal.aborted) throw new Cancelled('cancelled');
      const c = r.chosen;
      setState('tune-status', 'done', `search: ${c.label}, ${pct(c.validation.accuracy)} on ${n} validation images (float ${pct(r.floatAccuracy)}, bound ${pct(r.floatAccuracy - maxLoss)}), ${pct(c.costVsInt8)} of int8's bit-operations; ${r.evaluations} evaluations in ${r.seconds.toFixed(1)} s. Its test-set run follows.`);
      $('tune-status').dataset.config = quantConfigToJson(c.config);
      setConfig(structuredClone(c.config));
      state.abort = undefined;
      // The chosen config over the test set, as any run: a point of the trade-off charts.
      await runConfigs([{ config: structuredClone(c.config), label: `search ≤${100 * maxLoss} pt` }]);
    }
  } catch (e) {
    settleFailure('tune-status', e);
  } finally {
    if (state.abort === abort) state.abort = undefined;
    updateButtons();
  }
}

// ---- wiring --------------------------------------------------------------

async function guarded(f: () => Promise<void> | void): Promise<void> {
  try {
    $('error').textContent = '';
    await f();
  } catch (e) {
    showError(e);
  }
}

function wire(): void {
  choice('model').addEventListener('change', () => guarded(() => loadZooModel(choice('model').value)));
  input('model-file').addEventListener('change', () => guarded(() => loadOwnModel(Array.from(input('model-file').files ?? []))));
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    // A dropped folder is a dataset, dropped files a model. The entries are read now: after the event they are gone.
    const entries = Array.from(e.dataTransfer?.items ?? [], (i) => i.webkitGetAsEntry());
    const files = Array.from(e.dataTransfer?.files ?? []);
    void guarded(async () => {
      const folder = await droppedFolder(entries);
      if (folder) useFolder(folder);
      else await loadOwnModel(files);
    });
  });
  input('data-folder').addEventListener('change', () => guarded(() => useFolder(pickedFiles(input('data-folder').files))));
  choice('dataset').addEventListener('change', datasetChanged);
  $('calibrate').addEventListener('click', () =>
    guarded(async () => {
      state.abort = new AbortController();
      updateButtons();
      setState('calib-status', 'running', 'starting…');
      try {
        await runCalibration();
      } catch (e) {
        setState('calib-status', 'error', 'failed');
        throw e;
      } finally {
        state.abort = undefined;
        updateButtons();
      }
    }),
  );
  choice('preset').addEventListener('change', () => {
    const p = PRESETS[choice('preset').value];
    if (p) setConfig(structuredClone(p));
  });
  $('layers').addEventListener('change', (e) => {
    const el = e.target as HTMLInputElement | HTMLSelectElement;
    const row = el.closest('tr');
    const field = el.dataset.field;
    if (!row?.dataset.layer || !field) return;
    const value = el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
    void guarded(() => setConfig(edited(applyEdit(state.config, row.dataset.layer!, field as Parameters<typeof applyEdit>[2], value))));
  });
  $('add-rule').addEventListener('click', () =>
    guarded(() => {
      const pattern = input('rule-pattern').value.trim();
      if (pattern === '') throw new Error('a rule needs a layer name or glob, e.g. /features/*');
      const setting = input('rule-float').checked ? 'float' : { weightBits: Number(choice('rule-wbits').value) as Bits, activationBits: Number(choice('rule-abits').value) as Bits };
      setConfig(edited(addRule(state.config, pattern, setting)));
    }),
  );
  $('apply-json').addEventListener('click', () =>
    guarded(() => {
      try {
        setConfig(parseConfigText($<HTMLTextAreaElement>('config-json').value, 'config'));
      } catch (e) {
        $('config-error').textContent = `${(e as Error).name}: ${(e as Error).message}`;
      }
    }),
  );
  input('load-config').addEventListener('change', () =>
    guarded(async () => {
      const f = input('load-config').files?.[0];
      if (!f) return;
      try {
        setConfig(parseConfigText(await f.text(), f.name));
      } catch (e) {
        $('config-error').textContent = `${(e as Error).name}: ${(e as Error).message}`;
      }
    }),
  );
  $('run').addEventListener('click', () => void runConfigs([{ config: structuredClone(state.config), label: labelOf(state.config) }]));
  $('sweep').addEventListener('click', () => void runConfigs(['w8a8', 'w4a8', 'w4a4', 'w2a8'].map((n) => ({ config: structuredClone(PRESETS[n]!), label: n }))));
  $('cancel').addEventListener('click', () => state.abort?.abort());
  $('tune-cancel').addEventListener('click', () => state.abort?.abort());
  $('sensitivity-run').addEventListener('click', () => void tune('sensitivity'));
  $('search-run').addEventListener('click', () => void tune('search'));
}

async function start(): Promise<void> {
  choice('model').innerHTML = ZOO.map((m) => `<option value="${m.name}">${m.name}${m.card?.dataset ? ` (${m.card.dataset})` : ''}</option>`).join('');
  choice('dataset').innerHTML = DATASETS.map((d) => `<option value="${d}">${d} (bundled)</option>`).join('');
  choice('preset').innerHTML = '<option value="">(custom)</option>' + Object.keys(PRESETS).map((p) => `<option value="${p}">${p}</option>`).join('');
  wire();
  renderConfig();
  const initial = ZOO.find((m) => m.name === 'fashion-vgg') ?? ZOO[0]!;
  choice('model').value = initial.name;
  await Promise.all([findGpu(), loadZooModel(initial.name)]);
  document.body.dataset.ready = 'true';
}

start().catch(showError);
