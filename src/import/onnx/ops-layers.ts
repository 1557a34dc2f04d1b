import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import type { Activation, AutoPad, Layer } from '../../ir/layers.js';
import type { Dim } from '../../ir/shape.js';
import type { ImportContext, NodeInfo } from './context.js';

type Converter = (ctx: ImportContext, node: NodeInfo) => Layer | 'alias';

const unsupported = (node: NodeInfo, detail: string): UnsupportedOperatorError =>
  new UnsupportedOperatorError(node.name, node.opType, detail);

function base(node: NodeInfo, inputs = node.inputs.filter((n) => n !== '')): { name: string; inputs: string[]; outputs: string[] } {
  return { name: node.name, inputs, outputs: [node.outputs[0]!] };
}

/** Only the first output of a node may be used (MaxPool indices, Dropout masks, BatchNorm running stats). */
function firstOutputOnly(node: NodeInfo): void {
  if (node.outputs.slice(1).some((o) => o !== '')) {
    throw unsupported(node, `with its optional outputs (${node.outputs.slice(1).filter(Boolean).join(', ')}) is not supported`);
  }
}

function autoPad(node: NodeInfo): AutoPad {
  const a = node.attrs.string('auto_pad', 'NOTSET');
  if (a !== 'NOTSET' && a !== 'SAME_UPPER' && a !== 'SAME_LOWER' && a !== 'VALID') throw unsupported(node, `auto_pad '${a}' is unknown`);
  return a;
}

/** Attributes shared by Conv, ConvTranspose and the pools, checked to be 2-D. */
function window2d(node: NodeInfo, kernelFromWeight?: number[]): {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  autoPad: AutoPad;
} {
  const kernel = node.attrs.ints('kernel_shape') ?? kernelFromWeight;
  if (!kernel) throw new ModelFormatError(`node '${node.name}' (${node.opType}) has no kernel_shape`);
  if (kernel.length !== 2) throw unsupported(node, `is supported in 2-D only (this one has a ${kernel.length}-D kernel)`);
  const two = (name: string, fallback: number): [number, number] => {
    const v = node.attrs.ints(name) ?? [fallback, fallback];
    if (v.length !== 2) throw new ModelFormatError(`node '${node.name}': '${name}' has ${v.length} values for a 2-D window`);
    return [v[0]!, v[1]!];
  };
  const pads = node.attrs.ints('pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4) throw new ModelFormatError(`node '${node.name}': 'pads' has ${pads.length} values for a 2-D window`);
  const w = { kernel: [kernel[0]!, kernel[1]!] as [number, number], strides: two('strides', 1), dilations: two('dilations', 1), pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!] as [number, number, number, number], autoPad: autoPad(node) };
  if ([...w.strides, ...w.dilations, ...w.kernel].some((v) => v < 1)) throw new ModelFormatError(`node '${node.name}': kernel, strides and dilations must be positive`);
  if (w.pads.some((p) => p < 0)) throw new ModelFormatError(`node '${node.name}': negative pads`);
  return w;
}

function weightDims(ctx: ImportContext, node: NodeInfo): number[] {
  const w = ctx.required(node, 1);
  const s = ctx.shapeOf(w);
  if (s.length !== 4) throw unsupported(node, `is supported in 2-D only (weight of rank ${s.length})`);
  if (!s.every((d) => typeof d === 'number')) throw unsupported(node, 'needs a weight of known shape');
  return s as number[];
}

function activation(node: NodeInfo, fn: Activation): Layer {
  return { ...base(node, [node.inputs[0]!]), op: 'activation', fn };
}

/** Clip bounds: attributes before opset 11, optional inputs after. */
function clipBounds(ctx: ImportContext, node: NodeInfo): [number, number] {
  if (node.opset < 11) return [node.attrs.float('min', -Infinity), node.attrs.float('max', Infinity)];
  const bound = (i: number, fallback: number): number => {
    const v = ctx.input(node, i);
    if (!v) return fallback;
    if (v.kind === 'tensor') throw unsupported(node, `needs constant bounds ('${node.inputs[i]}' is computed at run time)`);
    const x = v.data[0];
    if (typeof x !== 'number') throw unsupported(node, 'needs numeric bounds');
    return x;
  };
  return [bound(1, -Infinity), bound(2, Infinity)];
}

export const layerConverters: Record<string, Converter> = {
  Conv(ctx, node) {
    const w = weightDims(ctx, node);
    const win = window2d(node, w.slice(2));
    if (win.kernel[0] !== w[2] || win.kernel[1] !== w[3]) throw new ModelFormatError(`node '${node.name}': kernel_shape [${win.kernel}] differs from the weight [${w}]`);
    const { kernel: _k, ...rest } = win;
    return { ...base(node), op: 'conv', group: node.attrs.int('group', 1), ...rest };
  },
  ConvTranspose(ctx, node) {
    const w = weightDims(ctx, node);
    const { kernel: _k, ...rest } = window2d(node, w.slice(2));
    const op = node.attrs.ints('output_padding') ?? [0, 0];
    const os = node.attrs.ints('output_shape');
    if (op.length !== 2 || (os && os.length !== 2)) throw unsupported(node, 'is supported in 2-D only');
    const layer: Layer = { ...base(node), op: 'convTranspose', group: node.attrs.int('group', 1), outputPadding: [op[0]!, op[1]!], ...rest };
    if (os) {
      // ONNX derives the pads from output_shape; SAME_UPPER puts the odd one at the end, the default at the start.
      const x = ctx.shapeOf(ctx.required(node, 0));
      const pads = rest.pads;
      for (let i = 0; i < 2; i++) {
        const inDim = x[2 + i];
        if (typeof inDim !== 'number') throw unsupported(node, 'with output_shape needs known input sizes');
        const total = rest.strides[i]! * (inDim - 1) + layer.outputPadding[i]! + (w[2 + i]! - 1) * rest.dilations[i]! + 1 - os[i]!;
        if (total < 0) {
          // A requested output larger than the full transposed window: the extra rows/columns hold only the bias.
          layer.outputPadding[i]! -= total;
          pads[i] = 0;
          pads[i + 2] = 0;
          continue;
        }
        const small = Math.floor(total / 2);
        const [b, e] = rest.autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
        pads[i] = b;
        pads[i + 2] = e;
      }
      layer.autoPad = 'NOTSET';
      layer.outputShape = [os[0]!, os[1]!];
    }
    return layer;
  },
  Gemm(ctx, node) {
    const transA = node.attrs.int('transA', 0) !== 0;
    const transB = node.attrs.int('transB', 0) !== 0;
    const alpha = node.attrs.float('alpha', 1);
    const beta = node.attrs.float('beta', 1);
    const b = ctx.required(node, 1);
    // The common case is a fully connected layer: constant B, no transposed A, unit scales.
    if (!transA && b.kind === 'float' && alpha === 1 && beta === 1 && b.dims.length === 2) {
      const c = ctx.input(node, 2);
      const units = transB ? b.dims[0]! : b.dims[1]!;
      if (!c || (c.kind === 'float' && c.data.length === units)) {
        const wName = transB ? node.inputs[1]! : transposedConstant(ctx, node.inputs[1]!, b.dims, b.data);
        return { ...base(node, c ? [node.inputs[0]!, wName, node.inputs[2]!] : [node.inputs[0]!, wName]), op: 'dense' };
      }
    }
    return { ...base(node), op: 'gemm', alpha, beta, transA, transB };
  },
  MatMul(ctx, node) {
    const b = ctx.required(node, 1);
    if (b.kind === 'float' && b.dims.length === 2) {
      return { ...base(node, [node.inputs[0]!, transposedConstant(ctx, node.inputs[1]!, b.dims, b.data)]), op: 'dense' };
    }
    return { ...base(node), op: 'matMul' };
  },
  BatchNormalization(_ctx, node) {
    if (node.attrs.int('training_mode', 0) !== 0) throw unsupported(node, 'in training mode is not supported');
    if (node.attrs.int('spatial', 1) !== 1) throw unsupported(node, 'with spatial=0 (opsets before 9) is not supported');
    firstOutputOnly(node);
    return { ...base(node), op: 'batchNorm', epsilon: node.attrs.float('epsilon', 1e-5) };
  },
  Relu: (_ctx, node) => activation(node, { kind: 'relu' }),
  Sigmoid: (_ctx, node) => activation(node, { kind: 'sigmoid' }),
  HardSwish: (_ctx, node) => activation(node, { kind: 'hardSwish' }),
  LeakyRelu: (_ctx, node) => activation(node, { kind: 'leakyRelu', alpha: node.attrs.float('alpha', 0.01) }),
  HardSigmoid: (_ctx, node) => activation(node, { kind: 'hardSigmoid', alpha: node.attrs.float('alpha', 0.2), beta: node.attrs.float('beta', 0.5) }),
  Clip(ctx, node) {
    const [min, max] = clipBounds(ctx, node);
    return activation(node, min === 0 && max === Infinity ? { kind: 'relu' } : { kind: 'clip', min, max });
  },
  Add: (ctx, node) => ({ ...base(node, binaryInputs(ctx, node)), op: 'add' }),
  Sub: (ctx, node) => ({ ...base(node, binaryInputs(ctx, node)), op: 'sub' }),
  Mul: (ctx, node) => ({ ...base(node, binaryInputs(ctx, node)), op: 'mul' }),
  Div: (ctx, node) => ({ ...base(node, binaryInputs(ctx, node)), op: 'div' }),
  Concat: (_ctx, node) => {
    // Opsets before 4 default the axis to 1; later ones require it.
    if (node.opset >= 4 && !node.attrs.has('axis')) throw new ModelFormatError(`node '${node.name}' (Concat) has no axis`);
    return { ...base(node), op: 'concat', axis: node.attrs.int('axis', 1) };
  },
  MaxPool(_ctx, node) {
    firstOutputOnly(node);
    if (node.attrs.int('storage_order', 0) !== 0) throw unsupported(node, 'with storage_order 1 is not supported');
    return { ...base(node), op: 'maxPool', ...window2d(node), ceilMode: node.attrs.int('ceil_mode', 0) !== 0, countIncludePad: false };
  },
  AveragePool(_ctx, node) {
    const win = window2d(node);
    if (win.dilations.some((d) => d !== 1)) throw unsupported(node, 'with dilations is not supported');
    return { ...base(node), op: 'avgPool', ...win, ceilMode: node.attrs.int('ceil_mode', 0) !== 0, countIncludePad: node.attrs.int('count_include_pad', 0) !== 0 };
  },
  GlobalAveragePool: (_ctx, node) => ({ ...base(node), op: 'globalAvgPool' }),
  GlobalMaxPool: (_ctx, node) => ({ ...base(node), op: 'globalMaxPool' }),
  Flatten: (_ctx, node) => ({ ...base(node), op: 'flatten', axis: node.attrs.int('axis', 1) }),
  Reshape(ctx, node) {
    const shape: Dim[] = node.opset >= 5 ? ctx.constDims(node, 1, 'target shape') : (node.attrs.ints('shape') ?? []);
    return { ...base(node, [node.inputs[0]!]), op: 'reshape', shape, allowZero: node.attrs.int('allowzero', 0) !== 0 };
  },
  Squeeze(ctx, node) {
    const axes = node.opset >= 13 ? (ctx.constInts(node, 1, 'axes') ?? []) : (node.attrs.ints('axes') ?? []);
    return { ...base(node, [node.inputs[0]!]), op: 'squeeze', axes };
  },
  Unsqueeze(ctx, node) {
    const axes = node.opset >= 13 ? ctx.constInts(node, 1, 'axes') : node.attrs.ints('axes');
    if (!axes) throw new ModelFormatError(`node '${node.name}' (Unsqueeze) has no axes`);
    return { ...base(node, [node.inputs[0]!]), op: 'unsqueeze', axes };
  },
  Transpose: (_ctx, node) => ({ ...base(node), op: 'transpose', perm: node.attrs.ints('perm') ?? [] }),
  Pad(ctx, node) {
    const mode = node.attrs.string('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw unsupported(node, `mode '${mode}' is not supported`);
    let pads: number[];
    let value = 0;
    if (node.opset < 11) {
      pads = node.attrs.ints('pads') ?? node.attrs.ints('paddings') ?? [];
      value = node.attrs.float('value', 0);
    } else {
      pads = ctx.constInts(node, 1, 'pads') ?? [];
      const v = ctx.input(node, 2);
      if (v) {
        if (v.kind === 'tensor') throw unsupported(node, 'needs a constant pad value');
        value = Number(v.data[0] ?? 0);
      }
      const axes = ctx.constInts(node, 3, 'axes');
      if (axes) {
        const rank = ctx.shapeOf(ctx.required(node, 0)).length;
        const full = new Array<number>(2 * rank).fill(0);
        axes.forEach((a, i) => {
          const ax = a < 0 ? a + rank : a;
          full[ax] = pads[i]!;
          full[ax + rank] = pads[i + axes.length]!;
        });
        pads = full;
      }
    }
    return { ...base(node, [node.inputs[0]!]), op: 'pad', pads, mode, value };
  },
  Resize(ctx, node) {
    const mode = node.attrs.string('mode', 'nearest');
    if (mode !== 'nearest') throw unsupported(node, `mode '${mode}' is not supported (nearest only)`);
    const coordinateMode = node.attrs.string('coordinate_transformation_mode', node.opset >= 11 ? 'half_pixel' : 'asymmetric');
    const nearestMode = node.attrs.string('nearest_mode', node.opset >= 11 ? 'round_prefer_floor' : 'floor');
    if (!['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'].includes(coordinateMode)) {
      throw unsupported(node, `coordinate_transformation_mode '${coordinateMode}' is not supported`);
    }
    if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nearestMode)) throw unsupported(node, `nearest_mode '${nearestMode}' is unknown`);
    if (node.attrs.has('axes') || node.attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') {
      throw unsupported(node, 'with axes or keep_aspect_ratio_policy is not supported');
    }
    const scaleIdx = node.opset >= 11 ? 2 : 1;
    const scalesV = ctx.input(node, scaleIdx);
    const sizes = node.opset >= 11 ? ctx.constInts(node, 3, 'sizes') : undefined;
    let scales: number[] | undefined;
    if (scalesV && scalesV.kind === 'float' && scalesV.data.length > 0) scales = Array.from(scalesV.data);
    else if (scalesV && scalesV.kind === 'tensor') throw unsupported(node, 'needs constant scales');
    if (!scales && !sizes?.length) throw new ModelFormatError(`node '${node.name}' (Resize) has neither scales nor sizes`);
    return {
      ...base(node, [node.inputs[0]!]),
      op: 'resize',
      ...(sizes?.length ? { sizes } : { scales: scales! }),
      coordinateMode: coordinateMode as 'half_pixel',
      nearestMode: nearestMode as 'floor',
    };
  },
  Softmax: (_ctx, node) => ({ ...base(node), op: 'softmax', axis: node.attrs.int('axis', node.opset >= 13 ? -1 : 1), coerce2d: node.opset < 13 }),
  Identity: () => 'alias',
  Dropout(ctx, node) {
    firstOutputOnly(node);
    const training = ctx.input(node, 2);
    if (training && (training.kind === 'tensor' || training.data[0] !== 0)) throw unsupported(node, 'in training mode is not supported');
    return 'alias';
  },
};

/**
 * Opsets before 7 broadcast only when asked (`broadcast=1`), aligning B with A
 * at `axis` rather than at the trailing axes; a constant B is reshaped so that
 * numpy broadcasting gives the same result.
 */
function binaryInputs(ctx: ImportContext, node: NodeInfo): string[] {
  const [a, b] = [node.inputs[0]!, node.inputs[1]!];
  if (node.opset >= 7 || node.attrs.int('broadcast', 0) === 0 || !node.attrs.has('axis')) return [a, b];
  const rankA = ctx.shapeOf(ctx.required(node, 0)).length;
  const bv = ctx.required(node, 1);
  if (bv.kind === 'tensor') throw unsupported(node, 'with legacy axis broadcasting of a run-time tensor is not supported');
  const axis = node.attrs.int('axis', 0);
  const start = axis < 0 ? axis + rankA : axis;
  const trailing = rankA - start - bv.dims.length;
  if (trailing === 0) return [a, b];
  const name = `${b}__axis${start}`;
  ctx.define(name, { ...bv, dims: [...bv.dims, ...new Array<number>(trailing).fill(1)] } as typeof bv);
  return [a, name];
}

/** A fully connected weight must be [units, K]; MatMul and Gemm without transB hold [K, units]. */
function transposedConstant(ctx: ImportContext, name: string, dims: number[], data: Float32Array): string {
  const [k, n] = [dims[0]!, dims[1]!];
  const t = new Float32Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = data[i * n + j]!;
  const tName = `${name}__transposed`;
  if (!ctx.values.has(tName)) ctx.define(tName, { kind: 'float', dims: [n, k], data: t });
  return tName;
}
