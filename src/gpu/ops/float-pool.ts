/**
 * Float32 max, average and global pools on the GPU (shaders/fpool.wgsl), NCHW.
 * Golden: the CPU float executor's pool2d kernels.
 */
import { ShapeError } from '../../errors.js';
import type { GlobalPoolLayer, PoolLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { KernelSource } from '../pipeline-cache.js';
import { dispatch1d } from './dispatch.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface FloatPoolVariant {
  readonly kernel: 'fpool';
  readonly mode: 'max' | 'avg';
}

export const floatPoolKernel: KernelSource<FloatPoolVariant> = gridKernel(['fpool.wgsl'], 'main', (v) => ({ MODE: v.mode === 'max' ? 0 : 1 }));

export interface FloatPoolPlan extends KernelPlan<FloatPoolVariant> {
  readonly outShape: number[];
}

export function planFloatPool(layer: PoolLayer | GlobalPoolLayer, x: readonly number[], maxWorkgroups: number): FloatPoolPlan {
  if (x.length !== 4) throw new ShapeError(`${layer.op} '${layer.name}': input [${x.join(', ')}] is not NCHW`);
  const [n, c, h, w] = x as [number, number, number, number];
  const mode = layer.op === 'maxPool' || layer.op === 'globalMaxPool' ? 'max' : 'avg';
  let g = { oh: 1, ow: 1, kh: h, kw: w, sh: 1, sw: 1, dh: 1, dw: 1, pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0, count_include_pad: 0 };
  if (layer.op === 'maxPool' || layer.op === 'avgPool') {
    const [kh, kw] = layer.kernel;
    const [sh, sw] = layer.strides;
    const [dh, dw] = layer.dilations;
    const { padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, outH: oh, outW: ow } = resolveWindow2d(h, w, layer.kernel, layer, layer.ceilMode);
    g = { oh, ow, kh, kw, sh, sw, dh, dw, pad_top: pt, pad_left: pl, pad_bottom: pb, pad_right: pr, count_include_pad: layer.op === 'avgPool' && layer.countIncludePad ? 1 : 0 };
  }
  const invocations = n * c * g.oh * g.ow;
  return {
    variant: { kernel: 'fpool', mode },
    dispatch: dispatch1d(invocations, maxWorkgroups),
    uniforms: { params: { invocations, h, w, ...g } },
    buffers: { x: { role: 'input', tensor: layer.inputs[0]! }, y: { role: 'output', tensor: layer.outputs[0]!, bytes: invocations * 4 } },
    outShape: [n, c, g.oh, g.ow],
  };
}
