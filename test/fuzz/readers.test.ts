/**
 * Fuzzing the readers people feed their own files to: ONNX models (float and
 * quantized, QONNX included), TF.js
 * layers models, .npy inputs, QuantConfig JSON and calibration statistics.
 * Seeded mutations of valid files (truncation, bit flips, runs of 0x00 or
 * 0xFF, bytes spliced from another file, inserted junk; for JSON, fields
 * replaced, dropped or retyped) must each end, within a time bound, in a
 * valid result or a typed error (a QuantGpuError): never a TypeError, a
 * RangeError, a protobuf or JSON library's own error, a hang or a huge
 * allocation. Inputs that once broke a reader are kept in test/fuzz/corpus/
 * and replayed first. PNG and JPEG images are fuzzed through the decoder and
 * the resize into a tensor, and config and statistics files also as bytes of
 * text (truncated JSON, flipped characters). The counts and outcomes are
 * printed in the log, with a total held to at least MIN_CASES.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantGpuError } from '../../src/errors.js';
import { writeNpy, readNpy } from '../../src/io/npy.js';
import { loadModel, loadQuantizedModel, loadTfjsModel } from '../../src/model/load-model.js';
import { onnx } from '../../src/import/onnx/proto.js';
import { parseStatsText } from '../../src/cli/model-setup.js';
import { decodeImage, DEFAULT_PREPROCESSING, imageToTensor } from '../../src/io/image.js';
import { parseQuantConfig, parseQuantConfigText } from '../../src/quant/config-json.js';
import { statsFromFile, statsToFile } from '../../src/quant/calibration/stats-file.js';
import { TensorStats } from '../../src/quant/calibration/tensor-stats.js';
import { mulberry32 } from '../helpers/random.js';
import { ONNX_TESTDATA } from '../helpers/onnx-testdata.js';
import { frozenCaseModel } from '../helpers/quantized-testdata.js';
import { tinyGraph, tinyInput } from '../helpers/tiny-model.js';
import { qonnxToOnnx } from '../../src/export/onnx/qonnx.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';

const SEED = 20261202;
/** A case that takes longer than this is a failure (a hang or a huge allocation). */
const CASE_MS = 2000;
const CORPUS = join(import.meta.dirname, 'corpus');

/** Cases run by every test of this file, printed (and held to the minimum) at the end. */
const total = { cases: 0, failures: 0 };
const MIN_CASES = 5000;

interface Outcome {
  ok: number;
  typed: Map<string, number>;
  failures: string[];
  slowest: number;
}

/** Runs `f` on every input, sorting outcomes: a result, a typed error (by class), or a failure (anything else, or too slow). */
function exercise<T>(what: string, inputs: Iterable<[string, T]>, f: (x: T) => unknown): Outcome {
  const o: Outcome = { ok: 0, typed: new Map(), failures: [], slowest: 0 };
  for (const [label, x] of inputs) {
    const t0 = performance.now();
    try {
      f(x);
      o.ok++;
    } catch (e) {
      if (e instanceof QuantGpuError) o.typed.set(e.name, (o.typed.get(e.name) ?? 0) + 1);
      else {
        o.failures.push(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 300));
        // QUANTGPU_FUZZ_SAVE=1 keeps a failing file in the corpus (to commit with its fix) and prints where it broke.
        if (process.env['QUANTGPU_FUZZ_SAVE'] === '1' && x instanceof Uint8Array) {
          mkdirSync(CORPUS, { recursive: true });
          writeFileSync(join(CORPUS, `${what}-${o.failures.length}.${what}`), x);
          console.log(e instanceof Error ? e.stack : e);
        }
      }
    }
    const ms = performance.now() - t0;
    o.slowest = Math.max(o.slowest, ms);
    if (ms > CASE_MS) o.failures.push(`${label}: took ${ms.toFixed(0)} ms`);
  }
  const typed = [...o.typed].map(([k, v]) => `${k} ${v}`).join(', ');
  total.cases += o.ok + [...o.typed.values()].reduce((a, b) => a + b, 0) + o.failures.filter((f) => !f.includes(': took ')).length;
  total.failures += o.failures.length;
  console.log(`[fuzz] ${what}: ${o.ok} read, typed errors {${typed}}, ${o.failures.length} failures, slowest ${o.slowest.toFixed(0)} ms`);
  return o;
}

/** `b` with `bytes` inserted at `at`. */
function insertAt(b: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + bytes.length);
  out.set(b.subarray(0, at));
  out.set(bytes, at);
  out.set(b.subarray(at), at + bytes.length);
  return out;
}

/** Seeded byte mutations of `seeds`: `count` cases, each one to three mutations of one seed. */
function* mutatedBytes(seeds: readonly Uint8Array[], count: number, seed: number): Generator<[string, Uint8Array]> {
  const r = mulberry32(seed);
  const int = (n: number): number => Math.floor(r() * n);
  for (let k = 0; k < count; k++) {
    const s = int(seeds.length);
    let b: Uint8Array = Uint8Array.from(seeds[s]!);
    // A third of the cases are one flipped bit: files that still parse, so the checks after parsing are reached too.
    if (k % 3 === 0) {
      const i = int(b.length);
      const bit = int(8);
      b[i] = b[i]! ^ (1 << bit);
      yield [`seed ${s} flip ${i}.${bit}`, b];
      continue;
    }
    const ops: string[] = [];
    for (let m = 1 + int(3); m > 0; m--) {
      const at = int(Math.max(1, b.length));
      switch (int(6)) {
        case 0:
          b = b.subarray(0, at);
          ops.push(`truncate@${at}`);
          break;
        case 1:
          for (let f = 1 + int(8); f > 0; f--) {
            const i = int(b.length);
            b[i] = b[i]! ^ (1 << int(8));
          }
          ops.push('flips');
          break;
        case 2:
        case 3: {
          const v = int(4) === 0 ? 0xff : 0;
          b.fill(v, at, Math.min(b.length, at + 1 + int(64)));
          ops.push(`run${v}@${at}`);
          break;
        }
        case 4: {
          const other = seeds[int(seeds.length)]!;
          const from = int(other.length);
          b = insertAt(b, at, other.subarray(from, from + 1 + int(256)));
          ops.push(`splice@${at}`);
          break;
        }
        default: {
          b = insertAt(b, at, Uint8Array.from({ length: 1 + int(16) }, () => int(256)));
          ops.push(`insert@${at}`);
        }
      }
    }
    yield [`seed ${s} ${ops.join('+')}`, b];
  }
}

/** Seeded structural mutations of a JSON value: fields replaced by other types, dropped, numbers pushed to extremes. */
function* mutatedJson(seeds: readonly unknown[], count: number, seed: number): Generator<[string, unknown]> {
  const r = mulberry32(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const odd = (): unknown => [null, -1, 0, 1e308, -1e308, 2 ** 31, 0.5, NaN, '', 'x', true, [], {}, [1, 'a'], { a: 1 }][int(15)];
  const mutate = (v: unknown, depth: number): unknown => {
    if (depth > 0 && int(4) === 0) return odd();
    if (Array.isArray(v)) {
      const a = v.map((x) => mutate(x, depth + 1));
      if (a.length > 0 && int(5) === 0) a.splice(int(a.length), 1);
      return a;
    }
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (int(8) === 0) continue;
        o[k] = int(3) === 0 ? mutate(x, depth + 1) : x;
      }
      if (int(6) === 0) o[['default', 'layers', 'bins', 'version', 'range', 'tensors', 'x'][int(7)]!] = odd();
      return o;
    }
    if (typeof v === 'number' && int(3) === 0) return odd();
    return v;
  };
  for (let k = 0; k < count; k++) {
    const s = int(seeds.length);
    yield [`seed ${s} #${k}`, mutate(structuredClone(seeds[s]), 0)];
  }
}

function expectNoFailures(o: Outcome): void {
  expect(o.failures.slice(0, 12), `${o.failures.length} failures`).toEqual([]);
}

describe('fuzzing the readers (seeded; counts in the log)', () => {
  it('ONNX models: 4,000 mutations of a zoo model and single-operator models, and the corpus', () => {
    // Every 12th single-operator case of ONNX's test data (about 80, in name order): many operators and attribute kinds.
    const small = readdirSync(join(ONNX_TESTDATA, 'node'))
      .sort()
      .filter((_, i) => i % 12 === 0)
      .map((t) => join(ONNX_TESTDATA, 'node', t, 'model.onnx'))
      .filter((p) => existsSync(p))
      .map((p) => new Uint8Array(readFileSync(p)));
    const seeds = [new Uint8Array(readFileSync('models/digits-resnet.onnx')), ...small];
    const corpus = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith('.onnx')).map((f): [string, Uint8Array] => [`corpus ${f}`, new Uint8Array(readFileSync(join(CORPUS, f)))]) : [];
    expectNoFailures(exercise('onnx', [...corpus, ...mutatedBytes(seeds, 4000, SEED)], (b) => loadModel(b)));
  }, 120_000);

  it('quantized ONNX models: 1,500 mutations of ONNX\'s quantized-operator cases with their parameters frozen', () => {
    const seeds = ['test_qlinearconv', 'test_qlinearmatmul_2D', 'test_quantizelinear', 'test_dequantizelinear', 'test_convinteger_with_padding']
      .map((t) => onnx.ModelProto.encode(frozenCaseModel(`node/${t}`).model).finish());
    expectNoFailures(exercise('quantized onnx', mutatedBytes(seeds, 1500, SEED + 5), (b) => loadQuantizedModel(b)));
  }, 120_000);

  it('QONNX models: 500 mutations of the tiny model exported as QONNX at w4a4', async () => {
    const graph = prepareForQuantization(tinyGraph());
    const { tensors } = await collectStats(graph, [tinyInput(16, 99)]);
    const seed = qonnxToOnnx(quantize(graph, tensors, PRESETS.w4a4!));
    expectNoFailures(exercise('qonnx', mutatedBytes([seed], 500, SEED + 11), (b) => loadQuantizedModel(b)));
  }, 120_000);

  it('.npy inputs: 500 mutations', () => {
    const seeds = [writeNpy({ shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i / 7) }), writeNpy({ shape: [1, 1, 28, 28], data: new Float32Array(784) })];
    expectNoFailures(exercise('npy', mutatedBytes(seeds, 500, SEED + 1), (b) => readNpy(b, 'input.npy')));
  });

  it('QuantConfig JSON: 500 mutations', () => {
    const seeds = [
      { name: 'mine', default: { weightBits: 4, activationBits: 8, scheme: 'affine', weightGranularity: 'per-channel' }, layers: { '/features/*': { weightBits: 2 }, '/fc/Gemm': 'float' } },
      { default: { weightBits: 8, activationBits: 8, scheme: 'pow2', weightFractionalBits: 6 } },
    ];
    expectNoFailures(exercise('quant-config', mutatedJson(seeds, 500, SEED + 2), (j) => parseQuantConfig(j, 'config.json')));
  });

  it('calibration statistics: 500 mutations', () => {
    const a = new TensorStats(64);
    a.observe(Float32Array.from({ length: 500 }, (_, i) => Math.sin(i) * 3));
    const z = new TensorStats(64);
    z.observe(new Float32Array(10));
    const seeds = [JSON.parse(JSON.stringify({ ...statsToFile(new Map([['t', a], ['zeros', z]])) })) as unknown];
    expectNoFailures(exercise('stats', mutatedJson(seeds, 500, SEED + 3), (j) => statsFromFile(j)));
  });

  it('TF.js layers models: 500 mutations of the model.json, and weight files shorter or longer than the manifest', () => {
    const weights = new Float32Array(3 * 3 * 1 * 4 + 4 + 4 * 4 * 4 * 2 + 2).map((_, i) => Math.cos(i));
    const modelJson = {
      format: 'layers-model',
      generatedBy: 'fuzz',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'tiny',
          layers: [
            { class_name: 'Conv2D', config: { name: 'conv', filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu', use_bias: true, batch_input_shape: [null, 6, 6, 1], data_format: 'channels_last', dilation_rate: [1, 1] } },
            { class_name: 'Flatten', config: { name: 'flat' } },
            { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: true } },
          ],
        },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'conv/kernel', shape: [3, 3, 1, 4], dtype: 'float32' },
            { name: 'conv/bias', shape: [4], dtype: 'float32' },
            { name: 'dense/kernel', shape: [64, 2], dtype: 'float32' },
            { name: 'dense/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    };
    const load = (j: unknown, data: ArrayBuffer): unknown => loadTfjsModel({ modelJson: j as never, weightData: data });
    // The seed itself reads: a fuzzer of a reader that refuses everything proves nothing.
    expect(() => load(modelJson, weights.buffer)).not.toThrow();
    const cases = [...mutatedJson([modelJson], 500, SEED + 4)].map(([l, j]): [string, [unknown, ArrayBuffer]] => [l, [j, weights.buffer]]);
    cases.push(['short weights', [modelJson, weights.buffer.slice(0, 100)]], ['long weights', [modelJson, new Float32Array(weights.length + 9).buffer]]);
    expectNoFailures(exercise('tfjs', cases, ([j, d]) => load(j, d)));
  });

  it('PNG and JPEG images: 2,000 mutations and headers claiming huge sizes, decoded and resized into a tensor', () => {
    const rgba = (w: number, h: number): Uint8Array => Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37 + (i >> 6) * 11) & 255);
    const png = (w: number, h: number, colorType: 0 | 2 | 6): Uint8Array => {
      const img = new PNG({ width: w, height: h });
      img.data.set(rgba(w, h));
      return new Uint8Array(PNG.sync.write(img, { colorType }));
    };
    const jpg = (w: number, h: number): Uint8Array => new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba(w, h) }, 80).data);
    const seeds = [png(12, 10, 6), png(9, 9, 2), png(16, 4, 0), jpg(16, 16), jpg(11, 7)];
    for (const seed of seeds) expect(() => decodeImage(seed, 'seed')).not.toThrow();
    const read = (b: Uint8Array): unknown => imageToTensor(decodeImage(b, 'image.png'), 3, 8, 8, DEFAULT_PREPROCESSING);
    // A PNG claiming 20000 x 20000 once took 17 s and 4.8 GB in pngjs before it found the data short.
    const corpus = readdirSync(CORPUS).filter((f) => /\.(png|jpe?g)$/.test(f)).map((f): [string, Uint8Array] => [`corpus ${f}`, new Uint8Array(readFileSync(join(CORPUS, f)))]);
    expect(corpus.length, 'image corpus files').toBeGreaterThan(0);
    expectNoFailures(exercise('image', [...corpus, ...hugeImages(seeds[0]!, seeds[3]!), ...mutatedBytes(seeds, 2000, SEED + 5)], read));
  }, 60_000);

  it('config and statistics files as text: 500 mutations of each', () => {
    const config = new TextEncoder().encode(JSON.stringify({ name: 'mine', default: { weightBits: 4, activationBits: 8, scheme: 'affine' }, layers: { '/fc/Gemm': 'float' } }, null, 2));
    const a = new TensorStats(32);
    a.observe(Float32Array.from({ length: 200 }, (_, i) => Math.cos(i) * 2));
    const stats = new TextEncoder().encode(JSON.stringify({ ...statsToFile(new Map([['t', a]])), calibrator: 'percentile:99.9' }));
    const text = (b: Uint8Array): string => new TextDecoder().decode(b);
    expect(() => parseQuantConfigText(text(config), 'config.json')).not.toThrow();
    expect(() => parseStatsText(text(stats), 'stats.json')).not.toThrow();
    expectNoFailures(exercise('config-text', mutatedBytes([config], 500, SEED + 6), (b) => parseQuantConfigText(text(b), 'config.json')));
    expectNoFailures(exercise('stats-text', mutatedBytes([stats], 500, SEED + 7), (b) => parseStatsText(text(b), 'stats.json')));
  });

  afterAll(() => {
    console.log(`[fuzz] total: ${total.cases} cases, ${total.failures} failures`);
    expect(total.cases, 'cases in one fuzz run').toBeGreaterThanOrEqual(MIN_CASES);
  });
});

/** A PNG whose IHDR claims `w` x `h` (its CRC made right, so the claim is believed), and a JPEG whose frame header claims 65535 x 65535. */
function* hugeImages(png: Uint8Array, jpg: Uint8Array): Generator<[string, Uint8Array]> {
  for (const [w, h] of [[2 ** 31 - 1, 2 ** 31 - 1], [30000, 30000], [1, 2 ** 30], [0, 0]] as const) {
    const b = Uint8Array.from(png);
    const view = new DataView(b.buffer);
    view.setUint32(16, w);
    view.setUint32(20, h);
    view.setUint32(29, crc32(b.subarray(12, 29)));
    yield [`png claiming ${w} x ${h}`, b];
  }
  // A valid PNG of that size would hold its rows deflated; an IDAT far too short is the cheap attack.
  yield ['png with an empty IDAT', insertAt(png.subarray(0, 33), 33, idatChunk(deflateSync(new Uint8Array(0))))];
  const j = Uint8Array.from(jpg);
  for (let i = 2; i + 8 < j.length; i++) {
    if (j[i] === 0xff && j[i + 1] === 0xc0) {
      j.set([0xff, 0xff, 0xff, 0xff], i + 5);
      yield ['jpeg claiming 65535 x 65535', j];
      break;
    }
  }
}

function idatChunk(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode('IDAT'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
