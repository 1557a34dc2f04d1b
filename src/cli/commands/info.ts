import type { Command } from 'commander';
import { formatSummary, summarize } from '../../ir/summary.js';
import { fileQuantizationSummary, formatFileQuantization } from '../../import/onnx/quantized/summary.js';
import { loadModelFile, loadQuantizedModelFile } from '../../model/load-model-file.js';
import { collect, parseShapeOption } from '../options.js';
import { printJson } from '../output.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the layers of a model: ops, shapes, parameters and MACs')
    .argument('<model>', 'model file (.onnx)')
    .option('--shape <dims>', 'fix an input shape: 1,3,48,192 or name=1,3,48,192 (repeatable)', collect, [])
    .option('--json', 'print one JSON document on stdout')
    .option('--no-simplify', 'show the graph as imported, before folding and fusion')
    .action((modelPath: string, opts: { shape: string[]; json?: boolean; simplify: boolean }) => {
      const probe = opts.shape.length > 0 ? loadModelFile(modelPath, { simplify: false }) : undefined;
      const inputShapes = probe ? parseShapeOption(opts.shape, probe.inputs.map((i) => i.name)) : undefined;
      const options = { ...(inputShapes ? { inputShapes } : {}), simplify: opts.simplify };
      const fromFile = loadQuantizedModelFile(modelPath, options);
      const summary = summarize(fromFile?.graph ?? loadModelFile(modelPath, options));
      const quantized = fromFile === undefined ? undefined : fileQuantizationSummary(fromFile);
      if (opts.json) printJson({ model: modelPath, ...summary, ...(quantized ? { quantized } : {}) });
      else process.stdout.write(formatSummary(summary) + '\n' + (quantized ? formatFileQuantization(quantized) : ''));
    });
}
