/**
 * Accuracy of every zoo model under w8a8, w4a8 and w8a8-pow2 with each
 * calibrator, on the golden (integer) executor, next to float; and how far
 * the fake-quant simulator is from the golden model (top-1 agreement, largest
 * difference of the output integers).
 *
 *   npx tsx bench/quant-accuracy.ts [--images 1000] [--calib 512] [--calibrators max,entropy] [--json] [models/x.onnx ...]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateModel, setupModel } from '../src/cli/model-setup.js';
import { openDataset } from '../src/data/open-dataset.js';
import { openCpuBackend } from '../src/eval/backends.js';
import { evaluate } from '../src/eval/evaluate.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../src/quant/config.js';
import { agreement } from '../src/quant/measures.js';
import { quantize } from '../src/quant/pipeline.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const images = flag('--images', 1000);
const calib = flag('--calib', 512);
const json = args.includes('--json');
const only = args.includes('--calibrators') ? args[args.indexOf('--calibrators') + 1]!.split(',') : undefined;
const paths = args.filter((a, i) => a.endsWith('.onnx') && !['--images', '--calib', '--calibrators'].includes(args[i - 1] ?? ''));
const models = paths.length > 0 ? paths : readdirSync('models').filter((f) => f.endsWith('.onnx')).sort().map((f) => join('models', f));
const CALIBRATORS: Array<Pick<LayerQuant, 'calibrator' | 'calibratorParam'>> = [
  { calibrator: 'max' },
  { calibrator: 'percentile', calibratorParam: 99.99 },
  { calibrator: 'entropy' },
  { calibrator: 'mse' },
];
const rows: Array<Record<string, string | number>> = [];
const quiet = { update() {}, stop() {} };

for (const path of models) {
  const m = setupModel(path);
  const dataset = m.card?.dataset ?? 'fashion-mnist';
  const stats = (await calibrateModel(m, dataset, calib, quiet)).tensors;
  const test = () => openDataset(dataset, 'test', images);
  const run = async (backend: Parameters<typeof openCpuBackend>[0], qg?: Parameters<typeof openCpuBackend>[2]) => {
    const b = await openCpuBackend(backend, m.graph, qg);
    const digits: Int32Array[] = [];
    try {
      const r = await evaluate(async (x) => {
        const o = await b.run(x);
        digits.push(o.digestWords);
        return o.logits;
      }, await test(), m.size, m.pre, { batchSize: 100, layout: m.layout });
      return { ...r, words: digits };
    } finally {
      await b.dispose();
    }
  };
  const float = await run('cpu-float');
  for (const preset of ['w8a8', 'w4a8', 'w8a8-pow2']) {
    for (const cal of CALIBRATORS.filter((c) => !only || only.includes(c.calibrator))) {
      const base = PRESETS[preset]!.default as LayerQuant;
      const config: QuantConfig = { name: preset, default: { ...base, ...cal } };
      const qg = quantize(m.graph, stats, config);
      const golden = await run('cpu-golden', qg);
      const fake = await run('fake-quant', qg);
      let maxSteps = 0;
      golden.words.forEach((w, b) => w.forEach((v, i) => (maxSteps = Math.max(maxSteps, Math.abs(v - fake.words[b]![i]!)))));
      const row = {
        model: m.path.replace(/^models\//, '').replace(/\.onnx$/, ''),
        config: preset,
        calibrator: cal.calibrator + (cal.calibratorParam ? `:${cal.calibratorParam}` : ''),
        float: float.accuracy,
        golden: golden.accuracy,
        delta: golden.accuracy - float.accuracy,
        agreeFloat: agreement(golden.predictions, float.predictions),
        fakeQuant: fake.accuracy,
        agreeFakeGolden: agreement(golden.predictions, fake.predictions),
        maxOutputSteps: maxSteps,
      };
      rows.push(row);
      if (!json) {
        const p = (v: number) => `${(100 * v).toFixed(2)}`.padStart(6);
        console.log(
          `${String(row.model).padEnd(16)} ${preset.padEnd(10)} ${String(row.calibrator).padEnd(17)} float ${p(row.float)}  golden ${p(row.golden)} (${(100 * row.delta).toFixed(2).padStart(6)})  fake-quant ${p(row.fakeQuant)}  agree(fq,golden) ${p(row.agreeFakeGolden)}  max steps ${maxSteps}`,
        );
      }
    }
  }
}
if (json) console.log(JSON.stringify({ images, calib, rows }, null, 2));
