import type { Command } from 'commander';
import { layoutShape } from '../../data/dataset.js';
import { openDataset } from '../../data/open-dataset.js';
import { InputError } from '../../errors.js';
import type { Tensor } from '../../cpu/tensor.js';
import { CPU_BACKENDS, openCpuBackend, type BackendRun, type CpuBackend } from '../../eval/backends.js';
import type { ExecutorChoice } from '../../executor/executor.js';
import { describeAdapter, gpuBackend, type GpuBackend } from '../../eval/gpu-backend.js';
import type { GpuHost } from '../../gpu/adapter-info.js';
import { gpuHostChoices, openGpuRunner } from '../../host/gpu-runner.js';
import type { Graph } from '../../ir/graph.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { OutputDigest } from '../../eval/digest.js';
import { evaluate, type EvalResult } from '../../eval/evaluate.js';
import { PRESETS, type QuantConfig } from '../../quant/config.js';
import { costReport } from '../../quant/cost.js';
import { tensorSqnr } from '../../quant/measures.js';
import { quantize } from '../../quant/pipeline.js';
import { loadConfig, withStatsCalibrator } from '../config-option.js';
import { refinementFor } from '../refinement-setup.js';
import { batchFor, openTestSet, noteQuantized, quantizedModelFile, setupModel, statsFor, wholeBatches, type ModelSetup } from '../model-setup.js';
import { executorOption, gpuHost, modelOptions, noteFallback, positiveInt, type ModelOptions } from '../options.js';
import { printJson } from '../output.js';
import { progressBar } from '../progress.js';

interface EvalOptions extends ModelOptions {
  data: string;
  limit?: number;
  batch: number;
  backend: string;
  gpu: GpuHost;
  config?: string;
  stats?: string;
  /** `--refinement`: a file of `quantgpu refine`. */
  refinement?: string;
  calibImages: number;
  json?: boolean;
  executor: ExecutorChoice;
}

const BACKENDS = [...CPU_BACKENDS, 'gpu'] as const;
/** Test images the per-tensor SQNR is measured on (the golden model takes any batch). */
const SQNR_IMAGES = 64;

async function runEval(m: ModelSetup, backend: CpuBackend, opts: EvalOptions, label: string, qg?: QuantizedGraph): Promise<EvalResult & { digest: string; runtime: string }> {
  const b = await openCpuBackend(backend, m.graph, qg, { executor: opts.executor, onFallback: noteFallback });
  try {
    return { ...(await runEvalWith((x) => b.run(x), m, opts, label)), runtime: b.runtime };
  } finally {
    await b.dispose();
  }
}

async function runEvalWith(run: (x: Tensor) => BackendRun | Promise<BackendRun>, m: ModelSetup, opts: EvalOptions, label: string): Promise<EvalResult & { digest: string }> {
  const dataset = await openTestSet(m, opts.data, opts.limit ?? Infinity);
  const digest = new OutputDigest();
  const bar = progressBar(label, Boolean(opts.json));
  try {
    const r = await evaluate(
      async (x) => {
        const out = await run(x);
        digest.add(out.digestWords);
        return out.logits;
      },
      dataset,
      m.size,
      m.pre,
      { batchSize: opts.batch, layout: m.layout, onProgress: (p) => bar.update(p.done, p.total, `acc ${((100 * p.correct) / p.done).toFixed(2)}%`) },
    );
    return { ...r, digest: digest.hex() };
  } finally {
    bar.stop();
  }
}

export function registerEval(program: Command): void {
  executorOption(modelOptions(program
    .command('eval')
    .description('top-1 accuracy of a model on a labelled dataset, float or quantized, with size and cost')
    .argument('<model>', 'model file (.onnx)')
    .requiredOption('--data <dataset>', 'fashion-mnist, digits, or a folder (IDX files, or one subfolder of PNG/JPEG images per label)')
    .option('--limit <n>', 'evaluate the first N test images only', (v) => positiveInt(v, '--limit'))
    .option('--batch <n>', 'images per batch', (v) => positiveInt(v, '--batch'), 64)
    .option('--backend <name>', `where to run: ${BACKENDS.join(', ')}`, 'cpu-float')
    .option('--gpu <host>', `with --backend gpu, where the device lives: ${gpuHostChoices()}; browser is headless Chromium through puppeteer, node the webgpu package in this process`, gpuHost, 'browser')
    .option('--config <preset|file>', `quantization: a preset (${Object.keys(PRESETS).join(', ')}), a JSON file, or inline JSON (default w8a8 for quantized backends)`)
    .option('--stats <file>', 'calibration statistics from `quantgpu calibrate` (default: calibrate now on the training split)')
    .option('--calib-images <n>', 'calibration images when no --stats is given', (v) => positiveInt(v, '--calib-images'), 512)
    .option('--refinement <file>', 'AdaRound codes and bias corrections from `quantgpu refine` (with the statistics they were learned on); configs that ask for them learn now without it')
    .option('--json', 'print one JSON document on stdout')))
    .action(async (modelPath: string, opts: EvalOptions, command: Command) => {
      if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new InputError(`--backend ${opts.backend}: choose one of ${BACKENDS.join(', ')}`);
      const backend = opts.backend as CpuBackend | 'gpu';
      const m = setupModel(modelPath, opts);
      const fromFile = quantizedModelFile(modelPath, opts, (f) => command.getOptionValueSource(f) === 'cli');
      // A model with a fixed batch takes only that many images at once.
      // Noted only where --batch was given: its default is no request.
      opts.batch = batchFor(m, opts.batch, command.getOptionValueSource('batch') === 'default' ? undefined : '--batch');
      // A limit below one fixed batch fails now, not after calibration.
      if (opts.limit !== undefined) wholeBatches(m, opts.limit, 'test images');
      const floatOnly = backend === 'cpu-float' || (backend === 'gpu' && opts.config === 'float');
      if (backend === 'cpu-float' && opts.config && opts.config !== 'float') throw new InputError(`--config ${opts.config} needs a quantized backend (cpu-golden, fake-quant or gpu)`);
      // Validate the config, then bring the GPU up, before any long work: a bad
      // config or a missing adapter fails before minutes of calibration.
      const configSpec = opts.config ?? 'w8a8';
      const parsed = floatOnly || fromFile ? undefined : loadConfig(configSpec);
      const runner = backend === 'gpu' ? await openGpuRunner(opts.gpu) : undefined;
      try {
        // The session is planned for the batch shape before any evaluation, so
        // that a layer the GPU cannot run fails before minutes of float eval.
        const openGpu = async (model: Graph | QuantizedGraph): Promise<GpuBackend> => {
          const g = await gpuBackend(runner!, model);
          try {
            await g.prepare(layoutShape(opts.batch, m.size, m.layout));
          } catch (e) {
            await g.dispose();
            throw e;
          }
          return g;
        };
        const onGpu = async (g: GpuBackend): Promise<{ r: EvalResult & { digest: string }; gpu: Record<string, unknown> }> => {
          try {
            const r = await runEvalWith((x) => g.run(x), m, opts, `eval gpu (${opts.gpu})`);
            return { r, gpu: { gpu: opts.gpu, adapter: describeAdapter(await runner!.facts()), gpuMsPerImage: r.images ? g.runMs / r.images : 0 } };
          } finally {
            await g.dispose();
          }
        };
        let doc: Record<string, unknown>;
        if (floatOnly) {
          const { r, gpu } = backend === 'gpu' ? await onGpu(await openGpu(m.graph)) : { r: await runEval(m, 'cpu-float', opts, 'eval cpu-float'), gpu: {} };
          doc = { model: modelPath, dataset: opts.data, backend, ...executorField(r), images: r.images, accuracy: r.accuracy, seconds: r.seconds, config: 'float', outputDigest: r.digest, ...gpu };
        } else {
          const qg = fromFile?.quantized ?? (await calibrated(m, parsed!, configSpec, opts));
          const config = qg.config;
          const planned = backend === 'gpu' ? await openGpu(qg) : undefined;
          const cost = costReport(qg);
          // Per-tensor SQNR of the golden model against float, on the first test images (one fixed batch, where the model has one).
          const sqnrImages = m.batch ?? SQNR_IMAGES;
          const first = await (await openDataset(opts.data, 'test', Math.min(sqnrImages, opts.limit ?? sqnrImages))).batches(sqnrImages, m.size, m.pre, m.layout).next();
          const sqnr = first.done ? [] : tensorSqnr(qg, { [m.graph.inputs[0]!.name]: first.value.x });
          const floatRun = await runEval(m, 'cpu-float', opts, 'eval float');
          const { r, gpu } = planned !== undefined ? await onGpu(planned) : { r: await runEval(m, backend as CpuBackend, opts, `eval ${backend}`, qg), gpu: {} };
          let agree = 0;
          r.predictions.forEach((p, i) => (agree += p === floatRun.predictions[i] ? 1 : 0));
          doc = {
            model: modelPath,
            dataset: opts.data,
            backend,
            ...executorField(r),
            images: r.images,
            accuracy: r.accuracy,
            seconds: r.seconds,
            config: config.name ?? config,
            floatAccuracy: floatRun.accuracy,
            floatExecutor: floatRun.runtime,
            agreement: r.images ? agree / r.images : 0,
            sizeBytes: cost.sizeBytes,
            sizeVsInt8: cost.sizeBytes / cost.int8Bytes,
            sizeVsFloat32: cost.sizeBytes / cost.float32Bytes,
            bops: cost.bops,
            bopsVsInt8: cost.bops / cost.int8Bops,
            outputDigest: r.digest,
            sqnrDb: Object.fromEntries(sqnr.map((t) => [t.tensor, Number.isFinite(t.sqnrDb) ? Number(t.sqnrDb.toFixed(2)) : null])),
            ...gpu,
          };
        }
        if (opts.json) printJson(doc);
        else process.stdout.write(formatEval(doc));
      } finally {
        await runner?.close();
      }
    });
}

/** The config quantized with statistics (the --stats file, or a calibration now) and, where it asks for learning, a refinement (the --refinement file, or learned now). */
async function calibrated(m: ModelSetup, parsed: QuantConfig, configSpec: string, opts: EvalOptions): Promise<QuantizedGraph> {
  const { tensors, calibrator } = await statsFor(m, { ...opts, images: opts.calibImages, equalize: parsed.equalize === true });
  const config = withStatsCalibrator(parsed, configSpec, calibrator);
  const refinement = await refinementFor(m, tensors, config, { ...opts, images: opts.calibImages });
  const qg = quantize(m.graph, tensors, config, { refinement });
  noteQuantized(qg);
  return qg;
}

/** What ran a CPU backend (`executor` in the JSON); GPU runs report their adapter instead. */
function executorField(r: object): { executor?: string } {
  return 'runtime' in r && typeof r.runtime === 'string' ? { executor: r.runtime } : {};
}

function formatEval(doc: Record<string, unknown>): string {
  const pct = (v: unknown): string => `${(100 * (v as number)).toFixed(2)}%`;
  const rows: Array<[string, string]> = [
    ['model', String(doc.model)],
    ['dataset', String(doc.dataset)],
    ['backend', `${String(doc.backend)}${doc.executor ? ` on ${String(doc.executor)}` : ''}`],
    ['config', typeof doc.config === 'string' ? doc.config : 'custom'],
    ['images', String(doc.images)],
    ['accuracy', pct(doc.accuracy)],
  ];
  if (doc.floatAccuracy !== undefined) {
    rows.push(['float accuracy', pct(doc.floatAccuracy)], ['agreement', pct(doc.agreement)]);
    rows.push(['size', `${((doc.sizeBytes as number) / 1024).toFixed(1)} KiB (${pct(doc.sizeVsInt8)} of int8, ${pct(doc.sizeVsFloat32)} of float32)`]);
    rows.push(['bit-operations', `${((doc.bops as number) / 1e9).toFixed(3)} G per image (${pct(doc.bopsVsInt8)} of int8)`]);
    const sq = Object.entries(doc.sqnrDb as Record<string, number | null>).filter((e): e is [string, number] => e[1] !== null);
    if (sq.length > 0) {
      const worst = sq.reduce((a, b) => (b[1] < a[1] ? b : a));
      rows.push(['SQNR', `mean ${(sq.reduce((a, e) => a + e[1], 0) / sq.length).toFixed(1)} dB over ${sq.length} tensors, lowest ${worst[1].toFixed(1)} dB at ${worst[0]}`]);
    }
  }
  if (doc.adapter !== undefined) rows.push(['adapter', `${String(doc.adapter)} via ${String(doc.gpu)}`], ['GPU ms/image', (doc.gpuMsPerImage as number).toFixed(3)]);
  rows.push(['seconds', `${(doc.seconds as number).toFixed(1)}`], ['output digest', String(doc.outputDigest)]);
  return rows.map(([k, v]) => `${k.padEnd(15)} ${v}`).join('\n') + '\n';
}
