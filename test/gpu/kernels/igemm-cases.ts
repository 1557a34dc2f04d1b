/**
 * Test layers for the igemm kernel: small convolution and dense layers with
 * seeded random integer weights, biases, multipliers and inputs, and their
 * expected outputs from the CPU golden model (intMatmulLayer). Shapes are
 * chosen not to be multiples of the tiles.
 */
import { intMatmulLayer } from '../../../src/cpu/golden/int-conv.js';
import type { ConvLayer, DenseLayer } from '../../../src/ir/layers.js';
import type { Bits, Scheme } from '../../../src/quant/config.js';
import { quantizeMultiplier } from '../../../src/quant/fixed-point.js';
import { activationRange, clampedParams, weightRange, type QParams } from '../../../src/quant/qparams.js';
import type { QMatmulLayer } from '../../../src/quant/quantized-graph.js';
import { convKernelPlan, type ConvPlan } from '../../../src/gpu/ops/conv.js';
import { laneOffset, packActivations, unpackActivations, type ActShape } from '../../../src/quant/lanes.js';
import { mulberry32 } from '../../helpers/random.js';
import { encodeInt32 } from '../harness/codec.js';
import { encodePlan, type PlanArgs } from '../harness/programs-kernels.js';

export interface IgemmCase {
  readonly name: string;
  /** Input NCHW [N, C, H, W], or [N, K] for a dense layer. */
  readonly input: readonly number[];
  readonly outChannels: number;
  readonly kernel?: readonly [number, number];
  readonly strides?: readonly [number, number];
  readonly dilations?: readonly [number, number];
  /** top, left, bottom, right */
  readonly pads?: readonly [number, number, number, number];
  readonly group?: number;
  readonly dense?: boolean;
  readonly wBits: Bits;
  readonly perChannel: boolean;
  readonly inScheme: Scheme;
  readonly inBits?: Bits;
  readonly outScheme: Scheme;
  readonly act?: 'relu' | 'relu6';
  /** Scales the multipliers (> 8 gives M >= 1, a left shift). */
  readonly gain?: number;
  /** Output positions per invocation (variant field). */
  readonly rows?: number;
  readonly seed: number;
}

export interface BuiltCase {
  readonly q: QMatmulLayer;
  readonly inP: QParams;
  readonly outP: QParams;
  readonly inputShape: number[];
  /** Input codes, NCHW (or [N, K]). */
  readonly x: Float32Array;
  /** Golden output codes, NCHW (or [N, M]). */
  readonly expected: Float32Array;
}

/** Seeded uniform numbers in [0, 1). */
const rng = mulberry32;

function params(scheme: Scheme, bits: Bits, next: () => number): QParams {
  const { lo, hi } = activationRange(bits, scheme);
  // Zero points away from the ends, so that both clamps and the values between are exercised.
  if (scheme === 'affine') return { scale: 0.05, zeroPoint: Math.round(lo + (0.25 + 0.5 * next()) * (hi - lo)), bits, scheme, lo, hi };
  if (scheme === 'pow2') return { scale: 2 ** -4, zeroPoint: 0, bits, scheme, lo, hi, fractionalBits: 4 };
  return { scale: 0.05, zeroPoint: 0, bits, scheme, lo, hi };
}

export function buildCase(c: IgemmCase): BuiltCase {
  const next = rng(c.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const inP = params(c.inScheme, c.inBits ?? 8, next);
  let outP = params(c.outScheme, 8, next);
  if (c.act === 'relu') outP = clampedParams(outP, 0, Infinity);
  if (c.act === 'relu6') outP = clampedParams(outP, 0, 6);
  const m = c.outChannels;
  const dense = c.dense === true;
  const group = c.group ?? 1;
  const [kH, kW] = dense ? [1, 1] : (c.kernel ?? [1, 1]);
  const cIn = dense ? c.input[c.input.length - 1]! : c.input[1]!;
  const cg = cIn / group;
  const weightShape = dense ? [m, cIn] : [m, cg, kH, kW];
  const k = cg * kH * kW;
  const qmax = weightRange(c.wBits);
  const weights = Int32Array.from({ length: m * k }, () => int(-qmax, qmax));
  // The accumulator's spread is about sqrt(K) * qmax * 70; the bias is of that size, and the
  // multipliers spread the outputs over some 60 codes.
  const spread = Math.sqrt(k) * qmax * 70;
  const bias = Int32Array.from({ length: m }, () => int(-Math.round(spread), Math.round(spread)));
  const base = ((c.gain ?? 1) * 60) / spread;
  const one = next();
  const m0 = new Int32Array(m);
  const shift = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let mult = base * 2 ** (2 * (c.perChannel ? next() : one) - 1);
    if (c.outScheme === 'pow2') mult = 2 ** Math.round(Math.log2(mult));
    const qm = quantizeMultiplier(mult);
    m0[i] = qm.m0;
    shift[i] = qm.shift;
  }
  const names = { name: c.name, inputs: ['x', 'w', 'b'], outputs: ['y'] };
  const layer: ConvLayer | DenseLayer = dense
    ? { op: 'dense', ...names }
    : {
        op: 'conv',
        ...names,
        group,
        strides: [...(c.strides ?? [1, 1])] as [number, number],
        dilations: [...(c.dilations ?? [1, 1])] as [number, number],
        pads: [...(c.pads ?? [0, 0, 0, 0])] as [number, number, number, number],
        autoPad: 'NOTSET',
      };
  const q: QMatmulLayer = {
    kind: dense ? 'dense' : 'conv',
    ...names,
    inputs: ['x'],
    layer,
    weightShape,
    weights,
    weightBits: c.wBits,
    weightScales: new Float32Array(m).fill(0.01),
    bias,
    requant: { m0, shift },
  };
  const inputShape = [...c.input];
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => int(inP.lo, inP.hi));
  const expected = intMatmulLayer(q, { shape: inputShape, data: x }, inP, outP).data;
  return { q, inP, outP, inputShape, x, expected };
}

/** The sweep: every feature of the kernel at least once, shapes off the tiles. */
export const IGEMM_CASES: readonly IgemmCase[] = [
  { name: '1x1 conv 5->7 ch on 3x3, w8 per-channel, affine -> affine', input: [1, 5, 3, 3], outChannels: 7, wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', seed: 1 },
  { name: '3x3 conv pad 1, 3->5 ch on 5x4, w4 per-tensor, symmetric -> affine, ReLU', input: [1, 3, 5, 4], outChannels: 5, kernel: [3, 3], pads: [1, 1, 1, 1], wBits: 4, perChannel: false, inScheme: 'symmetric', outScheme: 'affine', act: 'relu', seed: 2 },
  { name: '3x3 conv stride 2, pads (t0 l1 b2 r1), 7->6 ch on 7x6, batch 2, w2, affine -> affine, ReLU6', input: [2, 7, 7, 6], outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [0, 1, 2, 1], wBits: 2, perChannel: true, inScheme: 'affine', outScheme: 'affine', act: 'relu6', rows: 3, seed: 3 },
  { name: '3x3 conv dilation 2, pad 2, 4->9 ch on 6x6, w3, pow2 -> pow2', input: [1, 4, 6, 6], outChannels: 9, kernel: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], wBits: 3, perChannel: true, inScheme: 'pow2', outScheme: 'pow2', seed: 4 },
  { name: '2x3 conv, 2 groups (3 in, 2 out each) on 5x5, w5 per-channel, affine -> symmetric', input: [1, 6, 5, 5], outChannels: 4, kernel: [2, 3], group: 2, wBits: 5, perChannel: true, inScheme: 'affine', outScheme: 'symmetric', rows: 1, seed: 5 },
  { name: '3x3 conv stride 2 pad 1, 3 groups (3 in, 2 out each) on 7x5, w6, symmetric -> symmetric, ReLU', input: [1, 9, 7, 5], outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 3, wBits: 6, perChannel: true, inScheme: 'symmetric', outScheme: 'symmetric', act: 'relu', seed: 6 },
  { name: '1x3 conv, 2 groups (4 in, 5 out each: words span groups) on 4x5, w7 per-tensor, affine -> affine', input: [1, 8, 4, 5], outChannels: 10, kernel: [1, 3], pads: [0, 1, 0, 0], group: 2, wBits: 7, perChannel: false, inScheme: 'affine', outScheme: 'affine', rows: 4, seed: 7 },
  { name: '3x3 conv pad 1 on a 1x1 input, 5->5 ch, w4, 4-bit affine input', input: [1, 5, 1, 1], outChannels: 5, kernel: [3, 3], pads: [1, 1, 1, 1], wBits: 4, perChannel: true, inScheme: 'affine', inBits: 4, outScheme: 'affine', seed: 8 },
  { name: '3x3 conv pad 1, 16->21 ch on 9x9 (several workgroups), w8, affine -> affine, ReLU6', input: [1, 16, 9, 9], outChannels: 21, kernel: [3, 3], pads: [1, 1, 1, 1], wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', act: 'relu6', seed: 9 },
  { name: '3x3 conv stride 2, pads (t1 l0 b0 r1), 4->4 ch on 6x7, w8 per-tensor, pow2 -> pow2', input: [1, 4, 6, 7], outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], wBits: 8, perChannel: false, inScheme: 'pow2', outScheme: 'pow2', seed: 10 },
  { name: 'dense 37 -> 10, batch 3, w8 per-channel, affine -> affine', input: [3, 37], outChannels: 10, dense: true, wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', seed: 11 },
  { name: 'dense 2 -> 3, batch 4, w2, M around 1 (left shifts), symmetric -> affine', input: [4, 2], outChannels: 3, dense: true, wBits: 2, perChannel: true, inScheme: 'symmetric', outScheme: 'affine', gain: 2, seed: 12 },
];

const nchw = ([n, c, h, w]: readonly [number, number, number, number]): ActShape => ({ n, c, h, w });

/**
 * A case's plan as a session runs it (convKernelPlan, the form of every
 * operator's step), with its input packed: the arguments of the harness's
 * `plan` program. Padding lanes of the input hold the input's real zero.
 */
export function igemmPlanArgs(b: BuiltCase, plan: ConvPlan): PlanArgs {
  const input = packActivations(b.x, nchw(plan.inputNchw), laneOffset(b.inP), b.inP.zeroPoint);
  return { plan: encodePlan(convKernelPlan(plan, 'x', 'y')), inputs: { x: encodeInt32(new Int32Array(input.buffer)) } };
}

/** The output words of a run as NCHW codes. */
export function igemmCodes(b: BuiltCase, plan: ConvPlan, words: Uint32Array): Int32Array {
  return unpackActivations(words, nchw(plan.outputNchw), laneOffset(b.outP));
}
