/**
 * Max, average and global pools on the GPU (shaders/pool.wgsl). Golden: the
 * float max pool on integers, intAvgPool and intGlobalAvgPool
 * (src/cpu/golden/int-pool.ts). Pools keep their input's parameters.
 */
import { ShapeError } from '../../errors.js';
import type { PoolLayer as PoolDescriptor } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import type { QParams } from '../../quant/qparams.js';
import type { QPoolLayer } from '../../quant/quantized-graph.js';
import type { KernelSource } from '../pipeline-cache.js';
import { laneOffset, packedWords, type ActShape, refuse } from '../../quant/lanes.js';
import { dispatch1d } from './dispatch.js';
import { gridWindow, windowPieces, withRanges, type BindingLimits } from './pieces.js';
import { gridKernel, type KernelPlan } from './kernel-plan.js';

export interface PoolVariant {
  readonly kernel: 'pool';
  readonly mode: 'max' | 'avg';
}

export const poolKernel: KernelSource<PoolVariant> = gridKernel(['lanes8.wgsl', 'pool.wgsl'], 'main', (v) => ({ MODE: v.mode === 'max' ? 0 : 1 }));

export interface PoolPlan extends KernelPlan<PoolVariant> {
  readonly outShape: ActShape;
}

/** Why the pool kernel cannot run the layer: dilated average pools (the golden model has none). */
export function poolProblems(layer: Pick<QPoolLayer, 'layer'>): string[] {
  const d = layer.layer;
  return d.op === 'avgPool' && (d.dilations[0] !== 1 || d.dilations[1] !== 1) ? [`dilations [${d.dilations.join(', ')}] on an average pool are not supported (the golden model has none)`] : [];
}

export function planPool(layer: QPoolLayer, p: QParams, s: ActShape, maxWorkgroups: number): PoolPlan {
  refuse(`${layer.kind} '${layer.name}'`, poolProblems(layer));
  const mode = layer.kind === 'maxPool' || layer.kind === 'globalMaxPool' ? 'max' : 'avg';
  let g = { oh: 1, ow: 1, kh: s.h, kw: s.w, sh: 1, sw: 1, dh: 1, dw: 1, pad_top: 0, pad_left: 0, pad_bottom: 0, pad_right: 0, count_include_pad: 0 };
  if (layer.kind === 'maxPool' || layer.kind === 'avgPool') {
    const d = layer.layer as PoolDescriptor;
    const [kh, kw] = d.kernel;
    const [sh, sw] = d.strides;
    const [dh, dw] = d.dilations;
    const { padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, outH: oh, outW: ow } = resolveWindow2d(s.h, s.w, d.kernel, d, d.ceilMode);
    if (!(oh > 0 && ow > 0)) throw new ShapeError(`${layer.kind} '${layer.name}': output ${oh} x ${ow} from input ${s.h} x ${s.w}`);
    g = { oh, ow, kh, kw, sh, sw, dh, dw, pad_top: pt, pad_left: pl, pad_bottom: pb, pad_right: pr, count_include_pad: d.countIncludePad ? 1 : 0 };
  }
  const outShape: ActShape = { n: s.n, c: s.c, h: g.oh, w: g.ow };
  const words = packedWords(outShape);
  return {
    variant: { kernel: 'pool', mode },
    dispatch: dispatch1d(words, maxWorkgroups),
    uniforms: { params: { words, c: s.c, h: s.h, w: s.w, ...g, off: laneOffset(p), zero_point: p.zeroPoint, first: 0, in_base: 0, out_base: 0 } },
    buffers: { x: { role: 'input', tensor: layer.inputs[0]! }, y: { role: 'output', tensor: layer.outputs[0]!, bytes: words * 4 } },
    outShape,
  };
}

/**
 * The pool in pieces of output positions where its input or output passes a
 * binding (pieces.ts, windowPieces: each piece binds the input rows its
 * windows read); the whole plan where they fit, or where not even one window
 * does (the builder refuses it, the limit named).
 */
export function poolPieces(plan: PoolPlan, s: ActShape, limits: BindingLimits, maxWorkgroups: number): PoolPlan[] {
  const c4 = Math.ceil(s.c / 4);
  const pieces = windowPieces(gridWindow(plan.uniforms['params'], s, c4, c4), limits);
  if (pieces === undefined) return [plan];
  return pieces.map((p) => {
    const words = (p.end - p.first) * c4;
    const params = { ...plan.uniforms['params'], words, first: p.first * c4, in_base: p.input.base, out_base: p.output.base };
    return withRanges({ ...plan, dispatch: dispatch1d(words, maxWorkgroups), uniforms: { params } }, { x: p.input.range, y: p.output.range });
  });
}
