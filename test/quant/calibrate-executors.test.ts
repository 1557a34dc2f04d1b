import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/cpu/tensor.js';
import { InputError, ShapeError } from '../../src/errors.js';
import { toLayout } from '../../src/data/dataset.js';
import { imageFolderDataset } from '../../src/data/image-folder.js';
import { loadImages } from '../../src/data/load-images.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { loadTfjsModel } from '../../src/model/load-model.js';
import { calibrateRange, type CalibrationMethod } from '../../src/quant/calibration/calibrators.js';
import type { TensorStats } from '../../src/quant/calibration/tensor-stats.js';
import { collectStats, type CollectOptions } from '../../src/quant/calibrate-graph.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { makePhotoSet } from '../helpers/photo-set.js';
import { nsfwjsArtifacts } from '../helpers/tfjs-nsfwjs.js';

/**
 * Calibration on every executor gives the same statistics: data-parallel
 * workers on onnxruntime-node (exactly the same whatever the number of
 * workers: the histograms merge exactly), one session pipelined with this
 * thread (onnxruntime-web), and our executor (within float rounding, since
 * ONNX Runtime's kernels round differently).
 */
const METHODS: CalibrationMethod[] = [{ kind: 'max' }, { kind: 'percentile', percentile: 99.99 }, { kind: 'entropy' }, { kind: 'mse' }];

function batchesOf(x: Tensor, n: number): Tensor[] {
  const per = x.data.length / x.shape[0]!;
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[0]!; s += n) out.push({ shape: [Math.min(n, x.shape[0]! - s), ...x.shape.slice(1)], data: x.data.subarray(s * per, Math.min(x.shape[0]!, s + n) * per) });
  return out;
}

/**
 * Two calibrations of the same images on executors that round float sums
 * differently: the same counts, zeros and extremes within float rounding,
 * histograms whose cumulative counts differ by at most 0.1% of the values (a
 * value near a bin edge may land in the next bin), and calibrated ranges
 * within a bin, or 1% of the range for the entropy calibrator, whose KL
 * minimum can jump between near-equal candidates.
 */
function expectClose(a: Map<string, TensorStats>, b: Map<string, TensorStats>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, s] of a) {
    const t = b.get(name)!;
    expect([s.count, s.range], name).toEqual([t.count, t.range]);
    // A value within rounding of 0 before a ReLU is an exact zero after it on one executor and not on the other.
    expect(Math.abs(s.zeros - t.zeros), `${name}: zeros`).toBeLessThanOrEqual(1e-4 * s.count);
    expect(Math.abs(s.min - t.min) + Math.abs(s.max - t.max), name).toBeLessThanOrEqual(1e-5 * s.absMax);
    const [ha, hb] = [s.histogram('abs'), t.histogram('abs')];
    let [ca, cb, ks] = [0, 0, 0];
    for (let k = 0; k < ha.length; k++) {
      ca += ha[k]!;
      cb += hb[k]!;
      ks = Math.max(ks, Math.abs(ca - cb));
    }
    expect(ks / s.count, `${name}: histogram CDFs`).toBeLessThanOrEqual(1e-3);
    for (const m of METHODS) {
      for (const symmetric of [true, false]) {
        const [ra, rb] = [calibrateRange(s, m, 8, symmetric), calibrateRange(t, m, 8, symmetric)];
        const gap = Math.max(Math.abs(ra.lo - rb.lo), Math.abs(ra.hi - rb.hi));
        expect(gap, `${name} ${m.kind} ${symmetric ? 'symmetric' : 'affine'}`).toBeLessThanOrEqual(m.kind === 'entropy' ? 0.01 * (rb.hi - rb.lo) : 1.001 * s.binWidth);
      }
    }
  }
}

describe('calibration on each executor', () => {
  const path = 'models/fashion-mbv2.onnx';

  it('fashion-mbv2 on 512 training images: the same statistics on every executor', async () => {
    const graph = prepareForQuantization(loadModelFile(path));
    const { x } = await loadImages('fashion-mnist', graph, { split: 'train', count: 512, modelPath: path });
    const run = async (options: CollectOptions) => collectStats(graph, batchesOf(x, 64), options);
    const one = await run({ executor: 'ort', workers: 1 });
    const two = await run({ executor: 'ort', workers: 2 });
    const web = await run({ executor: 'ort', workers: 0, ortPackage: 'onnxruntime-web' });
    const js = await run({ executor: 'js' });
    expect(one.runtime).toMatch(/^onnxruntime-node \S+ \(1 worker thread\)$/);
    expect(two.runtime).toMatch(/^onnxruntime-node \S+ \(2 worker threads\)$/);
    expect(web.runtime).toMatch(/^onnxruntime-web /);
    expect(js.executor).toBe('js');
    for (const r of [one, two, web, js]) expect(r.images).toBe(512);
    // The batches split differently between one and two workers; the merged histograms do not change.
    for (const [name, s] of one.tensors) expect(two.tensors.get(name)!.toJSON(), name).toEqual(s.toJSON());
    expectClose(one.tensors, web.tensors);
    expectClose(one.tensors, js.tensors);
  });
});

describe('calibration input checks', () => {
  it('a batch of the wrong shape is a ShapeError naming the input, on every executor', async () => {
    const graph = prepareForQuantization(loadModelFile('models/fashion-vgg.onnx'));
    const bad = { shape: [2, 1, 27, 28], data: new Float32Array(2 * 27 * 28) };
    for (const options of [{ executor: 'ort' as const }, { executor: 'ort' as const, workers: 0 }, { executor: 'js' as const }]) {
      await expect(collectStats(graph, [bad], options)).rejects.toThrow(ShapeError);
      await expect(collectStats(graph, [bad], options)).rejects.toThrow(/input 'input' must have shape/);
    }
  });
});

describe('image folders', () => {
  const dir = makePhotoSet(join(mkdtempSync(join(tmpdir(), 'quantgpu-photos-')), 'photos'), 80, 48);

  it('decode in worker threads (80 images) exactly as in this thread, in either layout', async () => {
    const pre = { scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
    const collect = async (limit: number, layout: 'NCHW' | 'NHWC') => {
      const xs: Tensor[] = [];
      for await (const b of imageFolderDataset(dir, limit).batches(32, [3, 40, 40], pre, layout)) xs.push(b.x);
      return xs;
    };
    const inWorkers = await collect(80, 'NCHW');
    const nhwc = await collect(80, 'NHWC');
    // Below 64 images a folder decodes in this thread: its first 40 images are the workers' first 40.
    const here = await collect(40, 'NCHW');
    expect(inWorkers.map((x) => x.shape)).toEqual([[32, 3, 40, 40], [32, 3, 40, 40], [16, 3, 40, 40]]);
    expect(nhwc[0]!.shape).toEqual([32, 40, 40, 3]);
    expect(here[0]!.data).toEqual(inWorkers[0]!.data);
    expect(here[1]!.data).toEqual(inWorkers[1]!.data.subarray(0, 8 * 3 * 40 * 40));
    inWorkers.forEach((x, i) => expect(nhwc[i]!.data).toEqual(toLayout(x, 'NHWC').data));
  });

  it('a file that cannot be decoded in a large folder is an InputError for the reader, not a crash of the process', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'quantgpu-broken-')), 'photos');
    makePhotoSet(broken, 80, 16);
    const [label] = readdirSync(broken);
    writeFileSync(join(broken, label!, '00001.png'), 'not an image');
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const b of imageFolderDataset(broken).batches(16, [3, 16, 16], { scale: 1 / 255, mean: [0], std: [1] })) {
          seen.push(b.x.shape[0]!);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    ).rejects.toThrow(InputError);
    expect(seen.length).toBeLessThan(5);
  });

  it('feed an NHWC model (nsfwjs, TF.js) for calibration', async () => {
    const graph = prepareForQuantization(loadTfjsModel(nsfwjsArtifacts()));
    const { x } = await loadImages(dir, graph, { split: 'train', count: 6 });
    expect(x.shape).toEqual([6, 224, 224, 3]);
    const stats = await collectStats(graph, [x]);
    expect(stats.images).toBe(6);
    expect(stats.tensors.get(graph.inputs[0]!.name)!.count).toBe(6 * 224 * 224 * 3);
  });
});
