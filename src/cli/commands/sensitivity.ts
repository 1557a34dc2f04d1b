import type { Command } from 'commander';
import type { Bits } from '../../quant/config.js';
import { Evaluator, type EvalBackend } from '../../search/evaluator.js';
import { withoutTiming, type ResultsDoc } from '../../search/results.js';
import { gpuLayerTimes, sensitivity, sensitivityCells, SENSITIVITY_BITS, weightLanes } from '../../search/sensitivity.js';
import { validationSet } from '../../search/sets.js';
import { parseShard } from '../../search/shard.js';
import { SEARCH_BASE, searchSpace } from '../../search/space.js';
import { formatTextTable } from '../../util/text-table.js';
import { printJson } from '../output.js';
import { noteFallback, progressWithEta, searchContext, searchOptions, writeResults, type SearchCommandOptions } from '../search-setup.js';
import { listOption } from './sweep.js';

interface SensitivityOptions extends SearchCommandOptions {
  bits: string;
  backend: string;
  shard?: string;
}

const BACKENDS: readonly EvalBackend[] = ['fake-quant-fast', 'fake-quant', 'cpu-golden'];

export function registerSensitivity(program: Command): void {
  searchOptions(
    program
      .command('sensitivity')
      .description("each layer's weights and activations alone at 7 down to 2 bits, the rest at 8: accuracy change and output SQNR on the validation split (and GPU time per layer with --gpu)")
      .argument('<model>', 'model file (.onnx or TF.js model.json)')
      .option('--bits <list>', 'bitwidths to try', SENSITIVITY_BITS.join(','))
      .option('--backend <name>', `${BACKENDS.join(', ')} (fake-quant-fast: the simulator that rounds every tensor alike, 5x faster)`, 'fake-quant-fast')
      .option('--shard <K/N>', 'run the share K of N of the cells (merge the shards with quantgpu merge)'),
  ).action(async (modelPath: string, opts: SensitivityOptions) => {
    const bits = listOption<Bits>(opts.bits, [7, 6, 5, 4, 3, 2], '--bits').map(Number) as Bits[];
    const backend = listOption<EvalBackend>(opts.backend, BACKENDS, '--backend')[0]!;
    const shard = opts.shard !== undefined ? parseShard(opts.shard) : undefined;
    const ctx = await searchContext(modelPath, opts, false);
    try {
      const validation = await validationSet(ctx.data, ctx.plan, ctx.m);
      const evaluator = await Evaluator.create(ctx.m.graph, ctx.stats, validation, { executor: opts.executor, onFallback: noteFallback });
      const space = searchSpace(evaluator.quantize({ default: SEARCH_BASE.scaled }));
      const bar = progressWithEta('sensitivity', Boolean(opts.json));
      let table;
      try {
        table = await sensitivity(evaluator, space, SEARCH_BASE.scaled, { bits, backend, ...(shard ? { shard } : {}), onCell: (d, n) => bar.update(d, n) });
      } finally {
        bar.stop();
      }
      // GPU time per layer per weight width (shard 1 only: it does not split).
      const gpuMs = ctx.runner && (!shard || shard.index === 1) ? await gpuLayerTimes(ctx.runner, evaluator, SEARCH_BASE.scaled) : undefined;
      const doc: ResultsDoc = {
        format: 'quantgpu-search-results',
        version: 1,
        command: 'sensitivity',
        model: modelPath,
        dataset: ctx.data,
        sets: { calibration: { split: 'train', start: 0, count: opts.calibImages }, validation: { split: 'train', start: opts.calibImages, count: validation.labels.length } },
        floatAccuracy: { validation: evaluator.float.accuracy },
        environment: { ...ctx.environment, backend },
        ...(shard ? { shard } : {}),
        space,
        sensitivity: { reference: withoutTiming(table.reference), cells: table.cells, ...(gpuMs ? { gpuMs } : {}) },
      };
      writeResults(doc, opts.out);
      if (opts.json) printJson(doc);
      else {
        const total = sensitivityCells(space, bits).length;
        process.stdout.write(`${ctx.m.path}: ${validation.labels.length} validation images on ${backend}; reference (8 bits) ${(100 * table.reference.accuracy).toFixed(2)}%, float ${(100 * evaluator.float.accuracy).toFixed(2)}%${shard ? `; shard ${shard.index}/${shard.count}: ${table.cells.length} of ${total} cells` : ''}\n`);
        const rows = table.cells.map((c) => [c.layer, c.kind, String(c.bits), (100 * c.accuracyDelta).toFixed(2), c.sqnrDb.toFixed(1), gpuMs && c.kind === 'weights' ? (gpuMs[weightLanes(c.bits)]?.[c.layer]?.toFixed(4) ?? '') : '']);
        process.stdout.write(formatTextTable(['layer', 'tensor', 'bits', 'accuracy change (points)', 'SQNR dB', 'GPU ms/image'], rows, { rightFrom: 2 }).join('\n') + '\n');
      }
    } finally {
      await ctx.runner?.close();
    }
  });
}

