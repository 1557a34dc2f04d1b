import type { Command } from 'commander';
import type { Tensor } from '../../cpu/tensor.js';
import { InputError } from '../../errors.js';
import { formatShape } from '../../ir/shape.js';
import { cardPreprocessing, readModelCard } from '../../model/model-card.js';
import { loadModelFile } from '../../model/load-model-file.js';
import { readInputFile } from '../input-file.js';
import { createFloatExecutor, type ExecutorChoice } from '../../executor/executor.js';
import { collect, executorOption, noteFallback } from '../options.js';
import { printJson } from '../output.js';

export function registerRun(program: Command): void {
  executorOption(program
    .command('run')
    .description('run a model in float on the CPU (ONNX Runtime, or quantgpu\'s own executor) and print its outputs')
    .argument('<model>', 'model file (.onnx)')
    .requiredOption('--input <file>', 'input tensor: .npy, .pb (ONNX TensorProto) or .png/.jpg; name=file for a model with several inputs (repeatable)', collect, [])
    .option('--json', 'print one JSON document on stdout'))
    .action(async (modelPath: string, opts: { input: string[]; json?: boolean; executor: ExecutorChoice }) => {
      const graph = loadModelFile(modelPath);
      const card = readModelCard(modelPath);
      const inputs: Record<string, Tensor> = {};
      opts.input.forEach((spec, i) => {
        const eq = spec.indexOf('=');
        const named = eq > 0 && graph.inputs.some((x) => x.name === spec.slice(0, eq));
        const info = named ? graph.inputs.find((x) => x.name === spec.slice(0, eq))! : graph.inputs[i];
        if (!info) throw new InputError(`--input ${spec}: the model has only ${graph.inputs.length} input(s): ${graph.inputs.map((x) => x.name).join(', ')}`);
        inputs[info.name] = readInputFile(named ? spec.slice(eq + 1) : spec, info, cardPreprocessing(card));
      });
      const exec = await createFloatExecutor(graph, { executor: opts.executor, onFallback: noteFallback });
      let outputs: Record<string, Tensor>;
      const t0 = performance.now();
      try {
        outputs = await exec.run(inputs);
      } finally {
        await exec.dispose();
      }
      const ms = performance.now() - t0;
      if (opts.json) {
        printJson({
          model: modelPath,
          backend: 'cpu-float',
          executor: exec.runtime,
          milliseconds: ms,
          outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])),
        });
        return;
      }
      for (const [name, t] of Object.entries(outputs)) {
        process.stdout.write(`${name} ${formatShape(t.shape)}\n`);
        const rows = t.shape.length === 2 ? t.shape[0]! : 1;
        const cols = t.data.length / rows;
        for (let r = 0; r < rows; r++) {
          const row = Array.from(t.data.subarray(r * cols, (r + 1) * cols));
          const shown = row.length > 16 ? [...row.slice(0, 16).map(fmt), `... (${row.length} values)`] : row.map(fmt);
          let line = `  [${shown.join(', ')}]`;
          if (t.shape.length === 2 && cols > 1) {
            const best = row.indexOf(Math.max(...row));
            line += `  argmax ${best}${card?.classes?.[best] ? ` (${card.classes[best]})` : ''}`;
          }
          process.stdout.write(line + '\n');
        }
      }
      process.stderr.write(`cpu-float on ${exec.runtime}: ${ms.toFixed(1)} ms\n`);
    });
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}
