/**
 * Convolution and dense layers on the GPU: the igemm core (shaders/igemm.wgsl)
 * with the convolution hooks (shaders/conv_io.wgsl) and one of the two dot
 * parts. `planConv` is pure (no GPU): it picks the variant from the adapter's
 * facts, computes the dispatch and every uniform by its WGSL field name, and
 * makes the buffers' contents. `convKernelPlan` gives it the form every
 * operator's plan has, which sessions, benches and tests all run.
 */
import { ResourceLimitError, ShapeError } from '../../errors.js';
import type { AdapterFacts } from '../adapter-info.js';
import type { KernelSource } from '../pipeline-cache.js';
import { composeShader } from '../shader-parts.js';
import type { ConvLayer } from '../../ir/layers.js';
import { resolveWindow2d } from '../../ir/window.js';
import { laneBits, laneFitProblems, laneOffset, packConvWeights, refuse } from '../../quant/lanes.js';
import type { QParams } from '../../quant/qparams.js';
import type { QMatmulLayer } from '../../quant/quantized-graph.js';
import { foldGroups } from './dispatch.js';
import type { KernelPlan } from './kernel-plan.js';
import { windowPieces, withRanges, wordRange, type BindingLimits, type WindowGeometry, type WindowPiece } from './pieces.js';

/** What changes the igemm shader; shapes never do (they are uniforms). */
export interface IgemmVariant {
  readonly kernel: 'igemm';
  /** dot4I8Packed (only where AdapterFacts.dot4I8Packed) or vec4<i32> multiply-adds. */
  readonly dot4: boolean;
  /** Weight lane width: 8, 4 or 2 bits (3..7-bit weights use the next wider lane). */
  readonly wLaneBits: 2 | 4 | 8;
  /** Output positions per invocation, 1..4. */
  readonly rows: number;
  /** Workgroup: output words (x) by row blocks (y); square for the tiled core. */
  readonly workgroupX: number;
  readonly workgroupY: number;
  /** The core that stages its operands in workgroup memory (igemm_tiled.wgsl); layers without groups only. */
  readonly tiled: boolean;
  /** The layer has groups (the direct core's group bookkeeping stays in). */
  readonly grouped: boolean;
}

export const MAX_ROWS = 4;

export const igemmKernel: KernelSource<IgemmVariant> = {
  // The packed dot part comes first: its `requires` directive must precede every declaration.
  shader: (v) => composeShader([v.dot4 ? 'dot4_packed.wgsl' : 'dot4_unpacked.wgsl', 'weight_lanes.wgsl', 'requant.wgsl', 'conv_io.wgsl', v.tiled ? 'igemm_tiled.wgsl' : 'igemm.wgsl']),
  entryPoint: 'main',
  constants: (v): Record<string, number> =>
    v.tiled ? { W_LANE_BITS: v.wLaneBits, ROWS: v.rows, WG: v.workgroupX } : { W_LANE_BITS: v.wLaneBits, ROWS: v.rows, WG_X: v.workgroupX, WG_Y: v.workgroupY, GROUPED: v.grouped ? 1 : 0 },
};

/** The numbers of conv_io.wgsl's `Params`, by field name. */
export type IgemmUniforms = Readonly<Record<string, number>>;

export interface ConvPlan {
  readonly variant: IgemmVariant;
  /** Workgroups in x (output words) and y (row blocks), folded into z past the adapter's limit. */
  readonly dispatch: readonly [number, number, number];
  readonly uniforms: IgemmUniforms;
  readonly buffers: {
    /** Packed weights in the GPU order (src/quant/lanes.ts, packConvWeights). */
    readonly weights: Uint32Array;
    /** bias + (off_in - Z_in) * sum_k w, per output channel. */
    readonly bias: Int32Array;
    readonly m0: Int32Array;
    readonly shift: Int32Array;
  };
  /** NCHW shape of the input and of the output as the kernel sees them (a dense layer's [rows, K, 1, 1]). */
  readonly inputNchw: readonly [number, number, number, number];
  readonly outputNchw: readonly [number, number, number, number];
  /** The output's shape in the graph: NCHW for a convolution, [..., M] for a dense layer. */
  readonly outputShape: readonly number[];
  /** u32 words of the input and output buffers. */
  readonly inputWords: number;
  readonly outputWords: number;
}

export interface ConvPlanOptions {
  /** Force a dot path; default: dot4I8Packed where the adapter has it. Asking for it where it is absent is an error. */
  readonly dot4?: boolean;
  /** Output positions per invocation (1..4) and the workgroup's shape (output words by row blocks). */
  readonly rows?: number;
  readonly workgroupX?: number;
  readonly workgroupY?: number;
  /** Use the workgroup-memory core where it applies (no groups, a square workgroup of at most 16 x 16); elsewhere the direct one. */
  readonly tiled?: boolean;
  /**
   * Reshape the direct core's workgroup to the layer, keeping its size: the
   * widest of 8, 4, 2, 1 output words across that leaves the fewest idle
   * invocations (24 channels are 6 words: 8 across would idle a quarter).
   */
  readonly fitWorkgroup?: boolean;
}

/** The workgroup width (output words) of `size` invocations that idles the fewest on `outWords` words, the widest among equals. */
export function fitWorkgroupWidth(outWords: number, size: number): number {
  let best = 1;
  let bestIdle = Infinity;
  for (const x of [8, 4, 2, 1]) {
    if (size % x !== 0) continue;
    const idle = Math.ceil(outWords / x) * x - outWords;
    if (idle < bestIdle) {
      best = x;
      bestIdle = idle;
    }
  }
  return best;
}

/** The largest square workgroup side the tiled core's workgroup arrays hold (igemm_tiled.wgsl, MAX_A). */
export const MAX_TILED_WG = 16;

/**
 * The plan of one convolution or dense layer on the GPU, for an input of
 * `inputShape` (NCHW, or [..., K] for a dense layer). Activations of at most
 * 8 bits; any group count whose channel split is whole, depthwise included
 * (the dedicated depthwise kernel is faster for that).
 */
/** Why the kernels cannot run a layer writing `outP` on this adapter, or []: what validation and planConv both check (the input's lanes are its producer's to check). */
export function convProblems(q: Pick<QMatmulLayer, 'weightBits'>, outP: QParams, facts: Pick<AdapterFacts, 'dot4I8Packed'>, options: Pick<ConvPlanOptions, 'dot4' | 'rows'> = {}): string[] {
  const problems = laneFitProblems(outP, 'its output');
  if (!(q.weightBits >= 2 && q.weightBits <= 8)) problems.push(`${q.weightBits}-bit weights; the kernels take 2 to 8`);
  if (options.dot4 === true && !facts.dot4I8Packed) problems.push('dot4I8Packed asked for, but the adapter lacks packed_4x8_integer_dot_product');
  const rows = options.rows;
  if (rows !== undefined && (!Number.isInteger(rows) || rows < 1 || rows > MAX_ROWS)) problems.push(`rows = ${rows} is not in 1..${MAX_ROWS}`);
  return problems;
}

export function planConv(q: QMatmulLayer, inP: QParams, outP: QParams, inputShape: readonly number[], facts: Pick<AdapterFacts, 'dot4I8Packed' | 'limits'>, options: ConvPlanOptions = {}): ConvPlan {
  const where = `planConv: layer '${q.name}'`;
  refuse(where, [...laneFitProblems(inP, 'its input'), ...convProblems(q, outP, facts, options)]);
  const dense = q.kind === 'dense';
  const [n, cIn, inH, inW] = asNchw(inputShape, dense);
  const m = q.weightShape[0]!;
  const [cg, kH, kW] = dense ? [q.weightShape[1]!, 1, 1] : (q.weightShape.slice(1) as [number, number, number]);
  const layer = q.layer as ConvLayer;
  const group = dense ? 1 : layer.group;
  const strides = dense ? [1, 1] : layer.strides;
  const dil = dense ? [1, 1] : layer.dilations;
  if (cg * group !== cIn || m % group !== 0) throw new ShapeError(`${where}: weights [${q.weightShape.join(', ')}] with ${group} group(s) do not fit an input of ${cIn} channels`);
  const { padTop, padLeft, outH, outW } = dense ? { padTop: 0, padLeft: 0, outH: 1, outW: 1 } : resolveWindow2d(inH, inW, [kH, kW], layer);
  const dot4 = options.dot4 ?? facts.dot4I8Packed;
  const rows = options.rows ?? 4;
  let workgroupX = options.workgroupX ?? 8;
  let workgroupY = options.workgroupY ?? 8;
  const tiled = options.tiled === true && group === 1 && workgroupX === workgroupY && workgroupX <= MAX_TILED_WG;
  if (options.fitWorkgroup === true && !tiled) {
    const size = workgroupX * workgroupY;
    workgroupX = fitWorkgroupWidth(Math.ceil(m / 4), size);
    workgroupY = size / workgroupX;
  }
  const variant: IgemmVariant = { kernel: 'igemm', dot4, wLaneBits: laneBits(q.weightBits) as 2 | 4 | 8, rows, workgroupX, workgroupY, tiled, grouped: group > 1 };

  const offIn = laneOffset(inP);
  const offOut = laneOffset(outP);
  const packed = packConvWeights(q.weights, { m, cg, kH, kW }, q.weightBits);
  const outWords = Math.ceil(m / 4);
  const positions = n * outH * outW;
  const cgWords = Math.ceil(cg / 4);
  const padByte = (inP.zeroPoint - offIn) & 0xff;
  const uniforms: IgemmUniforms = {
    rows: positions,
    out_h: outH,
    out_w: outW,
    out_channels: m,
    out_words: outWords,
    in_h: inH,
    in_w: inW,
    in_words: Math.ceil(cIn / 4),
    cg,
    cg_words: cgWords,
    mg: m / group,
    k_h: kH,
    k_w: kW,
    stride_h: strides[0]!,
    stride_w: strides[1]!,
    dil_h: dil[0]!,
    dil_w: dil[1]!,
    pad_top: padTop,
    pad_left: padLeft,
    w_words_per_row: packed.wordsPerRow,
    pad_word: (padByte * 0x01010101) >>> 0,
    zero_out: outP.zeroPoint,
    lo_out: outP.lo,
    hi_out: outP.hi,
    off_out: offOut,
    // All positions in one piece (convPieces cuts a layer beyond a binding).
    row_first: 0,
    in_base: 0,
    out_base: 0,
    cw_first: 0,
    cw_end: outWords,
    c_end: m,
    w_base: 0,
    c_base: 0,
  };
  const dispatch = igemmDispatch(outWords, positions, variant, facts.limits.maxComputeWorkgroupsPerDimension ?? 65535, where);
  const outputNchw: [number, number, number, number] = [n, m, outH, outW];
  return {
    variant,
    dispatch,
    uniforms,
    buffers: { weights: packed.data, bias: foldBias(q.bias, q.weights, m, offIn, inP.zeroPoint), m0: q.requant.m0, shift: q.requant.shift },
    inputNchw: [n, cIn, inH, inW],
    outputNchw,
    outputShape: dense ? [...inputShape.slice(0, -1), m] : outputNchw,
    inputWords: n * inH * inW * Math.ceil(cIn / 4),
    outputWords: positions * outWords,
  };
}

/**
 * The igemm grid: output words in x, row blocks (ROWS positions each) in y,
 * folded into z past the per-dimension limit (conv_io.wgsl, row_block). Only
 * the output words cannot fold: more than the limit of them (some 2^18
 * channels at the default) is refused, the limit named.
 */
export function igemmDispatch(outWords: number, positions: number, v: Pick<IgemmVariant, 'rows' | 'workgroupX' | 'workgroupY'>, maxPerDimension: number, where: string): [number, number, number] {
  const x = Math.ceil(outWords / v.workgroupX);
  if (x > maxPerDimension) throw new ResourceLimitError(`${where}: ${outWords} output words need ${x} workgroups across, above maxComputeWorkgroupsPerDimension ${maxPerDimension} (output channels do not fold)`, 'maxComputeWorkgroupsPerDimension');
  const [y, z] = foldGroups(Math.ceil(Math.ceil(positions / v.rows) / v.workgroupY), maxPerDimension, `${where}: ${positions} output positions`);
  return [x, y, z];
}

/**
 * bias_gpu[c] = bias[c] + (off - Z_in) * sum_k w[c, k]: the shader sums
 * w * (q - off), the golden model w * (q - Z_in) (eq. 9). Wrapping int32, as
 * the shader adds it: the final accumulator is exact whenever the true one
 * fits in int32 (eq. 10).
 */
export function foldBias(bias: Int32Array, weights: Int32Array, m: number, off: number, zeroIn: number): Int32Array {
  const k = weights.length / m;
  const out = new Int32Array(m);
  for (let c = 0; c < m; c++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += weights[c * k + i]!;
    out[c] = (bias[c]! + Math.imul(off - zeroIn, s)) | 0;
  }
  return out;
}

/** [N, C, H, W] for a convolution's NCHW tensor, [rows, K, 1, 1] for a dense layer's [..., K]. */
export function asNchw(shape: readonly number[], dense: boolean): [number, number, number, number] {
  if (dense) {
    const k = shape[shape.length - 1]!;
    return [shape.slice(0, -1).reduce((a, b) => a * b, 1), k, 1, 1];
  }
  if (shape.length !== 4) throw new ShapeError(`asNchw: a convolution takes an NCHW tensor, got shape [${shape.join(', ')}]`);
  return shape as [number, number, number, number];
}

/**
 * One dispatch of a layer run in pieces: its output positions and the
 * ranges of its input and output (pieces.ts, windowPieces), its output words
 * [cwFirst, cwEnd) and the ranges of their weights and per-channel
 * parameters, and its dispatch.
 */
export interface ConvPiece extends WindowPiece {
  readonly cwFirst: number;
  readonly cwEnd: number;
  readonly weights: ReturnType<typeof wordRange>;
  readonly channels: ReturnType<typeof wordRange>;
  readonly dispatch: readonly [number, number, number];
}

/** The uniforms that place a layer's windows, by name (every plan has them: planConv writes each). */
export type ConvGeometry = Readonly<Record<'rows' | 'out_channels' | 'w_words_per_row' | 'out_h' | 'out_w' | 'out_words' | 'in_h' | 'in_w' | 'in_words' | 'k_h' | 'k_w' | 'stride_h' | 'stride_w' | 'dil_h' | 'dil_w' | 'pad_top' | 'pad_left', number>>;

export function convGeometry(plan: ConvPlan): ConvGeometry {
  return plan.uniforms as ConvGeometry;
}

/** Where the layer's output positions read their input (pieces.ts). */
export function convWindow(plan: ConvPlan): WindowGeometry {
  const u = convGeometry(plan);
  return { positions: u.rows, outH: u.out_h, outW: u.out_w, outWords: u.out_words, inH: u.in_h, inW: u.in_w, inWords: u.in_words, kH: u.k_h, strideH: u.stride_h, dilH: u.dil_h, padTop: u.pad_top };
}

/**
 * A layer whose input, output or weights pass the adapter's binding limit,
 * in pieces: of output positions where its input or output do
 * (windowPieces), times runs of output words where its weights do (as many
 * channels as a binding holds the weight rows of); undefined where it runs
 * whole, or where not even one position or one output word fits (the whole
 * plan then, which the builder refuses with the limit named).
 */
export function convPieces(plan: ConvPlan, limits: BindingLimits, maxPerDimension: number, where: string): ConvPiece[] | undefined {
  const u = convGeometry(plan);
  const window = convWindow(plan);
  const tensorsFit = plan.inputWords * 4 <= limits.maxBytes && plan.outputWords * 4 <= limits.maxBytes;
  const weightsFit = plan.buffers.weights.byteLength <= limits.maxBytes && u.out_channels * 4 <= limits.maxBytes;
  if (tensorsFit && weightsFit) return undefined;
  const rows = tensorsFit ? [{ first: 0, end: u.rows, input: wordRange(0, plan.inputWords, limits.alignment), output: wordRange(0, plan.outputWords, limits.alignment) }] : windowPieces(window, limits);
  // Output words per run: their weight rows and parameters within a binding, whatever the alignment takes before the first.
  const perRun = weightsFit ? u.out_words : Math.floor((limits.maxBytes - limits.alignment + 4) / (16 * Math.max(1, u.w_words_per_row)));
  if (rows === undefined || perRun < 1) return undefined;
  const pieces: ConvPiece[] = [];
  for (const r of rows) {
    for (let cwFirst = 0; cwFirst < u.out_words; cwFirst += perRun) {
      const cwEnd = Math.min(u.out_words, cwFirst + perRun);
      const [c0, c1] = [4 * cwFirst, Math.min(4 * cwEnd, u.out_channels)];
      pieces.push({
        ...r,
        cwFirst,
        cwEnd,
        weights: wordRange(c0 * u.w_words_per_row, c1 * u.w_words_per_row, limits.alignment),
        channels: wordRange(c0, c1, limits.alignment),
        dispatch: igemmDispatch(cwEnd - cwFirst, r.end - r.first, plan.variant, maxPerDimension, where),
      });
    }
  }
  return pieces;
}

/**
 * The plan in the form of every operator's step (kernel-plan.ts): the
 * weights, bias and requantization as constants, `input` and `output` as
 * tensors; of a piece (convPieces), the piece's positions, dispatch and
 * ranges (the constants the same arrays for every piece, so a session keeps
 * one buffer of each).
 */
export function convKernelPlan(plan: ConvPlan, input: string, output: string, piece?: ConvPiece): KernelPlan<IgemmVariant> {
  const whole = convWholePlan(plan, input, output);
  if (piece === undefined) return whole;
  const u = convGeometry(plan);
  const uniforms = {
    ...plan.uniforms,
    row_first: piece.first,
    rows: piece.end,
    in_base: piece.input.base,
    out_base: piece.output.base,
    cw_first: piece.cwFirst,
    cw_end: piece.cwEnd,
    c_end: Math.min(4 * piece.cwEnd, u.out_channels),
    w_base: piece.weights.base,
    c_base: piece.channels.base,
  };
  const channels = piece.channels.range;
  return withRanges({ ...whole, dispatch: piece.dispatch, uniforms: { params: uniforms } }, { activations: piece.input.range, outputs: piece.output.range, weights: piece.weights.range, bias: channels, m0: channels, shift: channels });
}

function convWholePlan(plan: ConvPlan, input: string, output: string): KernelPlan<IgemmVariant> {
  return {
    variant: plan.variant,
    dispatch: plan.dispatch,
    uniforms: { params: plan.uniforms },
    buffers: {
      activations: { role: 'input', tensor: input },
      weights: { role: 'constant', data: plan.buffers.weights },
      bias: { role: 'constant', data: plan.buffers.bias },
      m0: { role: 'constant', data: plan.buffers.m0 },
      shift: { role: 'constant', data: plan.buffers.shift },
      outputs: { role: 'output', tensor: output, bytes: plan.outputWords * 4 },
    },
  };
}
