import { ModelFormatError } from '../../errors.js';
import type { GraphBuilder } from './builder.js';
import type { LayerConfig } from './layers-config.js';
import type { KerasLayer } from './layers-topology.js';
import { isImageRank } from './nhwc.js';
import type { WeightTensor } from './weights.js';

/** What a converter may use: the graph so far and the layer's weights. */
export interface LayerContext {
  b: GraphBuilder;
  /** The weight `<layer>/<name>`; a missing one is a ModelFormatError naming both. */
  weight(layer: KerasLayer, name: string, rank?: number): WeightTensor;
}

/** Convert one call of a Keras layer: `inputs` are IR tensors, `out` the name for the result; returns the IR tensor made. */
export type LayerConverter = (ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string) => string;

export function rankOf(ctx: LayerContext, ir: string): number {
  return ctx.b.shape(ir).length;
}

export function only(cfg: LayerConfig, inputs: string[]): string {
  if (inputs.length !== 1) throw new ModelFormatError(`${cfg.where} takes one input, is given ${inputs.length}`);
  return inputs[0]!;
}

export function image(ctx: LayerContext, cfg: LayerConfig, inputs: string[]): string {
  const x = only(cfg, inputs);
  if (!isImageRank(rankOf(ctx, x))) throw cfg.unsupported(`needs a 4-D (NHWC) input, got rank ${rankOf(ctx, x)}`);
  return x;
}
