/**
 * Every command that runs a model takes models as third parties ship them:
 * a TF.js layers model in NHWC fed from a folder of photos, an ONNX model
 * with a fixed batch of 1 (calibrated and evaluated on more than one image),
 * an ONNX model with symbolic height and width (evaluated with --shape), and
 * `run` of one input quantized on the GPU, equal to the golden model bit for
 * bit. Bad input: one clear line, exit 2.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy.js';
import { runGraph } from '../../src/cpu/float-executor.js';
import { loadModelFile, loadQuantizedModelFile } from '../../src/model/load-model-file.js';
import { photoBatch } from '../helpers/tfjs-reference.js';
import { cli } from '../helpers/cli.js';
import { nsfwjsModelDir, withInputDims } from '../helpers/model-files.js';
import { makePhotoSet } from '../helpers/photo-set.js';

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-models-'));
const VGG = 'models/fashion-vgg.onnx';
const RESNET = 'models/fashion-resnet.onnx';

interface RunDoc {
  backend: string;
  config: string;
  outputs: Record<string, { shape: number[]; data: number[] }>;
  integers?: Record<string, number[]>;
}

interface EvalDoc {
  images: number;
  accuracy: number;
  outputDigest: string;
}

/** The command's JSON document, after asserting it exited 0. */
function json<T>(r: { code: number; stdout: string; stderr: string }): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A failure as the CLI reports one: exit 2 and one line on stderr naming the error. */
function expectOneLine(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('a TF.js layers model in NHWC (nsfwjs MobileNetV2) from a folder of photos', () => {
  let model: string;
  let photos: string;
  beforeAll(() => {
    model = nsfwjsModelDir(join(dir, 'nsfwjs'));
    photos = makePhotoSet(join(dir, 'photos'), 6, 224);
  });

  it('calibrates on the folder and runs a photo, float and quantized, laid out NHWC', async () => {
    const stats = join(dir, 'nsfwjs-stats.json');
    const c = await cli('calibrate', model, '--data', photos, '--images', '4', '-o', stats, '--preprocess', '1/255,0,1');
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(readFileSync(stats, 'utf8')) as { images: number }).images).toBe(4);
    const photo = '/usr/lib/python3/dist-packages/skimage/data/astronaut.png';
    const float = json<RunDoc>(await cli('run', model, '--input', photo, '--json'));
    const probs = Object.values(float.outputs)[0]!;
    expect(probs.shape).toEqual([1, 5]);
    // The photo laid out NHWC independently (CHW pixels transposed by the test helper), through our own float executor.
    const graph = loadModelFile(model);
    const want = Object.values(runGraph(graph, { [graph.inputs[0]!.name]: photoBatch(['astronaut.png'], 224, 224, 3, { scale: 1 / 255, mean: [0], std: [1] }) }))[0]!;
    probs.data.forEach((v, i) => expect(Math.abs(v - want.data[i]!), `class ${i}`).toBeLessThan(1e-4));
    const golden = json<RunDoc>(await cli('run', model, '--input', photo, '--backend', 'cpu-golden', '--config', 'w8a8', '--stats', stats, '--json'));
    expect(golden.config).toBe('w8a8');
    expect(Object.values(golden.outputs)[0]!.shape).toEqual([1, 5]);
    expect(Object.keys(golden.integers ?? {}).length).toBeGreaterThan(0);
  }, 180_000);
});

describe('an ONNX model with a fixed batch of 1', () => {
  let fixed: string;
  beforeAll(() => {
    fixed = withInputDims(VGG, join(dir, 'vgg-batch1.onnx'), [1, 1, 28, 28]);
  });

  it('calibrates on many images and evaluates in batches of 1, equal to the model with a free batch', async () => {
    const stats = join(dir, 'vgg-batch1-stats.json');
    const c = await cli('calibrate', fixed, '--data', 'fashion-mnist', '--images', '24', '-o', stats);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(readFileSync(stats, 'utf8')) as { images: number }).images).toBe(24);
    const one = json<EvalDoc>(await cli('eval', fixed, '--data', 'fashion-mnist', '--limit', '40', '--backend', 'cpu-golden', '--stats', stats, '--json'));
    const free = json<EvalDoc>(await cli('eval', VGG, '--data', 'fashion-mnist', '--limit', '40', '--backend', 'cpu-golden', '--stats', stats, '--json'));
    expect(one.images).toBe(40);
    expect(one.outputDigest).toBe(free.outputDigest);
    expect(one.accuracy).toBe(free.accuracy);
  }, 180_000);

  it('a fixed batch of 4 takes whole batches: 8 of 10 test images, said on stderr; a limit below one batch fails first', async () => {
    const four = withInputDims(VGG, join(dir, 'vgg-batch4.onnx'), [4, 1, 28, 28]);
    const stats = join(dir, 'vgg-batch4-stats.json');
    expect((await cli('calibrate', four, '--data', 'fashion-mnist', '--images', '16', '-o', stats)).code).toBe(0);
    const r = await cli('eval', four, '--data', 'fashion-mnist', '--limit', '10', '--backend', 'cpu-golden', '--stats', stats, '--json');
    expect(json<EvalDoc>(r).images).toBe(8);
    expect(r.stderr.match(/note: .* takes batches of 4: 8 of the 10 test images/g)?.length, 'said once').toBe(1);
    expectOneLine(await cli('eval', four, '--data', 'fashion-mnist', '--limit', '3', '--stats', stats), /^InputError: .* takes batches of 4; 3 test images do not fill one$/);
  }, 120_000);

  it('sweeps over sets cut into batches of 1', async () => {
    const doc = json<{ sets: { test: { count: number } }; points: Array<{ label: string; images: number; accuracy: number }> }>(
      await cli('sweep', fixed, '--data', 'fashion-mnist', '--weights', '8', '--acts', '8', '--limit', '16', '--validation-images', '16', '--calib-images', '16', '--json'),
    );
    expect(doc.sets.test.count).toBe(16);
    expect(doc.points.map((p) => p.label)).toEqual(['w8a8 affine per-channel max']);
    expect(doc.points[0]!.images).toBe(16);
    expect(doc.points[0]!.accuracy).toBeGreaterThan(0.5);
  }, 120_000);

  it('profiles in its own batch, saying so when --batch asks for another', async () => {
    const r = await cli('profile', fixed, '--config', 'float', '--batch', '4', '--warmup', '1', '--repeats', '1', '--gpu', 'node', '--json');
    const doc = json<{ batch: number }>(r);
    expect(doc.batch).toBe(1);
    expect(r.stderr).toMatch(/note: .* takes batches of 1 .*--batch 4 does not apply/);
  }, 180_000);
});

describe('an ONNX model with symbolic height and width', () => {
  let symbolic: string;
  beforeAll(() => {
    symbolic = withInputDims(RESNET, join(dir, 'resnet-hw.onnx'), ['N', 1, 'H', 'W']);
  });

  it('is evaluated with --shape, equal to the model with a fixed size; without it, one line says to give it', async () => {
    const shaped = json<EvalDoc>(await cli('eval', symbolic, '--shape', 'N,1,28,28', '--data', 'fashion-mnist', '--limit', '64', '--json'));
    const plain = json<EvalDoc>(await cli('eval', RESNET, '--data', 'fashion-mnist', '--limit', '64', '--json'));
    expect(shaped.images).toBe(64);
    expect(shaped.accuracy).toBe(plain.accuracy);
    const unsized = /^InputError: an image needs an input of known size .*\[N,1,H,W\] \(fix its size with --shape\)$/;
    expectOneLine(await cli('eval', symbolic, '--data', 'fashion-mnist', '--limit', '8'), unsized);
    // The same refusal, before any work, from every command that feeds it images.
    expectOneLine(await cli('calibrate', symbolic, '--data', 'fashion-mnist', '-o', join(dir, 'never.json')), unsized);
    expectOneLine(await cli('profile', symbolic, '--config', 'float', '--gpu', 'node'), unsized);
    expectOneLine(await cli('sweep', symbolic, '--data', 'fashion-mnist', '--weights', '8', '--acts', '8'), unsized);
  }, 180_000);
});

describe('run: one input quantized', () => {
  let stats: string;
  beforeAll(async () => {
    stats = join(dir, 'vgg-stats.json');
    const c = await cli('calibrate', VGG, '--data', 'fashion-mnist', '--images', '64', '-o', stats);
    expect(c.code, c.stderr).toBe(0);
  }, 120_000);

  it('--backend gpu equals cpu-golden bit for bit (integers and dequantized outputs); fake-quant lands on the same codes', async () => {
    const args = ['run', VGG, '--input', 'models/fashion-vgg.input.npy', '--config', 'w8a8', '--stats', stats, '--json'];
    const golden = json<RunDoc>(await cli(...args, '--backend', 'cpu-golden'));
    const gpu = json<RunDoc>(await cli(...args, '--backend', 'gpu', '--gpu', 'node'));
    expect(gpu.backend).toBe('gpu');
    expect(golden.integers?.['logits']?.length).toBe(40);
    expect(gpu.integers).toEqual(golden.integers);
    // Dequantized in float32 on the GPU and in float64 then rounded on the CPU: within one float32 step.
    const [g, c] = [gpu.outputs['logits']!.data, golden.outputs['logits']!.data];
    expect(g.filter((v, i) => Math.abs(v - c[i]!) > 1e-6 * Math.max(1, Math.abs(c[i]!)))).toEqual([]);
    const fake = json<RunDoc>(await cli(...args, '--backend', 'fake-quant'));
    const a = fake.integers!['logits']!;
    const b = golden.integers!['logits']!;
    expect(a.filter((q, i) => Math.abs(q - b[i]!) > 1), 'codes more than one step from the golden model').toEqual([]);
  }, 180_000);

  it('refuses what it cannot do in one line, exit 2', async () => {
    const base = ['run', VGG, '--input', 'models/fashion-vgg.input.npy'];
    expectOneLine(await cli(...base, '--backend', 'cpu-golden', '--config', 'float'), /^InputError: --backend cpu-golden runs a quantized model/);
    expectOneLine(await cli(...base, '--config', 'w8a8'), /^InputError: --config w8a8 needs a quantized backend/);
    expectOneLine(await cli(...base, '--backend', 'tpu'), /^InputError: --backend tpu: choose one of cpu-float, cpu-golden, fake-quant, gpu$/);
    expectOneLine(await cli(...base, '--preprocess', '1,2'), /^InputError: --preprocess 1,2: give scale,mean,std/);
    expectOneLine(await cli('eval', VGG, '--data', 'fashion-mnist', '--preprocess', '1/255,0.5:0.5,1'), /^InputError: --preprocess: 2 mean values for an input of 1 channel\(s\); give one, or one per channel$/);
    expectOneLine(await cli(...base, '--preprocess', '0,0,1'), /^InputError: --preprocess 0,0,1: the scale must be positive$/);
    expectOneLine(await cli(...base, '--shape', '1,-1,28,28'), /^InputError: --shape 1,-1,28,28: '-1' is neither a positive size nor a dimension name$/);
  }, 120_000);
});

describe('export', () => {
  it('writes a QDQ model that ONNX Runtime runs to the golden model predictions; refuses what QDQ cannot hold in one line; writes it as QONNX', async () => {
    const stats = join(dir, 'vgg-export-stats.json');
    expect((await cli('calibrate', VGG, '--data', 'fashion-mnist', '--images', '64', '-o', stats)).code).toBe(0);
    const out = join(dir, 'vgg-qdq.onnx');
    const doc = json<{ format: string; bytes: number; integerWeights: number }>(await cli('export', VGG, '--stats', stats, '--config', 'w8a8', '-o', out, '--json'));
    expect(doc.format).toBe('qdq');
    expect(doc.integerWeights).toBe(6);
    expect(readFileSync(out).byteLength).toBe(doc.bytes);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const x = readNpy(new Uint8Array(readFileSync('models/fashion-vgg.input.npy')), 'input');
    const theirs = Object.values(await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x.data as Float32Array, x.shape) }))[0]!;
    await session.release();
    const golden = json<RunDoc>(await cli('run', VGG, '--input', 'models/fashion-vgg.input.npy', '--backend', 'cpu-golden', '--config', 'w8a8', '--stats', stats, '--json'));
    const top = (d: ArrayLike<number>, n: number): number[] => Array.from({ length: d.length / n }, (_, r) => Array.from(d).slice(r * n, (r + 1) * n).reduce((b, v, i, a) => (v > a[b]! ? i : b), 0));
    expect(top(theirs.data as Float32Array, 10)).toEqual(top(golden.outputs['logits']!.data, 10));
    expectOneLine(await cli('export', VGG, '--stats', stats, '--config', 'w4a4', '-o', join(dir, 'never.onnx')), /^QuantConfigError: QDQ holds 8-bit activations only: tensor '.*' has 4-bit codes.*; export a config with 8-bit activations, or any config with --format qonnx$/);
    expectOneLine(await cli('export', VGG, '--stats', stats, '--format', 'tflite', '-o', join(dir, 'never.onnx')), /^InputError: --format tflite: choose one of qdq, qonnx$/);
    // QONNX holds that config: its Quant nodes carry the 4 bits, which the importer reads back onto the layers.
    const qonnx = join(dir, 'vgg-w4a4.qonnx.onnx');
    const q = json<{ format: string; integerWeights: number }>(await cli('export', VGG, '--stats', stats, '--config', 'w4a4', '--format', 'qonnx', '-o', qonnx, '--json'));
    expect(q).toMatchObject({ format: 'qonnx', integerWeights: 6 });
    const imported = loadQuantizedModelFile(qonnx)!.quantized;
    expect(imported.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [l.weightBits] : []))).toEqual([4, 4, 4, 4, 4, 4]);
  }, 120_000);
});

describe('the command line itself', () => {
  const COMMANDS = ['info', 'run', 'eval', 'calibrate', 'refine', 'profile', 'sweep', 'sensitivity', 'search', 'merge', 'export'];

  it('an output path that cannot be written is refused before any work; outputs are written whole (no temporary file left beside them)', async () => {
    const missing = join(dir, 'no-such-folder', 'stats.json');
    const t0 = performance.now();
    expectOneLine(await cli('calibrate', VGG, '--data', 'fashion-mnist', '-o', missing), /^InputError: -o .*no-such-folder\/stats\.json: cannot write there \(ENOENT\)$/);
    expectOneLine(await cli('export', VGG, '--data', 'fashion-mnist', '-o', dir), /^InputError: -o .*: cannot write there \(EISDIR\)$/);
    expect(performance.now() - t0, 'refused before calibrating').toBeLessThan(20_000);
    const out = mkdtempSync(join(tmpdir(), 'quantgpu-atomic-'));
    expect((await cli('calibrate', VGG, '--data', 'fashion-mnist', '--images', '16', '-o', join(out, 'stats.json'))).code).toBe(0);
    expect(readdirSync(out)).toEqual(['stats.json']);
  }, 120_000);

  it('--help lists every command, and bin/quantgpu.js runs from a checkout with no build step', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout, c).toMatch(new RegExp(`^\\s+${c} \\[options\\]`, 'm'));
    const bin = await promisify(execFile)(process.execPath, ['bin/quantgpu.js', '--help']);
    for (const c of COMMANDS) expect(bin.stdout, c).toMatch(new RegExp(`^\\s+${c} \\[options\\]`, 'm'));
  }, 60_000);
});
