import { ModelFormatError } from '../../errors.js';
import type { LayerConfig } from './layers-config.js';
import { image, only, rankOf, type LayerContext, type LayerConverter } from './layers-context.js';
import { broadcastConstantToIr, irAxis, irPerm, isImageRank } from './nhwc.js';

/** Keras layers that combine, pad, reshape or reorder tensors, where TF's NHWC order has to be honoured. */

/** Add, Subtract, Multiply: one binary layer per extra input, left to right. */
export function merge(op: 'add' | 'sub' | 'mul'): LayerConverter {
  return (ctx, cfg, inputs, out) => {
    if (inputs.length < 2 || (op === 'sub' && inputs.length !== 2)) throw new ModelFormatError(`${cfg.where} is given ${inputs.length} inputs`);
    sameRank(ctx, cfg, inputs);
    let acc = inputs[0]!;
    inputs.slice(1).forEach((y, i) => {
      const last = i === inputs.length - 2;
      acc = ctx.b.emit({ name: last ? cfg.layer.name : `${cfg.layer.name}/${i}`, op, inputs: [acc, y], outputs: [last ? out : `${out}/${i}`] });
    });
    return acc;
  };
}

/** Keras merges broadcast only among tensors of one rank here, so that their IR layouts agree. */
function sameRank(ctx: LayerContext, cfg: LayerConfig, inputs: string[]): void {
  const ranks = new Set(inputs.map((i) => rankOf(ctx, i)));
  if (ranks.size > 1) throw cfg.unsupported(`on inputs of different ranks (${[...ranks].join(', ')}) is not supported`);
}

export function average(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const sum = merge('add')(ctx, cfg, inputs, `${out}/sum`);
  const k = ctx.b.constant(`${cfg.layer.name}/1_over_n`, [], Float32Array.of(1 / inputs.length));
  return ctx.b.emit({ name: `${cfg.layer.name}/mean`, op: 'mul', inputs: [sum, k], outputs: [out] });
}

export function concatenate(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  sameRank(ctx, cfg, inputs);
  const axis = irAxis(cfg.number('axis', -1), rankOf(ctx, inputs[0]!), cfg.where);
  return ctx.b.emit({ name: cfg.layer.name, op: 'concat', axis, inputs, outputs: [out] });
}

/** ZeroPadding2D (sign 1) and Cropping2D (sign -1): IR pads, where negative values crop. */
export function padOrCrop(sign: 1 | -1): LayerConverter {
  return (ctx, cfg, inputs, out) => {
    const x = image(ctx, cfg, inputs);
    cfg.channelsLast();
    const [[t, bt], [l, r]] = cfg.pairOfPairs(sign > 0 ? 'padding' : 'cropping');
    // IR pads (NCHW): all begins, then all ends.
    const pads = [0, 0, t, l, 0, 0, bt, r].map((p) => sign * p);
    return ctx.b.emit({ name: cfg.layer.name, op: 'pad', pads, mode: 'constant', value: 0, inputs: [x], outputs: [out] });
  };
}

export function flatten(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = ctx.b.toTfOrder(only(cfg, inputs), cfg.layer.name);
  return ctx.b.emit({ name: cfg.layer.name, op: 'flatten', axis: 1, inputs: [x], outputs: [out] });
}

export function reshape(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const target = cfg.layer.config.target_shape;
  if (!Array.isArray(target)) throw new ModelFormatError(`${cfg.where}: config has no target_shape`);
  const shape = [0, ...target.map((d) => (d === null ? -1 : Number(d)))];
  const x = ctx.b.toTfOrder(only(cfg, inputs), cfg.layer.name);
  const y = ctx.b.emit({ name: cfg.layer.name, op: 'reshape', shape, allowZero: false, inputs: [x], outputs: [isImageRank(shape.length) ? `${out}/nhwc` : out] });
  return ctx.b.fromTfOrder(y, cfg.layer.name, out);
}

export function permuteLayer(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const dims = cfg.layer.config.dims;
  if (!Array.isArray(dims)) throw new ModelFormatError(`${cfg.where}: config has no dims`);
  // Keras numbers the axes after the batch from 1.
  const perm = irPerm([0, ...dims.map(Number)]);
  return ctx.b.emit({ name: cfg.layer.name, op: 'transpose', perm, inputs: [only(cfg, inputs)], outputs: [out] });
}

export function upSampling(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = image(ctx, cfg, inputs);
  cfg.channelsLast();
  const mode = cfg.string('interpolation', 'nearest');
  if (mode !== 'nearest') throw cfg.unsupported(`with interpolation '${mode}' is not supported (nearest only)`);
  const [sh, sw] = cfg.pair('size', [2, 2]);
  // TF.js resizes without aligned corners or half-pixel centres: source = floor(dst / scale).
  return ctx.b.emit({ name: cfg.layer.name, op: 'resize', scales: [1, 1, sh, sw], coordinateMode: 'asymmetric', nearestMode: 'floor', inputs: [x], outputs: [out] });
}

/** x * scale + offset; a list gives one value per channel (the last TF axis). */
export function rescaling(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = only(cfg, inputs);
  const rank = rankOf(ctx, x);
  const operand = (key: string, fallback: number): string => {
    const v = cfg.numbers(key, fallback);
    const c = broadcastConstantToIr(Float32Array.from(v), v.length === 1 ? [] : [v.length], rank);
    return ctx.b.constant(`${cfg.layer.name}/${key}`, c.shape, c.data);
  };
  const scaled = ctx.b.emit({ name: `${cfg.layer.name}/scale`, op: 'mul', inputs: [x, operand('scale', 1)], outputs: [`${out}/scaled`] });
  return ctx.b.emit({ name: cfg.layer.name, op: 'add', inputs: [scaled, operand('offset', 0)], outputs: [out] });
}

export const passThrough: LayerConverter = (_ctx, cfg, inputs) => only(cfg, inputs);
