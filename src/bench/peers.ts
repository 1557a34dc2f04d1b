/**
 * The peers bench (`quantgpu bench`): the same models through ONNX Runtime
 * Web (WebGPU and wasm, float32, and WebGPU on our QDQ export), TF.js (WebGPU
 * and wasm, on a TF.js model) and quantgpu (float32, w8a8, w4a8), in one
 * headless Chromium, on one WebGPU adapter, in one sitting. The page
 * (peers-page.ts) times each engine; this side prepares the models, serves
 * them and the peers' own files from node_modules, checks that every engine
 * computed the same network and writes the results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runQuantized } from '../cpu/golden/golden-executor.js';
import type { Tensor } from '../cpu/tensor.js';
import { InputError } from '../errors.js';
import { describeAdapter } from '../eval/gpu-backend.js';
import { graphToOnnx } from '../export/onnx/float-graph.js';
import { qdqToOnnx } from '../export/onnx/qdq.js';
import { launchChromiumRunner, type ChromiumRunner, type ServedFile } from '../host/chromium-runner.js';
import type { Envelope } from '../host/page-api.js';
import { base64ToFloat32 } from '../io/base64.js';
import type { Graph } from '../ir/graph.js';
import { loadTfjsModel } from '../model/load-model.js';
import { loadModelFile } from '../model/load-model-file.js';
import { PRESETS, type QuantConfig } from '../quant/config.js';
import { parseQuantConfig } from '../quant/config-json.js';
import { calibrate, quantize } from '../quant/pipeline.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { encodeGraph } from '../runtime/graph-codec.js';
import { seededUniform } from '../util/seeded-input.js';
import { nsfwjsArtifacts } from './nsfwjs.js';
import { PEER_PATHS, type EngineSpec, type MeasureRequest, type Measurement, type Roofline } from './peers-api.js';

/** The engines, in the order they run (ORT wasm first: the float reference). */
export const ENGINES = ['ort-wasm', 'ort-webgpu', 'ort-webgpu-qdq', 'tfjs-webgpu', 'tfjs-wasm', 'quantgpu-float', 'quantgpu-w8a8', 'quantgpu-w4a8', 'quantgpu-searched'] as const;
export type EngineName = (typeof ENGINES)[number];

/** The repository's root: the folder above this module that holds `models/`. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'models')) || !existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new InputError('the quantgpu repository (a folder with models/ and package.json) is not above this module');
    dir = up;
  }
  return dir;
}

export const TORCH_MOBILENET = 'mobilenetv2-224-torch';
export const NSFWJS_MOBILENET = 'nsfwjs-mobilenetv2';

/** Every model the bench knows: the zoo (`models/*.onnx`), MobileNetV2 224 from tools/train, nsfwjs' MobileNetV2 (TF.js). */
export function benchModelNames(): string[] {
  const zoo = readdirSync(join(repoRoot(), 'models'))
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => f.replace(/\.onnx$/, ''));
  return [...zoo, TORCH_MOBILENET, NSFWJS_MOBILENET];
}

interface BenchModel {
  readonly name: string;
  readonly graph: Graph;
  /** The float model as ONNX (ORT runs it). */
  readonly onnx: Uint8Array;
  /** A TF.js layers model: model.json with one weights file, `weights.bin`. */
  readonly tfjs?: { readonly modelJson: string; readonly weights: Uint8Array };
}

/** bench/.cache/mobilenetv2-224-torch.onnx, written by tools/train/mobilenet_v2_224.py on first use (14 MB: not committed). */
function torchMobilenet(): string {
  const root = repoRoot();
  const cache = join(root, 'bench', '.cache');
  const path = join(cache, `${TORCH_MOBILENET}.onnx`);
  if (existsSync(path)) return path;
  const script = join(root, 'tools', 'train', 'mobilenet_v2_224.py');
  try {
    execFileSync('/usr/bin/python3', [script, '--out', cache], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
    throw new InputError(`${TORCH_MOBILENET}: /usr/bin/python3 ${script} failed (it needs Debian's python3-torch and python3-onnx): ${stderr ?? (e as Error).message}`);
  }
  return path;
}

function loadBenchModel(name: string): BenchModel {
  if (name === NSFWJS_MOBILENET) {
    const artifacts = nsfwjsArtifacts();
    const graph = loadTfjsModel(artifacts);
    const json = structuredClone(artifacts.modelJson) as { weightsManifest: Array<{ paths: string[] }> };
    json.weightsManifest = [{ ...json.weightsManifest[0]!, paths: ['weights.bin'] }, ...json.weightsManifest.slice(1).map((g) => ({ ...g, paths: [] }))];
    return { name, graph, onnx: graphToOnnx(graph), tfjs: { modelJson: JSON.stringify(json), weights: new Uint8Array(artifacts.weightData) } };
  }
  const path = name === TORCH_MOBILENET ? torchMobilenet() : join(repoRoot(), 'models', `${name}.onnx`);
  return { name, graph: loadModelFile(path), onnx: new Uint8Array(readFileSync(path)) };
}

/** The input's shape at `batch`: the model's input with its first dimension set. */
function inputShape(graph: Graph, batch: number): number[] {
  const shape = graph.inputs[0]!.shape;
  if (shape.slice(1).some((d) => typeof d !== 'number')) throw new InputError(`${graph.inputs[0]!.name}: only the batch dimension may be free for the bench (shape [${shape.join(',')}])`);
  return [batch, ...(shape.slice(1) as number[])];
}

export interface PeersOptions {
  readonly models: readonly string[];
  readonly engines: readonly EngineName[];
  readonly batches: readonly number[];
  readonly warmup: number;
  readonly repeats: number;
  /** `quantgpu-searched`: the config a search chose, per model (see `searchedConfigs`); models without one skip the engine. */
  readonly searched?: ReadonlyMap<string, SearchedConfig>;
  /** One line per engine and model as they finish. */
  readonly progress?: (line: string) => void;
}

export interface EngineCheck {
  /** What the first batch's output was compared with: `ort-wasm` (floats) or `golden w8a8` / `golden w4a8` (quantized). */
  readonly against: string;
  readonly maxAbsDiff: number;
  /** The reference's largest magnitude, for scale. */
  readonly refMaxAbs: number;
}

export interface PeersRow {
  readonly model: string;
  readonly engine: EngineName;
  readonly runtime: string;
  readonly loadMs: number;
  readonly batches: ReadonlyArray<{ readonly batch: number; readonly firstMs: number; readonly medianMs: number }>;
  readonly check?: EngineCheck;
  readonly roofline?: Roofline;
  /** `quantgpu-searched`: the chosen config's label and the search that chose it. */
  readonly config?: string;
}

export interface PeersDoc {
  readonly date: string;
  readonly adapter: string;
  readonly browser: string;
  readonly machine: { readonly cpus: number; readonly loadBefore: readonly number[]; readonly loadAfter: readonly number[] };
  readonly options: { readonly models: readonly string[]; readonly engines: readonly string[]; readonly batches: readonly number[]; readonly warmup: number; readonly repeats: number };
  readonly rows: readonly PeersRow[];
  /** Engines that could not run a model, and why (`all`: the model could not be made or prepared). */
  readonly failures: ReadonlyArray<{ readonly model: string; readonly engine: EngineName | 'all'; readonly error: string }>;
}

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** The peers' distributed files, by PEER_PATHS prefix: each package's `dist/` folder, plain file names only. */
function peerFiles(): (path: string) => ServedFile | undefined {
  const require = createRequire(import.meta.url);
  const dist = (pkg: string): string => {
    try {
      return dirname(require.resolve(pkg));
    } catch {
      throw new InputError(`${pkg} is not installed (a dev dependency of the bench: npm ci installs it)`);
    }
  };
  const dirs: Array<[string, string]> = [
    [PEER_PATHS.ort, dist('onnxruntime-web')],
    [PEER_PATHS.tfjs, dist('@tensorflow/tfjs')],
    [PEER_PATHS.tfjsWebgpu, dist('@tensorflow/tfjs-backend-webgpu')],
    [PEER_PATHS.tfjsWasm, dist('@tensorflow/tfjs-backend-wasm')],
  ];
  return (path) => {
    for (const [prefix, dir] of dirs) {
      const file = path.slice(prefix.length);
      if (path.startsWith(prefix) && /^[\w.-]+$/.test(file) && existsSync(join(dir, file))) {
        return { body: readFileSync(join(dir, file)), type: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' };
      }
    }
    return undefined;
  };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function check(out: Float32Array, ref: Float32Array, against: string): EngineCheck {
  if (out.length !== ref.length) return { against, maxAbsDiff: Number.POSITIVE_INFINITY, refMaxAbs: maxAbs(ref) };
  let d = 0;
  for (let i = 0; i < out.length; i++) d = Math.max(d, Math.abs(out[i]! - ref[i]!));
  return { against, maxAbsDiff: d, refMaxAbs: maxAbs(ref) };
}

const firstOutput = (t: Record<string, Tensor>): Float32Array => Object.values(t)[0]!.data;

/** A config a per-layer bitwidth search chose for one model (bench/search.bench.ts's results). */
export interface SearchedConfig {
  /** `fast search: w3-6a4-6 (mixed)`. */
  readonly label: string;
  readonly config: QuantConfig;
}

/**
 * The configs in a results file of bench/search.bench.ts, one per model: the
 * run of the default method (`fast`) where there is one, else the first.
 */
export function searchedConfigs(path: string): Map<string, SearchedConfig> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`--searched ${path}: not a readable JSON file (${(e as Error).message.split('\n')[0]})`);
  }
  const runs = (doc as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) throw new InputError(`--searched ${path}: no 'runs' list (a results file of bench/search.bench.ts)`);
  const out = new Map<string, SearchedConfig>();
  const ordered = [...runs].sort((a, b) => Number((b as { method?: string }).method === 'fast') - Number((a as { method?: string }).method === 'fast'));
  for (const run of ordered as Array<{ model?: unknown; method?: unknown; result?: { label?: unknown; config?: unknown } }>) {
    if (typeof run.model !== 'string' || out.has(run.model)) continue;
    const label = `${String(run.method)} search: ${String(run.result?.label)}`;
    out.set(run.model, { label, config: parseQuantConfig(run.result?.config, `--searched ${path}: ${run.model}`) });
  }
  return out;
}

/** bench/results/search.json of this repository (bench/search.bench.ts writes it), where it exists. */
export function defaultSearchResults(): string | undefined {
  const path = join(repoRoot(), 'bench', 'results', 'search.json');
  return existsSync(path) ? path : undefined;
}

/** The quantized config each engine runs, or reads (ORT on our QDQ export of w8a8): a preset, or the model's searched config. */
const PRESET_OF: Partial<Record<EngineName, 'w8a8' | 'w4a8'>> = { 'ort-webgpu-qdq': 'w8a8', 'quantgpu-w8a8': 'w8a8', 'quantgpu-w4a8': 'w4a8' };

/** The name a quantized engine's config goes by in the checks (`w8a8`, `searched`), or undefined for a float engine. */
function configNameOf(engine: EngineName): string | undefined {
  return engine === 'quantgpu-searched' ? 'searched' : PRESET_OF[engine];
}

/** One model made ready for the engines: its files served to the page, its quantized graphs made. */
interface PreparedModel {
  readonly inputs: ReadonlyArray<{ readonly url: string; readonly shape: readonly number[] }>;
  readonly hasTfjs: boolean;
  /** The page's spec for `engine`, its model file served. */
  spec(engine: EngineName): EngineSpec;
  /** The golden model's first output on the first batch, at `config` (a name of configNameOf). */
  golden(config: string): Float32Array;
}

async function prepareModel(name: string, options: PeersOptions, files: Map<string, ServedFile>): Promise<PreparedModel> {
  const m = loadBenchModel(name);
  const dir = `/bench/${name}`;
  const serve = (path: string, body: string | Uint8Array, type = 'application/octet-stream'): string => {
    files.set(`${dir}/${path}`, { body, type });
    return `${dir}/${path}`;
  };
  const inputs = options.batches.map((b, i) => {
    const x = seededUniform(inputShape(m.graph, b), 0x5eed + i);
    return { x, url: serve(`input-${b}.bin`, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)), shape: x.shape };
  });
  // Calibration on seeded inputs: MobileNetV2 224 (torch) has random weights anyway, the times do not depend on the values, and the checks compare engines on one network.
  const searched = options.searched?.get(name);
  const configs = new Map<string, QuantConfig>();
  for (const e of options.engines) {
    const preset = PRESET_OF[e];
    if (preset !== undefined) configs.set(preset, PRESETS[preset]!);
    else if (e === 'quantgpu-searched' && searched !== undefined) configs.set('searched', searched.config);
  }
  const quantized = new Map<string, QuantizedGraph>();
  if (configs.size > 0) {
    // Configs that equalize or learn are not in the search's results; statistics without equalization serve every config here.
    const stats = await calibrate(m.graph, seededUniform(inputShape(m.graph, 8), 0xca1b));
    for (const [c, config] of configs) quantized.set(c, quantize(m.graph, stats, config));
  }
  const golden = new Map<string, Float32Array>();
  const inputName = m.graph.inputs[0]!.name;
  return {
    inputs: inputs.map((i) => ({ url: i.url, shape: i.shape })),
    hasTfjs: m.tfjs !== undefined,
    spec(engine) {
      switch (engine) {
        case 'ort-wasm':
        case 'ort-webgpu':
          return { engine: 'ort', ep: engine === 'ort-wasm' ? 'wasm' : 'webgpu', model: serve('model.onnx', m.onnx) };
        case 'ort-webgpu-qdq':
          return { engine: 'ort', ep: 'webgpu', model: serve('model.qdq.onnx', qdqToOnnx(quantized.get('w8a8')!)) };
        case 'tfjs-webgpu':
        case 'tfjs-wasm':
          serve('tfjs/weights.bin', m.tfjs!.weights);
          return { engine: 'tfjs', backend: engine === 'tfjs-wasm' ? 'wasm' : 'webgpu', model: serve('tfjs/model.json', m.tfjs!.modelJson, 'application/json') };
        case 'quantgpu-float':
        case 'quantgpu-w8a8':
        case 'quantgpu-w4a8':
        case 'quantgpu-searched': {
          const config = configNameOf(engine);
          return { engine: 'quantgpu', model: serve(`${engine}.graph`, encodeGraph(config === undefined ? m.graph : quantized.get(config)!), 'application/json'), roofline: true };
        }
      }
    },
    golden(config) {
      let g = golden.get(config);
      if (g === undefined) golden.set(config, (g = firstOutput(runQuantized(quantized.get(config)!, { [inputName]: inputs[0]!.x }).outputs)));
      return g;
    },
  };
}

/** One engine on one prepared model, timed in the page; its first output checked against `floatRef` (ORT wasm's) or the golden model. */
async function measureEngine(runner: ChromiumRunner, name: string, model: PreparedModel, engine: EngineName, options: PeersOptions, floatRef: Float32Array | undefined): Promise<{ row: PeersRow; output: Float32Array }> {
  const request: MeasureRequest = { spec: model.spec(engine), inputs: model.inputs, warmup: options.warmup, repeats: options.repeats };
  const r = (await runner.page.evaluate((q: MeasureRequest) => window.peersPage!.measure(q), request)) as Envelope<Measurement>;
  if ('error' in r) throw new Error(`${r.error.name}: ${r.error.message}`);
  const output = base64ToFloat32(r.ok.batches[0]!.output);
  const config = configNameOf(engine);
  const ref = config !== undefined ? { ref: model.golden(config), against: `golden ${config}` } : floatRef !== undefined && engine !== 'ort-wasm' ? { ref: floatRef, against: 'ort-wasm' } : undefined;
  const row: PeersRow = {
    model: name,
    engine,
    runtime: r.ok.runtime,
    loadMs: r.ok.loadMs,
    batches: r.ok.batches.map((b) => ({ batch: b.batch, firstMs: b.firstMs, medianMs: b.medianMs })),
    ...(ref === undefined ? {} : { check: check(output, ref.ref, ref.against) }),
    ...(r.ok.roofline === undefined ? {} : { roofline: r.ok.roofline }),
    ...(engine === 'quantgpu-searched' ? { config: options.searched?.get(name)?.label } : {}),
  };
  return { row, output };
}

/** Runs the bench; the runner is the caller's to close. A model or engine that fails is a line of `failures`, and the rest go on. */
export async function runPeersBench(runner: ChromiumRunner, files: Map<string, ServedFile>, options: PeersOptions): Promise<PeersDoc> {
  const loadBefore = loadavg();
  const rows: PeersRow[] = [];
  const failures: Array<PeersDoc['failures'][number]> = [];
  const note = options.progress ?? (() => {});
  const failed = (model: string, engine: EngineName | 'all', e: unknown): void => {
    const error = (e as Error).message.split('\n')[0]!;
    failures.push({ model, engine, error });
    note(`${model} ${engine}: failed: ${error}`);
  };
  for (const name of options.models) {
    try {
      let model: PreparedModel;
      try {
        model = await prepareModel(name, options, files);
      } catch (e) {
        failed(name, 'all', e);
        continue;
      }
      let floatRef: Float32Array | undefined;
      for (const engine of options.engines) {
        if (engine.startsWith('tfjs-') && !model.hasTfjs) continue;
        if (engine === 'quantgpu-searched' && options.searched?.get(name) === undefined) continue;
        try {
          const { row, output } = await measureEngine(runner, name, model, engine, options, floatRef);
          if (engine === 'ort-wasm') floatRef = output;
          rows.push(row);
          note(`${name} ${engine}: ${row.batches.map((b) => `batch ${b.batch} ${b.medianMs.toFixed(1)} ms`).join(', ')}${row.check ? `, max |diff| ${row.check.maxAbsDiff.toPrecision(3)} vs ${row.check.against}` : ''}`);
        } catch (e) {
          failed(name, engine, e);
        }
      }
    } finally {
      for (const url of [...files.keys()]) if (url.startsWith(`/bench/${name}/`)) files.delete(url);
    }
  }
  return {
    date: new Date().toISOString(),
    adapter: describeAdapter(await runner.facts()),
    browser: await runner.page.browser().version(),
    machine: { cpus: cpus().length, loadBefore, loadAfter: loadavg() },
    options: { models: options.models, engines: options.engines, batches: options.batches, warmup: options.warmup, repeats: options.repeats },
    rows,
    failures,
  };
}

/** A results file of the bench, read back (for its table): a typed error where it is not one. */
export function readPeersDoc(path: string): PeersDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`--table ${path}: not a readable JSON file (${(e as Error).message.split('\n')[0]})`);
  }
  const d = doc as Partial<PeersDoc> | null;
  if (d === null || typeof d !== 'object' || !Array.isArray(d.rows) || !Array.isArray(d.failures) || typeof d.options !== 'object' || !Array.isArray(d.options?.batches) || typeof d.machine !== 'object') {
    throw new InputError(`--table ${path}: not the peers bench's results (rows, failures, options, machine)`);
  }
  return d as PeersDoc;
}

/** Opens the browser with the bench's page and files; the caller closes it. */
export async function launchPeersRunner(): Promise<{ runner: ChromiumRunner; files: Map<string, ServedFile> }> {
  const here = (ext: string): string => fileURLToPath(new URL(`./peers-page${ext}`, import.meta.url));
  const entry = [here('.ts'), here('.js')].find(existsSync);
  if (entry === undefined) throw new InputError(`the peers bench's page is missing: ${here('.ts')}`);
  const peers = peerFiles();
  const files = new Map<string, ServedFile>();
  const runner = await launchChromiumRunner({ entry, serve: (path) => files.get(path) ?? peers(path) });
  return { runner, files };
}
