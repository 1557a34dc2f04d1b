/**
 * The two search methods side by side, one after the other in one sitting on
 * this machine: `quantgpu search` at its defaults (validation on 2,000
 * training images, at most 1 point lost, one standard error of margin,
 * objective bit-operations, the golden model deciding, the whole test split
 * reported) with --method fast and --method sequential, on fashion-mbv2 unless
 * --models says otherwise. Each run is the whole CLI command in its own
 * process, calibration included; `seconds` is the command's wall time.
 *
 *   npx tsx bench/search.bench.ts [--models fashion-mbv2,fashion-vgg] [--methods fast,sequential] [--scheme scaled|pow2] [--gpu node] [--json]
 *
 * --gpu node also times the chosen config and int8 everywhere on the GPU
 * (Dawn in this process; SwiftShader here). Writes bench/results/search.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { formatTable } from './table.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const models = flag('--models', 'fashion-mbv2').split(',');
const methods = flag('--methods', 'fast,sequential').split(',');
const scheme = flag('--scheme', 'scaled');
const gpu = flag('--gpu', '');

interface SearchJson {
  label: string;
  accuracy: number;
  floatAccuracy: number;
  validationAccuracy: number;
  validationFloatAccuracy: number;
  sizeVsInt8: number;
  bopsVsInt8: number;
  gpuMsVsInt8?: number;
  evaluations: number;
  imagesEvaluated: number;
  seconds: number;
}

const runs: Array<{ model: string; method: string; scheme: string; wallSeconds: number; result: SearchJson }> = [];
for (const model of models) {
  for (const method of methods) {
    const cli = ['--import', 'tsx', 'src/cli/bin.ts', 'search', `models/${model}.onnx`, '--method', method, '--scheme', scheme, '--json', ...(gpu ? ['--gpu', gpu] : [])];
    process.stderr.write(`search ${model} --method ${method} --scheme ${scheme}\n`);
    const t0 = performance.now();
    const out = execFileSync(process.execPath, cli, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    runs.push({ model, method, scheme, wallSeconds: (performance.now() - t0) / 1000, result: JSON.parse(out.toString()) as SearchJson });
  }
}

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const rows = runs.map(({ model, method, wallSeconds, result: r }) => ({
  model,
  method,
  'test acc': pct(r.accuracy),
  float: pct(r.floatAccuracy),
  'val loss': `${(100 * (r.validationFloatAccuracy - r.validationAccuracy)).toFixed(2)}`,
  'test loss': `${(100 * (r.floatAccuracy - r.accuracy)).toFixed(2)}`,
  'size/int8': pct(r.sizeVsInt8),
  'bops/int8': pct(r.bopsVsInt8),
  ...(r.gpuMsVsInt8 !== undefined ? { 'gpu/int8': pct(r.gpuMsVsInt8) } : {}),
  evaluations: r.evaluations,
  'images evaluated': r.imagesEvaluated,
  'wall s': wallSeconds.toFixed(0),
}));

const doc = {
  bench: 'search',
  date: new Date().toISOString(),
  machine: `${(await import('node:os')).cpus().length} CPU cores`,
  command: `npx tsx bench/search.bench.ts ${args.join(' ')}`.trim(),
  runs,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/search.json', JSON.stringify(doc, null, 2) + '\n');
if (args.includes('--json')) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
else process.stdout.write(formatTable(rows) + '\n');
