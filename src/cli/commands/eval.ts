import type { Command } from 'commander';
import { runGraph } from '../../cpu/float-executor.js';
import { openDataset } from '../../data/open-dataset.js';
import { InputError } from '../../errors.js';
import { evaluate, imageInputSize } from '../../eval/evaluate.js';
import { DEFAULT_PREPROCESSING } from '../../io/image.js';
import { cardPreprocessing, readModelCard } from '../../model/model-card.js';
import { loadModelFile } from '../../model/load-model-file.js';
import { printJson } from '../output.js';
import { progressBar } from '../progress.js';

const BACKENDS = ['cpu-float'] as const;

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('top-1 accuracy of a model on a labelled dataset')
    .argument('<model>', 'model file (.onnx)')
    .requiredOption('--data <dataset>', 'fashion-mnist, digits, or a folder (IDX files, or one subfolder of PNG/JPEG images per label)')
    .option('--limit <n>', 'evaluate the first N test images only', (v) => positiveInt(v, '--limit'))
    .option('--batch <n>', 'images per batch', (v) => positiveInt(v, '--batch'), 64)
    .option('--backend <name>', `where to run: ${BACKENDS.join(', ')}`, 'cpu-float')
    .option('--json', 'print one JSON document on stdout')
    .action(async (modelPath: string, opts: { data: string; limit?: number; batch: number; backend: string; json?: boolean }) => {
      if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new InputError(`--backend ${opts.backend}: choose one of ${BACKENDS.join(', ')}`);
      const graph = loadModelFile(modelPath);
      const card = readModelCard(modelPath);
      let pre = cardPreprocessing(card);
      if (!pre) {
        pre = DEFAULT_PREPROCESSING;
        process.stderr.write(`note: ${modelPath} has no model card with input.scale/mean/std; feeding pixel/255\n`);
      }
      const dataset = await openDataset(opts.data, 'test', opts.limit ?? Infinity);
      const inputName = graph.inputs[0]!.name;
      const bar = progressBar(`eval ${opts.backend}`, Boolean(opts.json));
      let result;
      try {
        result = await evaluate((x) => Object.values(runGraph(graph, { [inputName]: x }))[0]!, dataset, imageInputSize(graph), pre, {
          batchSize: opts.batch,
          onProgress: (p) => bar.update(p.done, p.total, `acc ${((100 * p.correct) / p.done).toFixed(2)}%`),
        });
      } finally {
        bar.stop();
      }
      const doc = { model: modelPath, dataset: dataset.name, backend: opts.backend, images: result.images, accuracy: result.accuracy, seconds: result.seconds };
      if (opts.json) printJson(doc);
      else {
        process.stdout.write(
          `model     ${doc.model}\ndataset   ${doc.dataset}\nbackend   ${doc.backend}\nimages    ${doc.images}\n` +
            `accuracy  ${(100 * doc.accuracy).toFixed(2)}%\nseconds   ${doc.seconds.toFixed(1)} (${((1000 * doc.seconds) / Math.max(1, doc.images)).toFixed(2)} ms/image)\n`,
        );
      }
    });
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`${flag} ${v}: give a positive integer`);
  return n;
}
