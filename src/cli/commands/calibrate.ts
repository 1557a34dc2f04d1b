import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { statsToFile } from '../../quant/calibration/stats-file.js';
import { calibrateModel, setupModel } from '../model-setup.js';
import type { ExecutorChoice } from '../../executor/executor.js';
import { executorOption, modelOptions, positiveInt, type ModelOptions } from '../options.js';
import { checkWritable, writeFileAtomic } from '../output.js';
import { progressBar } from '../progress.js';

const CALIBRATORS = ['max', 'percentile', 'entropy', 'mse'];

export function registerCalibrate(program: Command): void {
  executorOption(modelOptions(program
    .command('calibrate')
    .description('collect activation statistics on calibration images (the training split), for quantize and eval')
    .argument('<model>', 'model file (.onnx)')
    .requiredOption('--data <dataset>', 'fashion-mnist, digits, or a folder (IDX files, or labelled image subfolders)')
    .requiredOption('-o, --output <file>', 'where to write the statistics (JSON)')
    .option('--images <n>', 'calibration images (the first N of the training split)', (v) => positiveInt(v, '--images'), 512)
    .option('--calibrator <name>', `default calibrator recorded with the statistics, used by presets: ${CALIBRATORS.join(', ')} (percentile:99.99 gives the percentile)`)
    .option('--equalize', 'measure the cross-layer equalized model: for configs with "equalize": true (the file records it; quantizing with a config that disagrees is an error)')))
    .action(async (modelPath: string, opts: ModelOptions & { data: string; output: string; images: number; calibrator?: string; executor: ExecutorChoice; equalize?: boolean }) => {
      if (opts.calibrator && !CALIBRATORS.includes(opts.calibrator.split(':')[0]!)) {
        throw new InputError(`--calibrator ${opts.calibrator}: choose one of ${CALIBRATORS.join(', ')}`);
      }
      checkWritable(opts.output, '-o');
      const m = setupModel(modelPath, opts);
      const bar = progressBar('calibrate', false);
      const t0 = performance.now();
      let stats;
      try {
        stats = await calibrateModel(m, opts.data, opts.images, bar, opts.executor, opts.equalize === true);
      } finally {
        bar.stop();
      }
      const file = {
        ...statsToFile(stats.tensors),
        model: modelPath,
        images: stats.images,
        executor: stats.runtime,
        ...(opts.calibrator ? { calibrator: opts.calibrator } : {}),
      };
      writeFileAtomic(opts.output, JSON.stringify(file) + '\n');
      const seconds = (performance.now() - t0) / 1000;
      process.stderr.write(`calibrate: ${stats.tensors.size} tensors${stats.tensors.equalized ? ' of the equalized model' : ''} over ${stats.images} images in ${seconds.toFixed(1)} s on ${stats.runtime} -> ${opts.output}\n`);
    });
}
