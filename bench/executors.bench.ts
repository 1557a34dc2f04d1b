/**
 * The float and fake-quant passes on quantgpu's own TypeScript executor
 * against ONNX Runtime (onnxruntime-node), side by side in one process and
 * one sitting: for every zoo model, calibration on 512 training images,
 * float evaluation of the whole test split and w8a8 fake-quant evaluation of
 * its first 1,000 images; fashion-mbv2's calibration over 2,048 images; and
 * MobileNetV2 224 (nsfwjs' weights, written to ONNX by quantgpu) calibrated
 * on 512 photos, also timed as a whole `quantgpu calibrate` command.
 *
 *   npx tsx bench/executors.bench.ts [--quick] [--json]
 *
 * --quick: a tenth of the images everywhere. Writes bench/results/executors.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateModel, setupModel, type ModelSetup } from '../src/cli/model-setup.js';
import { openDataset } from '../src/data/open-dataset.js';
import { openCpuBackend, type CpuBackend } from '../src/eval/backends.js';
import { evaluate } from '../src/eval/evaluate.js';
import type { ExecutorKind } from '../src/executor/executor.js';
import { PRESETS } from '../src/quant/config.js';
import { quantize } from '../src/quant/pipeline.js';
import { BENCH_CACHE, mobilenetV2Onnx } from './mobilenet.js';
import { formatTable } from './table.js';
import { makePhotoSet } from '../test/helpers/photo-set.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const scale = (n: number): number => (quick ? Math.max(16, Math.round(n / 10)) : n);
const quiet = { update() {}, stop() {} };
const EXECUTORS: ExecutorKind[] = ['js', 'ort'];

interface Row {
  model: string;
  task: string;
  images: number;
  js_s: number;
  ort_s: number;
  speedup: number;
  ort_runtime: string;
  /** Float evaluation: accuracy on each executor (identical predictions expected). */
  js_acc?: number;
  ort_acc?: number;
}
const rows: Row[] = [];

async function timeCalibration(m: ModelSetup, data: string, images: number): Promise<Row> {
  const r: Partial<Record<ExecutorKind, { s: number; runtime: string }>> = {};
  for (const e of EXECUTORS) {
    const t0 = performance.now();
    const stats = await calibrateModel(m, data, images, quiet, e);
    r[e] = { s: (performance.now() - t0) / 1000, runtime: stats.runtime };
  }
  return { model: name(m), task: 'calibrate', images, js_s: r.js!.s, ort_s: r.ort!.s, speedup: r.js!.s / r.ort!.s, ort_runtime: r.ort!.runtime };
}

async function timeEvaluation(m: ModelSetup, data: string, images: number, backend: CpuBackend): Promise<Row> {
  const stats = backend === 'fake-quant' ? (await calibrateModel(m, data, 512, quiet)).tensors : undefined;
  const qg = stats ? quantize(m.graph, stats, PRESETS.w8a8!) : undefined;
  const r: Partial<Record<ExecutorKind, { s: number; acc: number; runtime: string }>> = {};
  for (const e of EXECUTORS) {
    const ds = await openDataset(data, 'test', images);
    const t0 = performance.now();
    const b = await openCpuBackend(backend, m.graph, qg, { executor: e });
    try {
      const res = await evaluate(async (x) => (await b.run(x)).logits, ds, m.size, m.pre, { batchSize: 100, layout: m.layout });
      r[e] = { s: (performance.now() - t0) / 1000, acc: res.accuracy, runtime: b.runtime };
    } finally {
      await b.dispose();
    }
  }
  const task = backend === 'fake-quant' ? 'eval fake-quant w8a8' : 'eval float';
  return { model: name(m), task, images: Math.min(images, (await openDataset(data, 'test', images)).count), js_s: r.js!.s, ort_s: r.ort!.s, speedup: r.js!.s / r.ort!.s, ort_runtime: r.ort!.runtime, js_acc: r.js!.acc, ort_acc: r.ort!.acc };
}

function name(m: ModelSetup): string {
  return m.path.replace(/^.*\//, '').replace(/\.onnx$/, '');
}

function log(row: Row): void {
  rows.push(row);
  process.stderr.write(`${row.model} ${row.task} (${row.images} images): js ${row.js_s.toFixed(1)} s, ort ${row.ort_s.toFixed(2)} s, ${row.speedup.toFixed(1)}x\n`);
}

for (const file of readdirSync('models').filter((f) => f.endsWith('.onnx')).sort()) {
  const m = setupModel(join('models', file));
  const data = m.card!.dataset!;
  log(await timeCalibration(m, data, scale(512)));
  if (file === 'fashion-mbv2.onnx') log(await timeCalibration(m, data, scale(2048)));
  log(await timeEvaluation(m, data, quick ? 1000 : Infinity, 'cpu-float'));
  log(await timeEvaluation(m, data, scale(1000), 'fake-quant'));
}

// MobileNetV2 224 on photos: in-process, then as the command a user types (process start and model load included).
const mbv2 = setupModel(mobilenetV2Onnx());
const photos = makePhotoSet(join(BENCH_CACHE, 'photos-224'), 512);
log(await timeCalibration(mbv2, photos, scale(512)));
const cli: Array<{ executor: string; seconds: number }> = [];
for (const executor of ['ort', 'js']) {
  if (executor === 'js' && quick) continue;
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'calibrate', mobilenetV2Onnx(), '--data', photos, '--images', String(scale(512)), '--executor', executor, '-o', join(BENCH_CACHE, `mobilenetv2-224.${executor}.stats.json`)], { stdio: ['ignore', 'ignore', 'inherit'] });
  cli.push({ executor, seconds: (performance.now() - t0) / 1000 });
}
process.stderr.write(`quantgpu calibrate MobileNetV2 224 on ${scale(512)} photos: ${cli.map((c) => `${c.executor} ${c.seconds.toFixed(1)} s`).join(', ')} (whole command)\n`);

const doc = { quick, cpus: (await import('node:os')).cpus().length, rows, cliMobileNetV2: cli };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/executors.json', JSON.stringify(doc, null, 2) + '\n');
if (args.includes('--json')) process.stdout.write(JSON.stringify(doc) + '\n');
else {
  const fmt = (v: number | undefined, d: number): string => (v === undefined ? '' : v.toFixed(d));
  process.stdout.write(
    formatTable(
      rows.map((r) => ({
        model: r.model,
        task: r.task,
        images: r.images,
        'js s': fmt(r.js_s, 1),
        'ort s': fmt(r.ort_s, 2),
        'ort/js speed': `${r.speedup.toFixed(1)}x`,
        'js acc %': r.js_acc === undefined ? '' : fmt(100 * r.js_acc, 2),
        'ort acc %': r.ort_acc === undefined ? '' : fmt(100 * r.ort_acc, 2),
      })),
    ) + '\n',
  );
}
