import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { decodeTensorFile } from '../../src/import/onnx/tensor-proto.js';
import { writeNpy } from '../../src/io/npy.js';
import { calibrateRange } from '../../src/quant/calibration/calibrators.js';
import { statsFromFile } from '../../src/quant/calibration/stats-file.js';
import { BAD_MODELS } from '../helpers/bad-models.js';
import { buildModel, randomArray } from '../helpers/onnx-builder.js';
import { allClose, ONNX_TESTDATA } from '../helpers/onnx-testdata.js';

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-'));


describe('CLI errors', () => {
  for (const [what, c] of Object.entries(BAD_MODELS)) {
    it(`info on ${what}: one line naming ${c.error.name}, exit 2`, async () => {
      const file = join(dir, `${what.replace(/\W+/g, '_')}.onnx`);
      writeFileSync(file, c.bytes());
      const r = await cli('info', file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${c.error.name}: `));
      expect(lines[0]).toMatch(c.message);
    });
  }

  it('a missing model file names the path', async () => {
    const r = await cli('info', join(dir, 'nope.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InputError: cannot read model .*nope\.onnx: ENOENT/);
  });

  it('--debug prints the stack', async () => {
    const r = await cli('info', join(dir, 'nope.onnx'), '--debug');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('CLI info and run', () => {
  const symbolic = join(dir, 'symbolic.onnx');
  writeFileSync(
    symbolic,
    buildModel({
      inputs: [{ name: 'image', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['image', 'W'], outputs: ['c'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['y'] },
      ],
      initializers: { W: { dims: [8, 3, 3, 3], data: randomArray(216, 3) } },
    }),
  );

  it('info --json keeps symbolic dimensions symbolic', async () => {
    const r = await cli('info', symbolic, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.inputs).toEqual([{ name: 'image', shape: ['N', 3, 'H', 'W'] }]);
    expect(doc.layers).toHaveLength(1);
    const conv = doc.layers[0];
    expect(conv).toMatchObject({ op: 'conv', activation: 'relu', inputs: ['image', 'W'], outputs: ['y'], parameters: 216, macs: null });
    expect(conv.outputShapes[0]).toEqual(['N', 8, 'floor((H-1)/2)+1', 'floor((W-1)/2)+1']);
  });

  it('info --shape fixes the sizes and counts MACs per sample', async () => {
    for (const spec of ['1,3,48,192', 'image=N,3,48,192']) {
      const r = await cli('info', symbolic, '--shape', spec, '--json');
      expect(r.code).toBe(0);
      const conv = JSON.parse(r.stdout).layers[0];
      expect(conv.outputShapes[0].slice(1)).toEqual([8, 24, 96]);
      expect(conv.macs).toBe(8 * 24 * 96 * 27);
    }
  });

  it('info --shape naming a missing input is a ShapeError', async () => {
    const r = await cli('info', symbolic, '--shape', 'nope=1,3,8,8');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ShapeError: .*'nope'.*image/);
  });

  it('run on a TensorProto input reproduces the expected output of the ONNX test case', async () => {
    const caseDir = `${ONNX_TESTDATA}/pytorch-converted/test_Conv2d_depthwise_with_multiplier`;
    const r = await cli('run', `${caseDir}/model.onnx`, '--input', `${caseDir}/test_data_set_0/input_0.pb`, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const [out] = Object.values(doc.outputs) as Array<{ shape: number[]; data: number[] }>;
    const want = decodeTensorFile(new Uint8Array(readFileSync(`${caseDir}/test_data_set_0/output_0.pb`)), 'expected');
    expect(out!.shape).toEqual(want.dims);
    expect(allClose(out!.data, want.data as Float32Array).ok).toBe(true);
  });

  it('run on a .npy input of the wrong shape names the input and both shapes', async () => {
    const npy = join(dir, 'wrong.npy');
    writeFileSync(npy, writeNpy({ shape: [1, 4, 8, 8], data: new Float32Array(256) }));
    const r = await cli('run', symbolic, '--input', npy);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ShapeError: input 'image' must have shape \[N,3,H,W\], got \[1,4,8,8\]/);
  });

  it('run on a photo resizes it to the input and normalises it as the model card says', async () => {
    const r = await cli('run', 'models/fashion-vgg.onnx', '--input', '/usr/lib/python3/dist-packages/skimage/data/camera.png', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).outputs.logits;
    expect(out.shape).toEqual([1, 10]);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });

  it('run on a .npy input prints the outputs', async () => {
    const npy = join(dir, 'ok.npy');
    writeFileSync(npy, writeNpy({ shape: [2, 3, 8, 8], data: randomArray(384, 9) }));
    const r = await cli('run', symbolic, '--input', npy, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs.y.shape).toEqual([2, 8, 4, 4]);
  });
});

describe('CLI calibrate and eval', () => {
  const model = 'models/fashion-vgg.onnx';

  it('eval --json: one JSON document with the documented keys', async () => {
    const r = await cli('eval', model, '--data', 'fashion-mnist', '--limit', '40', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ model, dataset: 'fashion-mnist', backend: 'cpu-float', images: 40 });
    expect(doc.accuracy).toBeGreaterThan(0.8);
    expect(doc.seconds).toBeGreaterThan(0);
    expect(r.stderr).toBe(''); // no progress bar when --json and stderr is not a terminal
  });

  it('calibrate writes statistics that eval --stats uses; golden digests repeat, fake-quant is compared on the same grid', async () => {
    const stats = join(dir, 'stats.json');
    const c = await cli('calibrate', model, '--data', 'fashion-mnist', '--images', '64', '-o', stats);
    expect(c.code).toBe(0);
    expect(JSON.parse(readFileSync(stats, 'utf8')).format).toBe('quantgpu-calibration-stats');
    const run = async (backend: string) => {
      const r = await cli('eval', model, '--data', 'fashion-mnist', '--limit', '40', '--backend', backend, '--config', 'w4a8', '--stats', stats, '--json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [a, b, f] = [await run('cpu-golden'), await run('cpu-golden'), await run('fake-quant')];
    expect(a.outputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.outputDigest).toBe(a.outputDigest);
    expect(f.outputDigest).toMatch(/^[0-9a-f]{64}$/);
    for (const key of ['config', 'floatAccuracy', 'agreement', 'sizeBytes', 'sizeVsInt8', 'bops', 'bopsVsInt8']) expect(a).toHaveProperty(key);
    expect(a.config).toBe('w4a8');
    // 4-bit weights: half the bit-operations of int8 and about half the size.
    expect(a.bopsVsInt8).toBeCloseTo(0.5, 5);
    expect(a.sizeVsInt8).toBeLessThan(0.6);
  });

  it('eval with a bad config names the field', async () => {
    const r = await cli('eval', model, '--data', 'fashion-mnist', '--limit', '8', '--backend', 'cpu-golden', '--config', '{"default":{"weightBits":9,"activationBits":8}}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^QuantConfigError: --config: default.weightBits must be one of/);
  });
});

describe('CLI executors (--executor)', () => {
  const model = 'models/fashion-vgg.onnx';

  it('run: ONNX Runtime (the default) and our executor print the same outputs, and say which ran', async () => {
    const npy = join(dir, 'vgg-input.npy');
    writeFileSync(npy, readFileSync('models/fashion-vgg.input.npy'));
    const outs = [];
    for (const executor of ['auto', 'js']) {
      const r = await cli('run', model, '--input', npy, '--executor', executor, '--json');
      expect(r.code, r.stderr).toBe(0);
      outs.push(JSON.parse(r.stdout));
    }
    expect(outs[0].executor).toMatch(/^onnxruntime-node /);
    expect(outs[1].executor).toBe('quantgpu js');
    const [a, b] = [outs[0].outputs.logits.data as number[], outs[1].outputs.logits.data as number[]];
    const peak = Math.max(...b.map(Math.abs));
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / peak).toBeLessThan(1e-4);
  });

  it('calibrate on either executor gives statistics that calibrate to the same ranges', async () => {
    const files = [];
    for (const executor of ['ort', 'js']) {
      const file = join(dir, `stats-${executor}.json`);
      const r = await cli('calibrate', model, '--data', 'fashion-mnist', '--images', '128', '--executor', executor, '-o', file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(executor === 'ort' ? /on onnxruntime-node \S+ \(\d worker threads?\)/ : /on quantgpu js/);
      files.push(statsFromFile(JSON.parse(readFileSync(file, 'utf8'))));
    }
    const [a, b] = [files[0]!, files[1]!];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, s] of a) {
      expect(s.count, name).toBe(b.get(name)!.count);
      for (const method of [{ kind: 'max' }, { kind: 'mse' }] as const) {
        const [ra, rb] = [calibrateRange(s, method, 8, false), calibrateRange(b.get(name)!, method, 8, false)];
        expect(Math.abs(ra.hi - rb.hi) + Math.abs(ra.lo - rb.lo), `${name} ${method.kind}`).toBeLessThanOrEqual(1e-4 * (rb.hi - rb.lo));
      }
    }
  });

  it('eval --backend fake-quant names the executor in its JSON', async () => {
    const r = await cli('eval', model, '--data', 'fashion-mnist', '--limit', '32', '--calib-images', '64', '--backend', 'fake-quant', '--config', 'w4a8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.executor).toMatch(/^onnxruntime-node /);
    expect(doc.floatExecutor).toMatch(/^onnxruntime-node /);
  });

  it('an unknown --executor is an InputError naming the choices', async () => {
    const r = await cli('calibrate', model, '--data', 'fashion-mnist', '--executor', 'tvm', '-o', join(dir, 'x.json'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('InputError: --executor tvm: choose one of auto, ort, js');
  });
});
