import { InputError } from '../errors.js';
import type { ExecutorChoice } from '../executor/executor.js';
import { readModelCard } from '../model/model-card.js';
import type { TensorStats } from '../quant/calibration/tensor-stats.js';
import type { QuantConfig } from '../quant/config.js';
import { prepareForQuantization } from '../quant/prepare.js';
import { refine, type RefineOptions } from '../quant/refine/refine.js';
import { layersToLearn, type Refinement } from '../quant/refine/refinement.js';
import { readRefinementFile, setupModel, trainingBatches, type ModelSetup } from './model-setup.js';
import type { ModelOptions } from './options.js';
import { progressBar } from './progress.js';
import { eta } from '../util/duration.js';

/**
 * Learn a refinement on the first `images` training images of `data`, with a
 * progress bar on stderr: percent of the estimated work, the layer, and an
 * ETA from the rate so far.
 */
export async function learnRefinement(
  m: ModelSetup,
  stats: ReadonlyMap<string, TensorStats>,
  config: QuantConfig,
  o: { data: string; images: number; json?: boolean } & Omit<RefineOptions, 'onProgress'>,
): Promise<Refinement> {
  const bar = progressBar('refine', Boolean(o.json));
  const t0 = performance.now();
  try {
    const { batches } = await trainingBatches(m, o.data, o.images);
    return await refine(m.graph, stats, config, batches, {
      ...o,
      onProgress: (p) => {
        const left = eta((performance.now() - t0) / 1000, p.done, p.total);
        bar.update(Math.round((100 * p.done) / p.total), 100, `% layer ${p.index + 1}/${p.layers} ETA ${left}`);
      },
    });
  } finally {
    bar.stop();
  }
}

/**
 * The refinement a quantizing command uses: the `--refinement` file, or,
 * where the config asks for learning and none is given, one learned now on
 * the calibration images (`images` of `data`'s training split).
 */
export async function refinementFor(
  m: ModelSetup,
  stats: ReadonlyMap<string, TensorStats>,
  config: QuantConfig,
  o: { refinement?: string; data?: string; images: number; json?: boolean },
): Promise<Refinement | undefined> {
  if (o.refinement !== undefined) return readRefinementFile(o.refinement).refinement;
  if (layersToLearn(prepareForQuantization(m.graph), config).length === 0) return undefined;
  if (o.data === undefined) throw new InputError(`config '${config.name ?? 'custom'}' asks for AdaRound or empirical bias correction: give --refinement (from quantgpu refine) or --data to learn now`);
  process.stderr.write(`note: config '${config.name ?? 'custom'}' learns AdaRound rounding and bias corrections first (--refinement FILE from quantgpu refine skips this)\n`);
  return learnRefinement(m, stats, config, { ...o, data: o.data });
}

/** `refinementFor` for a command that loads the model itself (`run`, `export`): the data defaults to the model card's dataset. */
export async function refinementForModelFile(
  path: string,
  stats: ReadonlyMap<string, TensorStats>,
  config: QuantConfig,
  o: ModelOptions & { refinement?: string; data?: string; calibImages: number; json?: boolean; executor?: ExecutorChoice },
): Promise<Refinement | undefined> {
  if (o.refinement !== undefined) return readRefinementFile(o.refinement).refinement;
  const data = o.data ?? readModelCard(path)?.dataset;
  return refinementFor(setupModel(path, o), stats, config, { ...o, ...(data === undefined ? {} : { data }), images: o.calibImages });
}
