import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { ExecutorChoice } from '../executor/executor.js';
import { describeAdapter } from '../eval/gpu-backend.js';
import type { GpuHost } from '../gpu/adapter-info.js';
import { gpuHostChoices, openGpuRunner, type GpuRunner } from '../host/gpu-runner.js';
import type { TensorStats } from '../quant/calibration/tensor-stats.js';
import { reportHtml } from '../search/report/html.js';
import type { ResultsDoc } from '../search/results.js';
import type { SplitPlan } from '../search/sets.js';
import { noteEqualization, setupModel, statsFor, type ModelSetup } from './model-setup.js';
import { executorOption, gpuHost, modelOptions, noteFallback, positiveInt, type ModelOptions } from './options.js';
import { writeFileAtomic } from './output.js';
import { progressBar, type Progress } from './progress.js';
import { prepareForQuantization } from '../quant/prepare.js';

/** The options every choosing command (sweep, sensitivity, search) shares. */
export interface SearchCommandOptions extends ModelOptions {
  data?: string;
  stats?: string;
  calibImages: number;
  validationImages: number;
  limit?: number;
  gpu?: GpuHost;
  out?: string;
  json?: boolean;
  executor: ExecutorChoice;
  equalize?: boolean;
}

export function searchOptions(command: Command, validation: { images: number; note?: string } = { images: 2000 }): Command {
  return executorOption(
    modelOptions(command)
      .option('--data <dataset>', "fashion-mnist, digits or a folder (default: the model card's dataset)")
      .option('--stats <file>', 'calibration statistics from `quantgpu calibrate` (default: calibrate now)')
      .option('--calib-images <n>', 'calibration images: the first N of the training split', (v) => positiveInt(v, '--calib-images'), 512)
      .option('--validation-images <n>', `validation images: the N training images after the calibration ones (never the test split)${validation.note ?? ''}`, (v) => positiveInt(v, '--validation-images'), validation.images)
      .option('--limit <n>', 'test images (the first N of the test split; default all)', (v) => positiveInt(v, '--limit'))
      .option('--gpu <host>', `run GPU work with the device in ${gpuHostChoices()}`, gpuHost)
      .option('--out <dir>', 'write results.json and report.html there')
      .option('--json', 'print one JSON document on stdout')
      .option('--equalize', 'search on the cross-layer equalized model (one calibration serves every config; a --stats file must come from calibrate --equalize)'),
  );
}

export interface SearchContext {
  m: ModelSetup;
  data: string;
  stats: Map<string, TensorStats>;
  plan: SplitPlan;
  runner: GpuRunner | undefined;
  environment: Record<string, string>;
}

/** The model, its statistics (from --stats, or calibrated now on the first images of the training split) and, where asked, a GPU. */
export async function searchContext(modelPath: string, o: SearchCommandOptions, needsGpu: boolean): Promise<SearchContext> {
  const plain = setupModel(modelPath, o);
  // Every config of the search quantizes this graph: equalized once, here, it is equalized for all of them.
  const m = o.equalize ? { ...plain, graph: prepareForQuantization(plain.graph, { equalize: true }) } : plain;
  noteEqualization(m.graph);
  const data = o.data ?? m.card?.dataset;
  if (data === undefined) throw new InputError('give --data: the model has no card naming its dataset');
  const runner = needsGpu || o.gpu !== undefined ? await openGpuRunner(o.gpu ?? 'node') : undefined;
  try {
    const { tensors } = await statsFor(m, { ...o, data, images: o.calibImages });
    const environment: Record<string, string> = { quantgpu: '0.1.0', executor: o.executor, ...(m.graph.equalization ? { equalized: `${m.graph.equalization.equalized.length} pairs (cross-layer equalization)` } : {}) };
    if (runner) environment.adapter = `${describeAdapter(await runner.facts())} via ${runner.host}`;
    return { m, data, stats: tensors, plan: { calibration: o.calibImages, validation: o.validationImages, test: o.limit ?? Infinity }, runner, environment };
  } catch (e) {
    await runner?.close();
    throw e;
  }
}

/** A progress bar with the time left, estimated from the pace so far. */
export function progressWithEta(label: string, json: boolean): Progress {
  const bar = progressBar(label, json);
  const t0 = performance.now();
  return {
    update(done, total, detail = '') {
      const s = (performance.now() - t0) / 1000;
      const eta = done > 0 && total > done ? ` eta ${Math.round((s / done) * (total - done))} s` : '';
      bar.update(done, total, `${detail}${eta}`);
    },
    stop: () => bar.stop(),
  };
}

/** --out: results.json and report.html in a folder (made if missing). */
export function writeResults(doc: ResultsDoc, out: string | undefined): void {
  if (out === undefined) return;
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, 'results.json'), JSON.stringify(doc, null, 2) + '\n');
  writeFileAtomic(join(out, 'report.html'), reportHtml(doc));
  process.stderr.write(`wrote ${join(out, 'results.json')} and ${join(out, 'report.html')}\n`);
}

export { noteFallback };
