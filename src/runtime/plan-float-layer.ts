/**
 * The steps of one float32 layer (a whole float graph, or a "float" island of
 * a quantized one): tensors NCHW, keys in the `f:` domain. Layers that only
 * rename or reshape (identity, flatten, reshape, squeeze, unsqueeze) cost no
 * step: their output is an alias of their input's words.
 */
import { GpuUnsupportedError } from '../errors.js';
import type { Constant } from '../ir/graph.js';
import { inferLayerShapes } from '../ir/infer-shapes.js';
import type { Layer } from '../ir/layers.js';
import { planFloatConcat, floatCopyKernel } from '../gpu/ops/float-concat.js';
import { floatConvKernel, planFloatConv } from '../gpu/ops/float-conv.js';
import { floatBinaryKernel, planFloatBinary } from '../gpu/ops/float-elementwise.js';
import { floatPoolKernel, planFloatPool } from '../gpu/ops/float-pool.js';
import { floatSoftmaxKernel, planFloatSoftmax } from '../gpu/ops/float-softmax.js';
import { floatPermuteKernel, planFloatPermute, transposeMap } from '../gpu/ops/permute.js';
import type { KernelSource, KernelVariant } from '../gpu/pipeline-cache.js';
import type { SmallPlan } from '../gpu/ops/small-plan.js';
import { keyed, type Step } from './steps.js';
import { numel } from '../ir/shape.js';

export interface FloatLayerPlan {
  readonly steps: Step[];
  readonly outShape: number[];
  /** Set where the layer is an alias: the output shares its input's words. */
  readonly alias?: true;
}

const ALIASES = new Set(['identity', 'flatten', 'reshape', 'squeeze', 'unsqueeze']);

/** `shapes` are the shapes of the layer's inputs (constants included); `constant` finds a constant by name. */
export function planFloatLayer(layer: Layer, shapes: readonly (readonly number[])[], constant: (name: string) => Constant | undefined, maxWorkgroups: number, bindings?: ReadonlyMap<string, number>): FloatLayerPlan {
  const step = <V extends KernelVariant>(kernel: KernelSource<V>, plan: SmallPlan<V>, macs = 0): Step => ({
    layer: layer.name,
    op: layer.op,
    kernel: kernel as unknown as KernelSource<KernelVariant>,
    plan: keyed(plan, 'f', 'f'),
    macs,
    bits: 'f32',
  });
  if (ALIASES.has(layer.op)) {
    const out = inferLayerShapes(layer, shapes, bindings) as number[][];
    return { steps: [], outShape: out[0]!, alias: true };
  }
  switch (layer.op) {
    case 'conv':
    case 'dense': {
      const w = constant(layer.inputs[1]!);
      const b = layer.inputs[2] !== undefined ? constant(layer.inputs[2]) : undefined;
      if (w === undefined || (layer.inputs[2] !== undefined && b === undefined)) {
        throw new GpuUnsupportedError(`${layer.op} '${layer.name}': weights or bias computed at run time; the GPU kernels take constant ones`);
      }
      const plan = planFloatConv(layer, shapes[0]!, w, b, maxWorkgroups);
      const outElements = numel(plan.outShape);
      const macs = outElements * w.data.length / w.shape[0]!;
      return { steps: [step(floatConvKernel, plan, macs)], outShape: plan.outShape };
    }
    case 'add':
    case 'sub':
    case 'mul':
    case 'div': {
      const plan = planFloatBinary(layer, shapes[0]!, shapes[1]!, maxWorkgroups);
      return { steps: [step(floatBinaryKernel, plan)], outShape: plan.outShape };
    }
    case 'activation': {
      const plan = planFloatBinary(layer, shapes[0]!, undefined, maxWorkgroups);
      return { steps: [step(floatBinaryKernel, plan)], outShape: plan.outShape };
    }
    case 'maxPool':
    case 'avgPool':
    case 'globalAvgPool':
    case 'globalMaxPool': {
      const plan = planFloatPool(layer, shapes[0]!, maxWorkgroups);
      return { steps: [step(floatPoolKernel, plan)], outShape: plan.outShape };
    }
    case 'concat': {
      const plan = planFloatConcat(layer, shapes, maxWorkgroups);
      return { steps: plan.copies.map((c) => step(floatCopyKernel, c)), outShape: plan.outShape };
    }
    case 'transpose': {
      const out = inferLayerShapes(layer, shapes, bindings) as number[][];
      const plan = planFloatPermute(layer.inputs[0]!, layer.outputs[0]!, out[0]!, transposeMap(shapes[0]!, layer.perm, `transpose '${layer.name}'`), maxWorkgroups);
      return { steps: [step(floatPermuteKernel, plan)], outShape: out[0]! };
    }
    case 'softmax': {
      const plan = planFloatSoftmax(layer, shapes[0]!, maxWorkgroups);
      return { steps: [step(floatSoftmaxKernel, plan)], outShape: plan.outShape };
    }
    default:
      throw new GpuUnsupportedError(`layer '${layer.name}': ${layer.op} has no float32 GPU kernel (supported: conv, dense, add, sub, mul, div, activations, pools, concat, softmax, transpose, and the reshaping layers)`);
  }
}
