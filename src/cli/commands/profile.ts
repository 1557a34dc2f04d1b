import type { Command } from 'commander';
import type { Tensor } from '../../cpu/tensor.js';
import { layoutShape } from '../../data/dataset.js';
import { openDataset } from '../../data/open-dataset.js';
import { InputError } from '../../errors.js';
import { describeAdapter } from '../../eval/gpu-backend.js';
import type { GpuHost } from '../../gpu/adapter-info.js';
import { gpuHostChoices, openGpuRunner } from '../../host/gpu-runner.js';
import { quantize } from '../../quant/pipeline.js';
import { formatProfile } from '../../runtime/profile.js';
import { loadConfig, withStatsCalibrator } from '../config-option.js';
import { refinementFor } from '../refinement-setup.js';
import { batchFor, noteQuantized, quantizedModelFile, setupModel, statsFor, type ModelSetup } from '../model-setup.js';
import type { ExecutorChoice } from '../../executor/executor.js';
import { executorOption, gpuHost, modelOptions, positiveInt, type ModelOptions } from '../options.js';
import { printJson } from '../output.js';
import { seededUniform } from '../../util/seeded-input.js';

interface ProfileOptions extends ModelOptions {
  roofline?: boolean;
  config: string;
  stats?: string;
  /** `--refinement`: a file of `quantgpu refine`. */
  refinement?: string;
  data?: string;
  calibImages: number;
  batch: number;
  warmup: number;
  repeats: number;
  gpu: GpuHost;
  json?: boolean;
  executor: ExecutorChoice;
}

/** The first `batch` test images of the dataset, or (with none) a seeded uniform [0, 1) input: the times hardly depend on the values. */
async function profileInput(m: ModelSetup, data: string | undefined, batch: number): Promise<Tensor> {
  if (data !== undefined) {
    const ds = await openDataset(data, 'test', batch);
    for await (const b of ds.batches(batch, m.size, m.pre, m.layout)) if (b.x.shape[0] === batch) return b.x;
    throw new InputError(`--data ${data}: fewer than ${batch} test images for --batch ${batch}`);
  }
  return seededUniform(layoutShape(batch, m.size, m.layout));
}

export function registerProfile(program: Command): void {
  executorOption(modelOptions(program
    .command('profile')
    .description('per-layer GPU time of a model (timestamp queries): op, shape, bits, MACs, median time, GOP/s')
    .argument('<model>', 'model file (.onnx)')
    .option('--config <preset|file>', 'quantization: a preset, a JSON file, inline JSON, or float', 'w8a8')
    .option('--stats <file>', 'calibration statistics from `quantgpu calibrate`')
    .option('--refinement <file>', 'AdaRound codes and bias corrections from `quantgpu refine` (with the statistics they were learned on); configs that ask for them learn now without it')
    .option('--data <dataset>', "calibration and input images: fashion-mnist, digits or a folder (default: the model card's dataset)")
    .option('--calib-images <n>', 'calibration images when no --stats is given', (v) => positiveInt(v, '--calib-images'), 256)
    .option('--batch <n>', 'images per inference', (v) => positiveInt(v, '--batch'), 1)
    .option('--warmup <n>', 'runs before timing', (v) => positiveInt(v, '--warmup'), 3)
    .option('--repeats <n>', 'timed runs (the median is reported)', (v) => positiveInt(v, '--repeats'), 20)
    .option('--gpu <host>', `where the device lives: ${gpuHostChoices()}`, gpuHost, 'browser')
    .option('--roofline', "measure the adapter's peaks first and give each layer its floor: its MACs or its bytes at those rates, whichever takes longer")
    .option('--json', 'print one JSON document on stdout (layers as an array)')))
    .action(async (modelPath: string, opts: ProfileOptions, command: Command) => {
      const m = setupModel(modelPath, opts);
      // Noted only where --batch was given: its default is no request.
      opts.batch = batchFor(m, opts.batch, command.getOptionValueSource('batch') === 'default' ? undefined : '--batch');
      const data = opts.data ?? m.card?.dataset;
      const fromFile = quantizedModelFile(modelPath, opts, (f) => command.getOptionValueSource(f) === 'cli');
      const float = opts.config === 'float';
      const parsed = float || fromFile ? undefined : loadConfig(opts.config);
      if (!float && !fromFile && opts.stats === undefined && data === undefined) throw new InputError(`--config ${opts.config} needs calibration: give --stats or --data (the model has no card naming its dataset)`);
      const runner = await openGpuRunner(opts.gpu);
      try {
        let model: Parameters<typeof runner.createSession>[0] = float || !fromFile ? m.graph : fromFile.quantized;
        let configName = model === m.graph ? 'float' : 'imported';
        if (parsed !== undefined) {
          const { tensors, calibrator } = await statsFor(m, { ...opts, data, images: opts.calibImages, equalize: parsed.equalize === true });
          const config = withStatsCalibrator(parsed, opts.config, calibrator);
          configName = config.name ?? 'custom';
          const refinement = await refinementFor(m, tensors, config, { ...opts, ...(data === undefined ? {} : { data }), images: opts.calibImages });
          const qg = quantize(m.graph, tensors, config, { refinement });
          noteQuantized(qg);
          model = qg;
        }
        const x = await profileInput(m, data, opts.batch);
        const session = await runner.createSession(model);
        try {
          const p = await session.profile(x, { warmup: opts.warmup, repeats: opts.repeats, roofline: opts.roofline === true });
          const memory = await session.memory(x);
          const adapter = describeAdapter(await runner.facts());
          if (opts.json) printJson({ model: modelPath, config: configName, gpu: opts.gpu, ...p, adapter, memory });
          else {
            process.stdout.write(`${formatProfile({ ...p, adapter: `${adapter} via ${opts.gpu}` })}\n`);
            process.stdout.write(`activation memory${memory.pieces === undefined ? '' : ' (one piece)'} ${memory.plannedBytes} B in ${memory.slots} buffers (one per tensor: ${memory.naiveBytes} B); constants ${memory.constantBytes} B\n`);
          }
        } finally {
          await session.dispose();
        }
      } finally {
        await runner.close();
      }
    });
}
