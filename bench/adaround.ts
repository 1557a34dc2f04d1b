/**
 * What AdaRound and empirical bias correction buy (issue 20): per zoo model,
 * golden-model top-1 on the first test images for float, plain w4a8 with each
 * activation calibrator, and w4a8-adaround (learned rounding and empirical
 * bias correction), next to the same with cross-layer equalization (calibrated
 * on the equalized graph); on fashion-vgg and fashion-mbv2 also w4a4, w3a8 and w2a8
 * before and after. Calibration and learning share the first --calib
 * training images; the learning seconds are printed per model (wall clock:
 * on a shared machine they include the other processes' share).
 *
 *   npx tsx bench/adaround.ts [--images 2000] [--calib 1024] [--iterations 400] [--json] [models/x.onnx ...]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateModel, setupModel, trainingBatches, type ModelSetup } from '../src/cli/model-setup.js';
import { openDataset } from '../src/data/open-dataset.js';
import { openCpuBackend } from '../src/eval/backends.js';
import { evaluate } from '../src/eval/evaluate.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../src/quant/config.js';
import { quantize } from '../src/quant/pipeline.js';
import type { QuantizedGraph } from '../src/quant/quantized-graph.js';
import { refine } from '../src/quant/refine/refine.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const images = flag('--images', 2000);
const calib = flag('--calib', 1024);
const iterations = flag('--iterations', 400);
const json = args.includes('--json');
const paths = args.filter((a, i) => a.endsWith('.onnx') && !['--images', '--calib', '--iterations'].includes(args[i - 1] ?? ''));
const models = paths.length > 0 ? paths : readdirSync('models').filter((f) => f.endsWith('.onnx')).sort().map((f) => join('models', f));
const CALIBRATORS: Array<Pick<LayerQuant, 'calibrator' | 'calibratorParam'>> = [{ calibrator: 'max' }, { calibrator: 'percentile', calibratorParam: 99.99 }, { calibrator: 'entropy' }, { calibrator: 'mse' }];
/** Lower bitwidths before and after, on the models the issue names. */
const LOW_BITS: Record<string, QuantConfig[]> = Object.fromEntries(
  ['fashion-vgg', 'fashion-mbv2'].map((m) => [m, [PRESETS.w4a4!, { name: 'w3a8', default: { ...(PRESETS.w4a8!.default as LayerQuant), weightBits: 3 } }, PRESETS.w2a8!]]),
);
const LEARN: Partial<LayerQuant> = { rounding: 'adaround', biasCorrection: 'empirical' };
const rows: Array<Record<string, string | number>> = [];
const quiet = { update() {}, stop() {} };

async function top1(m: ModelSetup, dataset: string, qg?: QuantizedGraph): Promise<number> {
  const b = await openCpuBackend(qg ? 'cpu-golden' : 'cpu-float', m.graph, qg);
  try {
    return (await evaluate(async (x) => (await b.run(x)).logits, await openDataset(dataset, 'test', images), m.size, m.pre, { batchSize: 100, layout: m.layout })).accuracy;
  } finally {
    await b.dispose();
  }
}

function report(row: Record<string, string | number>): void {
  rows.push(row);
  if (json) return;
  const p = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(2)}`.padStart(6) : '     -');
  const d = typeof row.golden === 'number' ? ` (${(100 * (row.golden - (row.float as number))).toFixed(2).padStart(6)})` : '';
  const secs = typeof row.learnSeconds === 'number' ? `  learned in ${row.learnSeconds.toFixed(0)} s` : '';
  console.log(`${String(row.model).padEnd(15)} ${String(row.config).padEnd(22)} ${String(row.calibrator).padEnd(17)} float ${p(row.float)}  golden ${p(row.golden)}${d}${secs}`);
}

for (const path of models) {
  const m = setupModel(path);
  const name = path.replace(/^.*\//, '').replace(/\.onnx$/, '');
  const dataset = m.card?.dataset ?? 'fashion-mnist';
  const stats = (await calibrateModel(m, dataset, calib, quiet)).tensors;
  // Equalized configs need the statistics of the equalized graph.
  const equalizedStats = (await calibrateModel(m, dataset, calib, quiet, 'auto', true)).tensors;
  const float = await top1(m, dataset);
  for (const cal of CALIBRATORS) {
    const config: QuantConfig = { name: 'w4a8', default: { ...(PRESETS.w4a8!.default as LayerQuant), ...cal } };
    report({ model: name, config: 'w4a8', calibrator: cal.calibrator + (cal.calibratorParam ? `:${cal.calibratorParam}` : ''), float, golden: await top1(m, dataset, quantize(m.graph, stats, config)) });
  }
  const learned = async (config: QuantConfig): Promise<{ golden: number; learnSeconds: number }> => {
    const { batches } = await trainingBatches(m, dataset, calib);
    const s = config.equalize === true ? equalizedStats : stats;
    const r = await refine(m.graph, s, config, batches, { iterations });
    return { golden: await top1(m, dataset, quantize(m.graph, s, config, { refinement: r })), learnSeconds: r.seconds };
  };
  const preset = PRESETS['w4a8-adaround']!;
  report({ model: name, config: 'w4a8-adaround', calibrator: 'max', float, ...(await learned(preset)) });
  report({ model: name, config: 'w4a8-adaround + CLE', calibrator: 'max', float, ...(await learned({ ...preset, name: 'w4a8-adaround + CLE', equalize: true })) });
  for (const base of LOW_BITS[name] ?? []) {
    const s = base.default as LayerQuant;
    report({ model: name, config: base.name!, calibrator: s.calibrator, float, golden: await top1(m, dataset, quantize(m.graph, stats, base)) });
    report({ model: name, config: `${base.name}+learned`, calibrator: s.calibrator, float, ...(await learned({ name: `${base.name}+learned`, default: { ...s, ...LEARN } })) });
  }
}
if (json) console.log(JSON.stringify({ images, calib, iterations, rows }, null, 2));
