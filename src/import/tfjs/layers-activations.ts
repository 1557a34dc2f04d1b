import type { Activation } from '../../ir/layers.js';
import type { LayerConfig } from './layers-config.js';
import { only, rankOf, type LayerContext, type LayerConverter } from './layers-context.js';
import { irAxis } from './nhwc.js';

/** Keras activations: the `activation` of Conv2D and Dense, and the activation layers. */

/** Keras activation functions (by their serialised names), as TF.js defines them. */
export function kerasActivation(ctx: LayerContext, cfg: LayerConfig, fnName: string, x: string, out: string): string {
  const b = ctx.b;
  const name = cfg.layer.name;
  const act = (fn: Activation): string => b.activation(x, fn, `${name}/${fnName}`, out);
  switch (fnName) {
    case 'linear':
      return x;
    case 'relu':
      return act({ kind: 'relu' });
    case 'relu6':
      return act({ kind: 'clip', min: 0, max: 6 });
    case 'sigmoid':
      return act({ kind: 'sigmoid' });
    case 'hard_sigmoid':
      // TF.js (and Keras 2): clip(0.2 x + 0.5, 0, 1).
      return act({ kind: 'hardSigmoid', alpha: 0.2, beta: 0.5 });
    case 'softmax':
      return b.emit({ name: `${name}/softmax`, op: 'softmax', axis: irAxis(-1, rankOf(ctx, x), cfg.where), coerce2d: false, inputs: [x], outputs: [out] });
    case 'swish':
    case 'silu': {
      const s = b.activation(x, { kind: 'sigmoid' }, `${name}/swish_sigmoid`);
      return b.emit({ name: `${name}/swish`, op: 'mul', inputs: [x, s], outputs: [out] });
    }
    default:
      throw cfg.unsupported(`with activation '${fnName}' is not supported`);
  }
}

/** The layer's own op, then its `activation` (the op's output gets `out` when there is none). */
export function withActivation(ctx: LayerContext, cfg: LayerConfig, out: string, body: (to: string) => string): string {
  const fn = cfg.activationName();
  if (fn === 'linear') return body(out);
  return kerasActivation(ctx, cfg, fn, body(`${out}/linear`), out);
}

export function relu(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = only(cfg, inputs);
  const threshold = cfg.number('threshold', 0);
  const slope = cfg.number('negative_slope', 0);
  const max = cfg.has('max_value') ? cfg.number('max_value') : Infinity;
  if (threshold !== 0) throw cfg.unsupported(`with threshold ${threshold} is not supported`);
  if (slope !== 0 && max !== Infinity) throw cfg.unsupported('with both negative_slope and max_value is not supported');
  const fn: Activation = slope !== 0 ? { kind: 'leakyRelu', alpha: slope } : max === Infinity ? { kind: 'relu' } : { kind: 'clip', min: 0, max };
  return ctx.b.activation(x, fn, cfg.layer.name, out);
}

export const leakyRelu: LayerConverter = (ctx, cfg, inputs, out) =>
  // Keras 2 calls the slope alpha, Keras 3 negative_slope.
  ctx.b.activation(only(cfg, inputs), { kind: 'leakyRelu', alpha: cfg.number('alpha', cfg.number('negative_slope', 0.3)) }, cfg.layer.name, out);

export const activationLayer: LayerConverter = (ctx, cfg, inputs, out) => {
  const x = only(cfg, inputs);
  const fn = cfg.activationName();
  return fn === 'linear' ? x : kerasActivation(ctx, cfg, fn, x, out);
};

export const softmaxLayer: LayerConverter = (ctx, cfg, inputs, out) => {
  const x = only(cfg, inputs);
  return ctx.b.emit({ name: cfg.layer.name, op: 'softmax', axis: irAxis(cfg.number('axis', -1), rankOf(ctx, x), cfg.where), coerce2d: false, inputs: [x], outputs: [out] });
};
