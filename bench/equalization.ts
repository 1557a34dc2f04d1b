/**
 * Cross-layer equalization and analytic bias correction (Nagel et al. 2019)
 * on the zoo: golden-model (integer) top-1 at w8a8 and w4a8, per-tensor and
 * per-channel weights, plain, equalized, and equalized with analytic bias
 * correction, next to float. One calibration per model and equalization
 * serves its configs.
 *
 *   npx tsx bench/equalization.ts [--images 2000] [--calib 512] [--json] [models/x.onnx ...]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateModel, setupModel } from '../src/cli/model-setup.js';
import { openDataset } from '../src/data/open-dataset.js';
import { openCpuBackend } from '../src/eval/backends.js';
import { evaluate } from '../src/eval/evaluate.js';
import { PRESETS, type Granularity, type LayerQuant, type QuantConfig } from '../src/quant/config.js';
import { quantize } from '../src/quant/pipeline.js';
import type { QuantizedGraph } from '../src/quant/quantized-graph.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const images = flag('--images', 2000);
const calib = flag('--calib', 512);
const json = args.includes('--json');
const paths = args.filter((a, i) => a.endsWith('.onnx') && !['--images', '--calib'].includes(args[i - 1] ?? ''));
const models = paths.length > 0 ? paths : readdirSync('models').filter((f) => f.endsWith('.onnx')).sort().map((f) => join('models', f));
const VARIANTS = [
  { name: 'plain', equalize: false, analytic: false },
  { name: 'equalized', equalize: true, analytic: false },
  { name: 'equalized+bc', equalize: true, analytic: true },
] as const;
const quiet = { update() {}, stop() {} };
const rows: Array<Record<string, string | number>> = [];
const pct = (v: number): string => (100 * v).toFixed(2).padStart(6);

for (const path of models) {
  const m = setupModel(path);
  const dataset = m.card?.dataset ?? 'fashion-mnist';
  const stats = { plain: (await calibrateModel(m, dataset, calib, quiet)).tensors, equalized: (await calibrateModel(m, dataset, calib, quiet, 'auto', true)).tensors };
  const accuracy = async (qg?: QuantizedGraph): Promise<number> => {
    const b = await openCpuBackend(qg ? 'cpu-golden' : 'cpu-float', m.graph, qg);
    try {
      const r = await evaluate(async (x) => (await b.run(x)).logits, await openDataset(dataset, 'test', images), m.size, m.pre, { batchSize: 100, layout: m.layout });
      return r.accuracy;
    } finally {
      await b.dispose();
    }
  };
  const model = m.path.replace(/^models\//, '').replace(/\.onnx$/, '');
  const float = await accuracy();
  for (const preset of ['w8a8', 'w4a8']) {
    for (const granularity of ['per-tensor', 'per-channel'] as Granularity[]) {
      const row: Record<string, string | number> = { model, config: preset, granularity, float };
      for (const v of VARIANTS) {
        const base = PRESETS[preset]!.default as LayerQuant;
        const config: QuantConfig = { name: `${preset} ${granularity} ${v.name}`, default: { ...base, weightGranularity: granularity, ...(v.analytic ? { biasCorrection: 'analytic' as const } : {}) }, equalize: v.equalize };
        row[v.name] = await accuracy(quantize(m.graph, v.equalize ? stats.equalized : stats.plain, config));
      }
      rows.push(row);
      if (!json) console.log(`${model.padEnd(15)} ${preset} ${granularity.padEnd(11)} float ${pct(float)}  ${VARIANTS.map((v) => `${v.name} ${pct(row[v.name] as number)}`).join('  ')}`);
    }
  }
}
if (json) console.log(JSON.stringify({ images, calib, rows }, null, 2));
