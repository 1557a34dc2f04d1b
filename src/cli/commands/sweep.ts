import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import type { Bits, CalibratorName, Granularity, Scheme } from '../../quant/config.js';
import { EVAL_BACKENDS, Evaluator, type EvalBackend } from '../../search/evaluator.js';
import { withoutTiming, type ResultsDoc } from '../../search/results.js';
import { testSet } from '../../search/sets.js';
import { parseShard } from '../../search/shard.js';
import { DEFAULT_SWEEP, sweep, sweepConfigs, type SweepGrid } from '../../search/sweep.js';
import { formatTextTable } from '../../util/text-table.js';
import { printJson } from '../output.js';
import { noteFallback, progressWithEta, searchContext, searchOptions, writeResults, type SearchCommandOptions } from '../search-setup.js';

interface SweepOptions extends SearchCommandOptions {
  weights: string;
  acts: string;
  schemes: string;
  granularity: string;
  calibrators: string;
  backend: string;
  shard?: string;
}

/** A comma-separated list of allowed values. */
export function listOption<T extends string | number>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const out = items.map((s) => allowed.find((a) => String(a) === s));
  const bad = items.filter((_, i) => out[i] === undefined);
  if (items.length === 0 || bad.length > 0) throw new InputError(`${flag} ${value}: each of ${bad.join(', ') || '(none)'} must be one of ${allowed.join(', ')}`);
  return out as T[];
}

const BITS: readonly Bits[] = [8, 7, 6, 5, 4, 3, 2];

export function registerSweep(program: Command): void {
  searchOptions(
    program
      .command('sweep')
      .description('a grid of uniform configs on the test split: accuracy, agreement with float, SQNR, size, bit-operations (and GPU time on the GPU)')
      .argument('<model>', 'model file (.onnx or TF.js model.json)')
      .option('--weights <bits>', 'weight bitwidths', DEFAULT_SWEEP.weights.join(','))
      .option('--acts <bits>', 'activation bitwidths', DEFAULT_SWEEP.activations.join(','))
      .option('--schemes <list>', 'affine, symmetric, pow2', 'affine')
      .option('--granularity <list>', 'per-channel, per-tensor', 'per-channel')
      .option('--calibrators <list>', 'max, percentile, entropy, mse', 'max')
      .option('--backend <name>', `where each point is evaluated: ${EVAL_BACKENDS.join(', ')}`, 'fake-quant')
      .option('--shard <K/N>', 'run the share K of N of the points (merge the shards with quantgpu merge)'),
  ).action(async (modelPath: string, opts: SweepOptions) => {
    const grid: SweepGrid = {
      weights: listOption(opts.weights, BITS, '--weights').map(Number) as Bits[],
      activations: listOption(opts.acts, BITS, '--acts').map(Number) as Bits[],
      schemes: listOption<Scheme>(opts.schemes, ['affine', 'symmetric', 'pow2'], '--schemes'),
      granularities: listOption<Granularity>(opts.granularity, ['per-channel', 'per-tensor'], '--granularity'),
      calibrators: listOption<CalibratorName>(opts.calibrators, ['max', 'percentile', 'entropy', 'mse'], '--calibrators'),
    };
    const backend = listOption<EvalBackend>(opts.backend, EVAL_BACKENDS, '--backend')[0]!;
    const shard = opts.shard !== undefined ? parseShard(opts.shard) : undefined;
    const ctx = await searchContext(modelPath, opts, backend === 'gpu');
    try {
      const test = await testSet(ctx.data, ctx.plan, ctx.m);
      const evaluator = await Evaluator.create(ctx.m.graph, ctx.stats, test, { executor: opts.executor, onFallback: noteFallback, ...(ctx.runner ? { gpu: ctx.runner } : {}) });
      const bar = progressWithEta('sweep', Boolean(opts.json));
      let points;
      try {
        points = await sweep(evaluator, grid, { backend, ...(shard ? { shard } : {}), onPoint: (d, n, p) => bar.update(d, n, p.label) });
      } finally {
        bar.stop();
      }
      const doc: ResultsDoc = {
        format: 'quantgpu-search-results',
        version: 1,
        command: 'sweep',
        model: modelPath,
        dataset: ctx.data,
        sets: { calibration: { split: 'train', start: 0, count: opts.calibImages }, test: { split: 'test', start: 0, count: test.labels.length } },
        floatAccuracy: { test: evaluator.float.accuracy },
        environment: ctx.environment,
        ...(shard ? { shard } : {}),
        points: points.map((p) => ({ id: p.id, label: p.label, config: p.config, ...withoutTiming(p.evaluation) })),
      };
      writeResults(doc, opts.out);
      if (opts.json) printJson(doc);
      else {
        const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
        const rows = points.map((p) => {
          const e = p.evaluation;
          return [p.label, pct(e.accuracy), pct(e.agreement), Number.isFinite(e.sqnrDb) ? e.sqnrDb.toFixed(1) : 'inf', pct(e.sizeVsInt8), pct(e.bopsVsInt8), e.gpuMsPerImage?.toFixed(3) ?? ''];
        });
        process.stdout.write(`${ctx.m.path}: ${test.labels.length} test images on ${backend}, float accuracy ${pct(evaluator.float.accuracy)}${shard ? `, shard ${shard.index}/${shard.count} (${points.length} of ${sweepConfigs(grid).length} points)` : ''}\n`);
        process.stdout.write(formatTextTable(['config', 'accuracy', 'agreement', 'SQNR dB', 'size/int8', 'bit-ops/int8', 'GPU ms/image'], rows).join('\n') + '\n');
      }
    } finally {
      await ctx.runner?.close();
    }
  });
}
