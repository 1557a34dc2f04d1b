import type { Command } from 'commander';
import type { ExecutorChoice } from '../../executor/executor.js';
import { statsToFile } from '../../quant/calibration/stats-file.js';
import { loadConfig, withStatsCalibrator } from '../config-option.js';
import { refinementToFile } from '../../quant/refine/refinement.js';
import { setupModel, statsFor } from '../model-setup.js';
import { executorOption, modelOptions, positiveInt, type ModelOptions } from '../options.js';
import { checkWritable, printJson, writeFileAtomic } from '../output.js';
import { learnRefinement } from '../refinement-setup.js';

interface RefineCliOptions extends ModelOptions {
  config: string;
  data: string;
  stats?: string;
  images: number;
  iterations: number;
  columns: number;
  output: string;
  json?: boolean;
  executor: ExecutorChoice;
}

export function registerRefine(program: Command): void {
  executorOption(modelOptions(program
    .command('refine')
    .description("learn what a config's AdaRound rounding and empirical bias correction need, on calibration images, for --refinement")
    .argument('<model>', 'model file (.onnx)')
    .requiredOption('--config <preset|file>', 'a config with rounding adaround or biasCorrection empirical (w4a8-adaround, a JSON file, or inline JSON)')
    .requiredOption('--data <dataset>', 'fashion-mnist, digits, or a folder: its first training images are the calibration images')
    .requiredOption('-o, --output <file>', 'where to write the refinement (JSON, with the calibration statistics it was learned with)')
    .option('--stats <file>', 'calibration statistics from `quantgpu calibrate` (default: calibrate now on the same images)')
    .option('--images <n>', 'calibration images (the first N of the training split)', (v) => positiveInt(v, '--images'), 1024)
    .option('--iterations <n>', 'AdaRound steps per layer', (v) => positiveInt(v, '--iterations'), 400)
    .option('--columns <n>', 'input columns (positions x images) per layer in AdaRound\'s products', (v) => positiveInt(v, '--columns'), 8192)
    .option('--json', 'print one JSON document on stdout')))
    .action(async (modelPath: string, opts: RefineCliOptions) => {
      const parsed = loadConfig(opts.config);
      checkWritable(opts.output, '-o');
      const m = setupModel(modelPath, opts);
      // The statistics of the graph the config quantizes: equalized where it says so.
      const { tensors, calibrator } = await statsFor(m, { ...opts, equalize: parsed.equalize === true });
      const config = withStatsCalibrator(parsed, opts.config, calibrator);
      const r = await learnRefinement(m, tensors, config, { ...opts, maxColumns: opts.columns });
      writeFileAtomic(opts.output, JSON.stringify({ ...refinementToFile(r), model: modelPath, config: config.name ?? 'custom', stats: statsToFile(tensors) }) + '\n');
      const doc = { model: modelPath, config: config.name ?? 'custom', layers: r.layers.size, images: r.images, seconds: r.seconds, output: opts.output };
      if (opts.json) printJson(doc);
      else process.stderr.write(`refine: ${r.layers.size} layers learned on ${r.images} images in ${r.seconds.toFixed(1)} s -> ${opts.output}\n`);
    });
}
