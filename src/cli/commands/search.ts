import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { quantConfigToJson } from '../../quant/config-json.js';
import { OBJECTIVES, type Objective } from '../../search/cost-model.js';
import { Evaluator, type EvalBackend } from '../../search/evaluator.js';
import { withoutTiming, type ResultsDoc } from '../../search/results.js';
import { search, SEARCH_METHODS, type SearchMethod } from '../../search/search.js';
import { gpuLayerTimes } from '../../search/sensitivity.js';
import { splitEvalSet, testSet, validationSet } from '../../search/sets.js';
import { SEARCH_BASE, searchSpace } from '../../search/space.js';
import { printJson, writeFileAtomic } from '../output.js';
import { noteFallback, progressWithEta, searchContext, searchOptions, writeResults, type SearchCommandOptions } from '../search-setup.js';
import { listOption } from './sweep.js';

interface SearchCliOptions extends SearchCommandOptions {
  maxLoss: string;
  confidence: string;
  objective: string;
  scheme: string;
  method: string;
  backend: string;
  biasCorrection: string;
  config?: string;
}

/** Test images the GPU times of the chosen and the int8 configs are measured on when the GPU does not decide. */
const GPU_TIMING_IMAGES = 500;

export function registerSearch(program: Command): void {
  searchOptions(
    program
      .command('search')
      .description('per-layer bitwidths within --max-loss points of float accuracy on the validation split, at the lowest size, bit-operations or GPU time; the test split reported')
      .argument('<model>', 'model file (.onnx or TF.js model.json)')
      .option('--max-loss <points>', 'accuracy the chosen config may lose against float on the validation split, in points', '1')
      .option('--confidence <z>', 'standard errors of the measured loss kept from the bound (0: trust the validation split as it is)', '1')
      .option('--objective <name>', `what to minimise: ${OBJECTIVES.join(', ')}`, 'bops')
      .option('--scheme <name>', 'scaled (affine activations, per-channel weights) or pow2 (Qm.n fixed point)', 'scaled')
      .option('--method <name>', `${SEARCH_METHODS.join(' (ours) or ')} (the layer-by-layer method of Layer-wise optimal fixed-point quantization)`, 'fast')
      .option('--backend <name>', 'what decides and evaluates the test split: cpu-golden or gpu', 'cpu-golden')
      .option('--bias-correction <kind>', 'none, or analytic (from the batch-norm statistics kept at import: every candidate gets it, no learning); empirical correction and AdaRound learn per config, which a search does not', 'none')
      .option('-o, --config <file>', 'write the chosen QuantConfig there (also in --out as config.json)'),
    { images: 8000, note: '; the search chooses on the first half and confirms on the second' },
  ).action(async (modelPath: string, opts: SearchCliOptions) => {
    const maxLoss = Number(opts.maxLoss);
    if (!(maxLoss >= 0 && maxLoss < 100)) throw new InputError(`--max-loss ${opts.maxLoss}: give points of accuracy in [0, 100)`);
    const confidence = Number(opts.confidence);
    if (!(confidence >= 0 && confidence <= 5)) throw new InputError(`--confidence ${opts.confidence}: give a number of standard errors in [0, 5]`);
    const objective = listOption<Objective>(opts.objective, OBJECTIVES, '--objective')[0]!;
    const scheme = listOption<'scaled' | 'pow2'>(opts.scheme, ['scaled', 'pow2'], '--scheme')[0]!;
    const method = listOption<SearchMethod>(opts.method, SEARCH_METHODS, '--method')[0]!;
    const backend = listOption<EvalBackend>(opts.backend, ['cpu-golden', 'gpu'], '--backend')[0]!;
    const biasCorrection = listOption<'none' | 'analytic'>(opts.biasCorrection, ['none', 'analytic'], '--bias-correction')[0]!;
    const ctx = await searchContext(modelPath, opts, backend === 'gpu' || objective === 'gpu-time');
    try {
      const t0 = performance.now();
      // Every candidate derives from the base: analytic bias correction there reaches each of them, and the chosen config.
      const base = biasCorrection === 'analytic' ? { ...SEARCH_BASE[scheme], biasCorrection } : SEARCH_BASE[scheme];
      const whole = await validationSet(ctx.data, ctx.plan, ctx.m);
      if (method === 'fast' && whole.labels.length < 2) throw new InputError(`${ctx.data}: ${whole.labels.length} validation image(s) after the ${opts.calibImages} calibration ones; the search needs some to choose on and some to confirm on`);
      // fast: chosen on the first half, confirmed on the second (see SearchOptions.confirm); sequential, as published, decides on the images it chose on.
      const [validation, confirmation] = method === 'fast' ? splitEvalSet(whole, Math.ceil(whole.labels.length / 2), ['validation', 'confirmation']) : [whole, undefined];
      const gpu = ctx.runner ? { gpu: ctx.runner } : {};
      const evaluator = await Evaluator.create(ctx.m.graph, ctx.stats, validation, { executor: opts.executor, onFallback: noteFallback, ...gpu });
      const confirm = confirmation ? await Evaluator.create(ctx.m.graph, ctx.stats, confirmation, { executor: opts.executor, onFallback: noteFallback, ...gpu }) : evaluator;
      // Per-layer GPU times by weight lanes: the gpu-time objective's costs, and the report's chart wherever a GPU is at hand.
      const times = ctx.runner ? await gpuLayerTimes(ctx.runner, evaluator, base) : undefined;
      const bars = new Map<string, ReturnType<typeof progressWithEta>>();
      let result;
      try {
        result = await search(evaluator, {
          method,
          objective,
          maxLoss: maxLoss / 100,
          confidence,
          base,
          decide: backend,
          ...(confirmation ? { confirm } : {}),
          ...(times ? { times } : {}),
          onProgress: (stage, done, total) => {
            let bar = bars.get(stage);
            if (!bar) {
              for (const b of bars.values()) b.stop();
              bars.set(stage, (bar = progressWithEta(`search ${stage}`, Boolean(opts.json))));
            }
            bar.update(done, total);
          },
        });
      } finally {
        for (const b of bars.values()) b.stop();
      }
      // Searched on the equalized model: the chosen config says so, so that eval and export equalize it too.
      if (ctx.m.graph.equalization) result = { ...result, chosen: { ...result.chosen, config: { ...result.chosen.config, equalize: true } } };
      // The test split, never seen by the search: the chosen config and int8 everywhere on the decider, and GPU time where a GPU is at hand.
      const test = await testSet(ctx.data, ctx.plan, ctx.m);
      const onTest = await Evaluator.create(ctx.m.graph, ctx.stats, test, { executor: opts.executor, onFallback: noteFallback, ...gpu });
      const chosenTest = await onTest.evaluate(result.chosen.config, backend);
      let timing: { chosen?: number; int8?: number } = {};
      let int8Test;
      if (ctx.runner) {
        const onGpu = backend === 'gpu' ? onTest : onTest.subset(GPU_TIMING_IMAGES);
        const [c, i] = [await onGpu.evaluate(result.chosen.config, 'gpu'), await onGpu.evaluate({ default: base }, 'gpu')];
        timing = { chosen: c.gpuMsPerImage!, int8: i.gpuMsPerImage! };
        int8Test = i;
      }
      const space = searchSpace(evaluator.quantize({ default: base }));
      const doc: ResultsDoc = {
        format: 'quantgpu-search-results',
        version: 1,
        command: 'search',
        model: modelPath,
        dataset: ctx.data,
        sets: {
          calibration: { split: 'train', start: 0, count: opts.calibImages },
          validation: { split: 'train', start: opts.calibImages, count: validation.labels.length },
          ...(confirmation ? { confirmation: { split: 'train' as const, start: opts.calibImages + validation.labels.length, count: confirmation.labels.length } } : {}),
          test: { split: 'test', start: 0, count: test.labels.length },
        },
        floatAccuracy: { validation: evaluator.float.accuracy, ...(confirmation ? { confirmation: confirm.float.accuracy } : {}), test: onTest.float.accuracy },
        environment: { ...ctx.environment, scheme },
        space,
        ...(result.sensitivity ? { sensitivity: { reference: withoutTiming(await evaluator.subset(500).evaluate({ default: base }, 'fake-quant-fast')), cells: result.sensitivity, ...(times ? { gpuMs: times } : {}) } } : {}),
        search: {
          method,
          objective,
          maxLoss: maxLoss / 100,
          chosen: {
            config: result.chosen.config,
            label: result.chosen.label,
            costVsInt8: result.chosen.costVsInt8,
            validation: withoutTiming(result.chosen.validation),
            test: withoutTiming(timing.chosen !== undefined ? { ...chosenTest, gpuMsPerImage: timing.chosen } : chosenTest),
            ...(int8Test ? { int8Test: withoutTiming(int8Test) } : {}),
          },
          trace: result.trace,
          evaluations: result.evaluations,
          imagesEvaluated: result.imagesEvaluated,
          seconds: result.seconds,
        },
      };
      writeResults(doc, opts.out);
      const configJson = quantConfigToJson({ ...result.chosen.config, name: `${method} search: ${result.chosen.label}` }) + '\n';
      if (opts.out) writeFileAtomic(join(opts.out, 'config.json'), configJson);
      if (opts.config) {
        mkdirSync(join(opts.config, '..'), { recursive: true });
        writeFileAtomic(opts.config, configJson);
      }
      const summary = {
        model: modelPath,
        method,
        objective,
        scheme,
        maxLoss: maxLoss / 100,
        label: result.chosen.label,
        config: result.chosen.config,
        accuracy: chosenTest.accuracy,
        floatAccuracy: onTest.float.accuracy,
        testImages: test.labels.length,
        validationAccuracy: result.chosen.validation.accuracy,
        validationFloatAccuracy: confirm.float.accuracy,
        validationImages: { chosenOn: validation.labels.length, judgedOn: confirm.set.labels.length },
        sizeVsInt8: result.chosen.validation.sizeVsInt8,
        bopsVsInt8: result.chosen.validation.bopsVsInt8,
        ...(timing.chosen !== undefined ? { gpuMsPerImage: timing.chosen, gpuMsVsInt8: timing.chosen / timing.int8! } : {}),
        evaluations: result.evaluations,
        imagesEvaluated: result.imagesEvaluated,
        seconds: (performance.now() - t0) / 1000,
      };
      if (opts.json) printJson(summary);
      else {
        const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
        const lines: Array<[string, string]> = [
          ['model', modelPath],
          ['search', `${method}, objective ${objective}, scheme ${scheme}, at most ${maxLoss} point lost on validation`],
          ['chosen', result.chosen.label],
          ['validation', `${pct(summary.validationAccuracy)} (float ${pct(summary.validationFloatAccuracy)}, ${result.chosen.validation.backend}, ${confirmation ? `on ${confirmation.labels.length} confirmation images; chosen on ${validation.labels.length} others` : `on the ${validation.labels.length} images it chose on`})`],
          ['test', `${pct(summary.accuracy)} (float ${pct(summary.floatAccuracy)}, ${summary.testImages} images, ${backend})`],
          ['size', `${pct(summary.sizeVsInt8)} of int8 everywhere`],
          ['bit-operations', `${pct(summary.bopsVsInt8)} of int8 everywhere`],
        ];
        if (summary.gpuMsVsInt8 !== undefined) lines.push(['GPU time', `${summary.gpuMsPerImage!.toFixed(3)} ms per image, ${pct(summary.gpuMsVsInt8)} of int8 everywhere`]);
        lines.push(['evaluations', `${summary.evaluations} (${summary.imagesEvaluated} images) in ${summary.seconds.toFixed(0)} s`]);
        process.stdout.write(lines.map(([k, v]) => `${k.padEnd(15)} ${v}`).join('\n') + '\n');
      }
    } finally {
      await ctx.runner?.close();
    }
  });
}

