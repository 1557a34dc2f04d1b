/**
 * What a config asks of the page beyond its plain calibration: statistics of
 * the cross-layer equalized graph (`equalize`) and a refinement (AdaRound
 * rounding, empirical bias correction). Each is made on the calibration
 * images the first time a config needs it and kept until the next
 * calibration, so a second run of the same config does not learn again.
 */
import type { Tensor } from '../../src/cpu/tensor.js';
import type { Graph } from '../../src/ir/graph.js';
import type { TensorStats } from '../../src/quant/calibration/tensor-stats.js';
import type { QuantConfig } from '../../src/quant/config.js';
import { calibrate } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { refine } from '../../src/quant/refine/refine.js';
import { layersToLearn, type Refinement } from '../../src/quant/refine/refinement.js';
import { eta } from '../../src/util/duration.js';

/** What was made for the current calibration. */
export interface Learned {
  equalized?: Map<string, TensorStats>;
  /** By the config's JSON. */
  refinements: Map<string, Refinement>;
}

export const nothingLearned = (): Learned => ({ refinements: new Map() });

/**
 * The statistics and refinement `quantize` needs for `config`: the plain
 * statistics, or the equalized ones; a refinement where a layer asks for
 * learning. `images` streams the calibration images again; `say` reports
 * progress (a line, and the work done of the total where known).
 */
export async function forConfig(
  graph: Graph,
  config: QuantConfig,
  plain: Map<string, TensorStats>,
  learned: Learned,
  images: () => AsyncIterable<Tensor>,
  say: (text: string, done?: number, total?: number) => void,
): Promise<{ stats: Map<string, TensorStats>; refinement?: Refinement }> {
  let stats = plain;
  if (config.equalize === true) {
    if (learned.equalized === undefined) {
      say('calibrating the cross-layer equalized model (the config asks for equalize)…');
      learned.equalized = await calibrate(graph, images(), { equalize: true });
    }
    stats = learned.equalized;
  }
  if (layersToLearn(prepareForQuantization(graph), config).length === 0) return { stats };
  const key = JSON.stringify(config);
  let refinement = learned.refinements.get(key);
  if (refinement === undefined) {
    const t0 = performance.now();
    refinement = await refine(graph, stats, config, images(), {
      onProgress: (p) => {
        const left = eta((performance.now() - t0) / 1000, p.done, p.total);
        say(`learning AdaRound rounding and bias corrections on the calibration images: layer ${p.index + 1}/${p.layers}, ETA ${left}`, p.done, p.total);
      },
    });
    learned.refinements.set(key, refinement);
  }
  return { stats, refinement };
}
