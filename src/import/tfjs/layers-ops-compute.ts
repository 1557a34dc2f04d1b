import { ModelFormatError } from '../../errors.js';
import type { AutoPad } from '../../ir/layers.js';
import { withActivation } from './layers-activations.js';
import type { LayerConfig } from './layers-config.js';
import { image, only, rankOf, type LayerContext, type LayerConverter } from './layers-context.js';
import { convKernelToOihw, denseKernelToIr, depthwiseKernelToOihw, irAxis, isImageRank } from './nhwc.js';

/** Keras layers with weights or windows: convolutions, Dense, BatchNormalization, pools. */

type Window = { strides: [number, number]; dilations: [number, number]; pads: [number, number, number, number]; autoPad: AutoPad };

function convWindow(cfg: LayerConfig): Window {
  cfg.channelsLast();
  return { strides: cfg.pair('strides', [1, 1]), dilations: cfg.pair('dilation_rate', [1, 1]), pads: [0, 0, 0, 0], autoPad: cfg.padding() };
}

function bias(ctx: LayerContext, cfg: LayerConfig, units: number): string[] {
  if (!cfg.bool('use_bias', true)) return [];
  const w = ctx.weight(cfg.layer, 'bias', 1);
  if (w.data.length !== units) throw new ModelFormatError(`${cfg.where}: bias has ${w.data.length} values for ${units} outputs`);
  return [ctx.b.constant(`${cfg.layer.name}/bias`, [units], w.data)];
}

export function conv2d(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = image(ctx, cfg, inputs);
  const k = ctx.weight(cfg.layer, 'kernel', 4);
  const groups = cfg.number('groups', 1);
  const w = convKernelToOihw(k.data, k.shape);
  const wName = ctx.b.constant(`${cfg.layer.name}/kernel`, w.shape, w.data);
  return withActivation(ctx, cfg, out, (to) =>
    ctx.b.emit({ name: cfg.layer.name, op: 'conv', group: groups, ...convWindow(cfg), inputs: [x, wName, ...bias(ctx, cfg, w.shape[0]!)], outputs: [to] }),
  );
}

/** Depthwise part of DepthwiseConv2D and SeparableConv2D: a grouped conv with one group per input channel. */
function depthwise(ctx: LayerContext, cfg: LayerConfig, x: string, biasNames: string[], to: string, name: string): string {
  const k = ctx.weight(cfg.layer, 'depthwise_kernel', 4);
  const w = depthwiseKernelToOihw(k.data, k.shape);
  const wName = ctx.b.constant(`${cfg.layer.name}/depthwise_kernel`, w.shape, w.data);
  return ctx.b.emit({ name, op: 'conv', group: k.shape[2]!, ...convWindow(cfg), inputs: [x, wName, ...biasNames], outputs: [to] });
}

export function depthwiseConv2d(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = image(ctx, cfg, inputs);
  const k = ctx.weight(cfg.layer, 'depthwise_kernel', 4);
  return withActivation(ctx, cfg, out, (to) => depthwise(ctx, cfg, x, bias(ctx, cfg, k.shape[2]! * k.shape[3]!), to, cfg.layer.name));
}

export function separableConv2d(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = image(ctx, cfg, inputs);
  const dw = depthwise(ctx, cfg, x, [], `${out}/depthwise`, `${cfg.layer.name}/depthwise`);
  const p = ctx.weight(cfg.layer, 'pointwise_kernel', 4);
  const w = convKernelToOihw(p.data, p.shape);
  const wName = ctx.b.constant(`${cfg.layer.name}/pointwise_kernel`, w.shape, w.data);
  return withActivation(ctx, cfg, out, (to) =>
    ctx.b.emit({
      name: cfg.layer.name,
      op: 'conv',
      group: 1,
      strides: [1, 1],
      dilations: [1, 1],
      pads: [0, 0, 0, 0],
      autoPad: 'VALID',
      inputs: [dw, wName, ...bias(ctx, cfg, w.shape[0]!)],
      outputs: [to],
    }),
  );
}

export function dense(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x0 = only(cfg, inputs);
  const k = ctx.weight(cfg.layer, 'kernel', 2);
  const w = denseKernelToIr(k.data, k.shape);
  const wName = ctx.b.constant(`${cfg.layer.name}/kernel`, w.shape, w.data);
  const b = bias(ctx, cfg, w.shape[0]!);
  // Dense acts on the last TF axis, which an NCHW tensor does not hold last.
  const image4 = isImageRank(rankOf(ctx, x0));
  const x = ctx.b.toTfOrder(x0, cfg.layer.name);
  return withActivation(ctx, cfg, out, (to) => {
    const y = ctx.b.emit({ name: cfg.layer.name, op: 'dense', inputs: [x, wName, ...b], outputs: [image4 ? `${to}/nhwc` : to] });
    return image4 ? ctx.b.fromTfOrder(y, cfg.layer.name, to) : y;
  });
}

export function batchNorm(ctx: LayerContext, cfg: LayerConfig, inputs: string[], out: string): string {
  const x = only(cfg, inputs);
  const rank = rankOf(ctx, x);
  const rawAxis = cfg.layer.config.axis;
  const axis = Array.isArray(rawAxis) && rawAxis.length === 1 ? Number(rawAxis[0]) : cfg.number('axis', -1);
  // The IR normalises over axis 1: the channels of NCHW, or the features of a 2-D tensor.
  if (irAxis(axis, rank, cfg.where) !== 1) throw cfg.unsupported(`over axis ${axis} of a rank-${rank} tensor is not supported (channels only)`);
  const mean = ctx.weight(cfg.layer, 'moving_mean', 1);
  const c = mean.data.length;
  const param = (key: string, flag: string, fill: number): Float32Array => (cfg.bool(flag, true) ? ctx.weight(cfg.layer, key, 1).data : new Float32Array(c).fill(fill));
  const n = cfg.layer.name;
  const names = [
    ctx.b.constant(`${n}/gamma`, [c], param('gamma', 'scale', 1)),
    ctx.b.constant(`${n}/beta`, [c], param('beta', 'center', 0)),
    ctx.b.constant(`${n}/moving_mean`, [c], mean.data),
    ctx.b.constant(`${n}/moving_variance`, [c], ctx.weight(cfg.layer, 'moving_variance', 1).data),
  ];
  return ctx.b.emit({ name: n, op: 'batchNorm', epsilon: cfg.number('epsilon', 1e-3), inputs: [x, ...names], outputs: [out] });
}

export function pool(op: 'maxPool' | 'avgPool'): LayerConverter {
  return (ctx, cfg, inputs, out) => {
    const x = image(ctx, cfg, inputs);
    cfg.channelsLast();
    const kernel = cfg.pair('pool_size', [2, 2]);
    return ctx.b.emit({
      name: cfg.layer.name,
      op,
      kernel,
      strides: cfg.pair('strides', kernel),
      dilations: [1, 1],
      pads: [0, 0, 0, 0],
      autoPad: cfg.padding(),
      ceilMode: false,
      // TF averages over the window's pixels inside the image only.
      countIncludePad: false,
      inputs: [x],
      outputs: [out],
    });
  };
}

export function globalPool(op: 'globalAvgPool' | 'globalMaxPool'): LayerConverter {
  return (ctx, cfg, inputs, out) => {
    const x = image(ctx, cfg, inputs);
    cfg.channelsLast();
    // keepdims gives [N,1,1,C], held as [N,C,1,1]: what the IR pool makes. Without it TF drops the 1s.
    if (cfg.bool('keepdims', false)) return ctx.b.emit({ name: cfg.layer.name, op, inputs: [x], outputs: [out] });
    const p = ctx.b.emit({ name: cfg.layer.name, op, inputs: [x], outputs: [`${out}/keepdims`] });
    return ctx.b.emit({ name: `${cfg.layer.name}/squeeze`, op: 'flatten', axis: 1, inputs: [p], outputs: [out] });
  };
}
