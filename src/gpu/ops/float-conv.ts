/**
 * Float32 convolution and dense layers on the GPU (shaders/fconv.wgsl), NCHW.
 * Golden: the CPU float executor's conv2d and gemm (src/cpu/run-layer.ts).
 */
import { ShapeError } from '../../errors.js';
import type { ConvLayer, DenseLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { KernelSource } from '../pipeline-cache.js';
import { activationCode } from './float-activation.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';
import { numel } from '../../ir/shape.js';

export interface FloatConvVariant {
  readonly kernel: 'fconv';
  /** The fused activation's ACT code (float-activation.ts). */
  readonly act: number;
  /** Columns of a tile are 4 images (1x1 outputs) rather than 4 neighbouring outputs of a row. */
  readonly batchColumns: boolean;
  /** Output channels per invocation: 4 where a block of 4 shares its group, else 1. */
  readonly chBlock: 1 | 4;
  /** A 1x1 window at stride 1 without padding over spatial columns: no tap loops, no padding tests. */
  readonly pointwise: boolean;
}

export const floatConvKernel: KernelSource<FloatConvVariant> = gridKernel(['activation_f32.wgsl', 'fconv.wgsl'], 'main', (v) => ({
  ACT: v.act,
  BATCH_COLUMNS: v.batchColumns ? 1 : 0,
  CH_BLOCK: v.chBlock,
  POINTWISE: v.pointwise ? 1 : 0,
}));

export interface FloatTensorData {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface FloatConvPlan extends KernelPlan<FloatConvVariant> {
  readonly outShape: number[];
}

/** `x` is the input's shape (NCHW, or [..., K] for a dense layer); `w` and `b` the layer's constant weights and bias. */
export function planFloatConv(layer: ConvLayer | DenseLayer, x: readonly number[], w: FloatTensorData, b: FloatTensorData | undefined, maxWorkgroups: number): FloatConvPlan {
  const where = `${layer.op} '${layer.name}'`;
  const dense = layer.op === 'dense';
  let n: number, cIn: number, h: number, wd: number;
  if (dense) {
    cIn = x[x.length - 1]!;
    n = numel(x.slice(0, -1));
    [h, wd] = [1, 1];
  } else {
    if (x.length !== 4) throw new ShapeError(`${where}: input [${x.join(', ')}] is not NCHW`);
    [n, cIn, h, wd] = x as [number, number, number, number];
  }
  const m = w.shape[0]!;
  const [cg, kh, kw] = dense ? [w.shape[1]!, 1, 1] : [w.shape[1]!, w.shape[2]!, w.shape[3]!];
  const group = dense ? 1 : layer.group;
  if (cg * group !== cIn || m % group !== 0) throw new ShapeError(`${where}: weights [${w.shape.join(', ')}] with ${group} group(s) do not fit an input of ${cIn} channels`);
  const [sh, sw] = dense ? [1, 1] : layer.strides;
  const [dh, dw] = dense ? [1, 1] : layer.dilations;
  let g = { oh: 1, ow: 1, pad_top: 0, pad_left: 0 };
  if (!dense) {
    const r = resolveWindow2d(h, wd, [kh, kw], layer);
    g = { oh: r.outH, ow: r.outW, pad_top: r.padTop, pad_left: r.padLeft };
  }
  const act = activationCode(layer.activation);
  const mg = m / group;
  const batchColumns = g.oh * g.ow === 1;
  const chBlock = group === 1 || mg % 4 === 0 ? 4 : 1;
  const pointwise = !batchColumns && kh === 1 && kw === 1 && sh === 1 && sw === 1 && g.pad_top === 0 && g.pad_left === 0 && g.oh === h && g.ow === wd;
  const colBlocks = Math.ceil((batchColumns ? n : g.ow) / 4);
  const invocations = colBlocks * Math.ceil(m / chBlock) * g.oh * (batchColumns ? g.ow : n);
  const outShape = dense ? [...x.slice(0, -1), m] : [n, m, g.oh, g.ow];
  return {
    variant: { kernel: 'fconv', act: act.act, batchColumns, chBlock, pointwise },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: {
      params: { invocations, n, c_in: cIn, h, w: wd, c_out: m, ...g, cg, mg, kh, kw, sh, sw, dh, dw, has_bias: b ? 1 : 0, act_a: act.act_a, act_b: act.act_b },
    },
    buffers: {
      x: { role: 'input', tensor: layer.inputs[0]! },
      weights: { role: 'constant', data: w.data },
      // A binding cannot be empty: a layer without bias binds one unread zero.
      bias: { role: 'constant', data: b ? b.data : new Float32Array(1) },
      y: { role: 'output', tensor: layer.outputs[0]!, bytes: numel(outShape) * 4 },
    },
    outShape,
  };
}
