/**
 * The small kernels (quantize/dequantize, LUT, pools, add/sub/mul, depthwise
 * convolution, channel concat, pad and the other data movement) against the golden model with zero tolerance on integers, on
 * both hosts: seeded sweeps over odd channel counts, 1x1 planes, strides,
 * pads, ceil mode, broadcasting, bitwidths 2..8 and the three schemes. Every
 * output lane is compared, padding lanes included (they must be 0); outputs
 * start poisoned; runs must raise no WebGPU error and leak no buffer.
 */
import { describe, expect, it } from 'vitest';
import { intAccumulate } from '../../src/cpu/golden/int-conv.js';
import type { ConvLayer, PoolLayer as PoolDescriptor } from '../../src/ir/layers.js';
import type { Bits, Scheme } from '../../src/quant/config.js';
import type { QParams } from '../../src/quant/qparams.js';
import type { QBinaryLayer, QConcatLayer, QLutLayer, QPoolLayer, QMatmulLayer } from '../../src/quant/quantized-graph.js';
import { dequantizeValue, quantizeValue, roundHalfEven } from '../../src/quant/rounding.js';
import { planConcat } from '../../src/gpu/ops/concat.js';
import { planDepthwise } from '../../src/gpu/ops/depthwise.js';
import { broadcastShape, planBinary } from '../../src/gpu/ops/elementwise.js';
import { actShape, laneOffset, nonzeroPadding, packActivations, packedWords, unpackActivations, type ActShape } from '../../src/quant/lanes.js';
import { dispatch1d } from '../../src/gpu/ops/dispatch.js';
import { planLut } from '../../src/gpu/ops/lut.js';
import { planPool } from '../../src/gpu/ops/pool.js';
import { planDequantize, planQuantize } from '../../src/gpu/ops/quantize.js';
import type { KernelPlan } from '../../src/gpu/ops/kernel-plan.js';
import { decodeInt32, encodeInt32 } from './harness/codec.js';
import { describeOnHosts, expectClean } from './harness/on-hosts.js';
import { encodePlan, type PlanArgs } from './harness/programs-kernels.js';
import { INTEGER_OPERATORS } from '../../src/runtime/operators.js';
import type { PlanContext } from '../../src/runtime/operator.js';
import type { QMoveLayer } from '../../src/quant/quantized-graph.js';
import type { Layer } from '../../src/ir/layers.js';
import { inferLayerShapes } from '../../src/ir/infer-shapes.js';
import { BITS, SCHEMES, goldenLayer, randInt, randomCodes, randomParams, requantOf, rng } from './kernels/small-golden.js';

const MAX_WG = 65535;

/** One op to run: its plan and inputs, and what the output words must decode to. */
interface Case {
  readonly name: string;
  readonly args: PlanArgs;
  /** Checks the output words; returns mismatch lines (empty when all agree). */
  check(words: Int32Array): string[];
}

const words = (codes: Int32Array, s: ActShape, p: QParams): string => encodeInt32(new Int32Array(packActivations(codes, s, laneOffset(p)).buffer));

function intCase(name: string, plan: KernelPlan, inputs: Record<string, string>, outShape: ActShape, outP: QParams, expected: Int32Array): Case {
  return {
    name,
    args: { plan: encodePlan(plan), inputs },
    check(out) {
      const u = new Uint32Array(out.buffer);
      const lines: string[] = [];
      if (u.length !== packedWords(outShape)) return [`${u.length} words, expected ${packedWords(outShape)}`];
      const pad = nonzeroPadding(u, outShape);
      if (pad.length > 0) lines.push(`padding lanes not 0 in words ${pad.slice(0, 5).join(', ')}`);
      const got = unpackActivations(u, outShape, laneOffset(outP));
      for (let i = 0; i < got.length && lines.length < 8; i++) if (got[i] !== expected[i]) lines.push(`element ${i}: gpu ${got[i]}, golden ${expected[i]}`);
      return lines;
    },
  };
}

const shapes4: ActShape[] = [
  { n: 1, c: 3, h: 5, w: 7 },
  { n: 2, c: 5, h: 4, w: 3 },
  { n: 1, c: 1, h: 1, w: 1 },
  { n: 1, c: 8, h: 9, w: 9 },
  { n: 3, c: 6, h: 1, w: 1 },
  { n: 1, c: 13, h: 6, w: 5 },
];
const dims = (s: ActShape): number[] => [s.n, s.c, s.h, s.w];
const count = (s: ActShape): number => s.n * s.c * s.h * s.w;
/** (bits, scheme) pairs cycling through all of both. */
const combo = (i: number): [Bits, Scheme] => [BITS[i % BITS.length]!, SCHEMES[Math.floor(i / BITS.length) % SCHEMES.length]!];

function quantizeCases(): Case[] {
  const r = rng(11);
  const cases: Case[] = [];
  for (let i = 0; i < 21; i++) {
    const [bits, scheme] = combo(i);
    const s = shapes4[i % shapes4.length]!;
    const p = randomParams(r, bits, scheme);
    // Reals around the range, exact ties (k + 1/2) * S, and values far outside.
    const real = Float32Array.from({ length: count(s) }, (_, k) => {
      const u = r();
      if (k % 5 === 0) return Math.fround((randInt(r, p.lo - p.zeroPoint - 2, p.hi - p.zeroPoint + 2) + 0.5) * p.scale);
      if (k % 17 === 0) return (u - 0.5) * 1e6;
      return Math.fround((p.lo - p.zeroPoint - 3 + u * (p.hi - p.lo + 6)) * p.scale);
    });
    const expected = Int32Array.from(real, (x) => quantizeValue(x, p.scale, p.zeroPoint, p.lo, p.hi));
    const plan = planQuantize({ real: 'x', lanes: 'q' }, p, s, MAX_WG);
    cases.push(intCase(`quantize ${bits}-bit ${scheme} [${dims(s)}]`, plan, { x: encodeInt32(new Int32Array(real.buffer)) }, s, p, expected));
  }
  return cases;
}

/**
 * Quantize through a convolution window (im2col): every output position's lanes are the
 * window's inputs in (ky, kx, c) order, the real zero in the padding. The expected codes
 * are gathered here with plain loops over the window, from the golden quantizeValue.
 */
function im2colQuantizeCases(): Case[] {
  const r = rng(13);
  const windows: Array<{ s: ActShape; k: [number, number]; stride: [number, number]; dil: [number, number]; pad: [number, number] }> = [
    { s: { n: 1, c: 3, h: 9, w: 9 }, k: [3, 3], stride: [2, 2], dil: [1, 1], pad: [1, 1] },
    { s: { n: 2, c: 1, h: 7, w: 6 }, k: [3, 3], stride: [1, 1], dil: [1, 1], pad: [1, 1] },
    { s: { n: 1, c: 3, h: 8, w: 11 }, k: [5, 3], stride: [1, 2], dil: [2, 1], pad: [4, 0] },
    { s: { n: 1, c: 2, h: 5, w: 5 }, k: [2, 2], stride: [3, 3], dil: [1, 1], pad: [0, 1] },
  ];
  return windows.map(({ s, k: [kh, kw], stride: [sh, sw], dil: [dh, dw], pad: [pt, pl] }, i) => {
    const [bits, scheme] = combo(i + 3);
    const p = randomParams(r, bits, scheme);
    const real = Float32Array.from({ length: count(s) }, () => Math.fround((p.lo - p.zeroPoint - 2 + r() * (p.hi - p.lo + 4)) * p.scale));
    const oh = Math.floor((s.h + 2 * pt - dh * (kh - 1) - 1) / sh) + 1;
    const ow = Math.floor((s.w + 2 * pl - dw * (kw - 1) - 1) / sw) + 1;
    const lanes = kh * kw * s.c;
    const out: ActShape = { n: s.n, c: lanes, h: oh, w: ow };
    const expected = new Int32Array(count(out));
    for (let b = 0; b < s.n; b++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          for (let c = 0; c < s.c; c++)
            for (let oy = 0; oy < oh; oy++)
              for (let ox = 0; ox < ow; ox++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                const inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
                const lane = (ky * kw + kx) * s.c + c;
                expected[((b * lanes + lane) * oh + oy) * ow + ox] = inside ? quantizeValue(real[((b * s.c + c) * s.h + iy) * s.w + ix]!, p.scale, p.zeroPoint, p.lo, p.hi) : p.zeroPoint;
              }
    const window = { kH: kh, kW: kw, strideH: sh, strideW: sw, dilH: dh, dilW: dw, padTop: pt, padLeft: pl, outH: oh, outW: ow };
    const plan = planQuantize({ real: 'x', lanes: 'q' }, p, s, MAX_WG, window);
    return intCase(`quantize+im2col ${kh}x${kw}/${sh}x${sw} dil ${dh}x${dw} pad ${pt},${pl} ${bits}-bit ${scheme} [${dims(s)}]`, plan, { x: encodeInt32(new Int32Array(real.buffer)) }, out, p, expected);
  });
}

function dequantizeCases(): Case[] {
  const r = rng(12);
  const cases: Case[] = [];
  for (let i = 0; i < 21; i++) {
    const [bits, scheme] = combo(i);
    const s = shapes4[i % shapes4.length]!;
    const p = randomParams(r, bits, scheme);
    const codes = randomCodes(r, count(s), p);
    const expected = Float32Array.from(codes, (q) => dequantizeValue(q, p.scale, p.zeroPoint));
    const plan = planDequantize({ real: 'y', lanes: 'q' }, p, s, MAX_WG);
    cases.push({
      name: `dequantize ${bits}-bit ${scheme} [${dims(s)}]`,
      args: { plan: encodePlan(plan), inputs: { q: words(codes, s, p) } },
      check(out) {
        // Floats: the GPU rounds f32(q - Z) * f32(S) once in f32, the golden model (q - Z) * S in float64 then to f32;
        // they agree within one f32 rounding of the scale (exactly for power-of-two scales).
        const got = new Float32Array(out.buffer);
        const lines: string[] = [];
        for (let k = 0; k < got.length && lines.length < 8; k++) {
          const tol = scheme === 'pow2' ? 0 : Math.abs(expected[k]!) * 2 ** -22;
          if (!(Math.abs(got[k]! - expected[k]!) <= tol)) lines.push(`element ${k}: gpu ${got[k]}, golden ${expected[k]}`);
        }
        return lines;
      },
    });
  }
  return cases;
}

function lutCases(): Case[] {
  const r = rng(13);
  const cases: Case[] = [];
  const fns: Array<[string, (x: number) => number]> = [
    ['sigmoid', (x) => 1 / (1 + Math.exp(-x))],
    ['hardSwish', (x) => (x * Math.min(6, Math.max(0, x + 3))) / 6],
    ['leakyRelu', (x) => (x < 0 ? 0.1 * x : x)],
  ];
  for (let i = 0; i < 21; i++) {
    const [bits, scheme] = combo(i);
    const [outBits, outScheme] = combo(i * 5 + 3);
    const s = shapes4[i % shapes4.length]!;
    const inP = randomParams(r, bits, scheme);
    const outP = randomParams(r, outBits, outScheme);
    const [fname, f] = fns[i % fns.length]!;
    // The table as quantize-graph.ts builds it (eq. 21).
    const table = new Int32Array(inP.hi - inP.lo + 1);
    for (let q = inP.lo; q <= inP.hi; q++) table[q - inP.lo] = Math.min(outP.hi, Math.max(outP.lo, roundHalfEven(f(inP.scale * (q - inP.zeroPoint)) / outP.scale) + outP.zeroPoint));
    const layer: QLutLayer = { kind: 'lut', name: fname, inputs: ['x'], outputs: ['y'], table };
    const codes = randomCodes(r, count(s), inP);
    const expected = goldenLayer(layer, [{ name: 'x', shape: dims(s), params: inP, codes }], dims(s), outP);
    cases.push(intCase(`lut ${fname} ${bits}-bit ${scheme} -> ${outBits}-bit ${outScheme} [${dims(s)}]`, planLut(layer, inP, outP, s, MAX_WG), { x: words(codes, s, inP) }, s, outP, expected));
  }
  return cases;
}

function poolCases(): Case[] {
  const r = rng(14);
  const cases: Case[] = [];
  type Geometry = Pick<PoolDescriptor, 'kernel' | 'strides' | 'pads' | 'ceilMode' | 'countIncludePad' | 'dilations'>;
  const geometries: Geometry[] = [
    { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, dilations: [1, 1] },
    { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false, countIncludePad: false, dilations: [1, 1] },
    { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false, countIncludePad: true, dilations: [1, 1] },
    { kernel: [3, 2], strides: [2, 3], pads: [0, 1, 1, 0], ceilMode: true, countIncludePad: false, dilations: [1, 1] },
    { kernel: [2, 3], strides: [2, 2], pads: [1, 0, 0, 1], ceilMode: true, countIncludePad: true, dilations: [1, 1] },
    { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ceilMode: false, countIncludePad: false, dilations: [1, 1] },
    { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, dilations: [1, 1] },
  ];
  const poolShapes = shapes4.filter((s) => s.h >= 3 && s.w >= 3);
  let i = 0;
  for (const kind of ['maxPool', 'avgPool', 'globalAvgPool', 'globalMaxPool'] as const) {
    const list = kind.startsWith('global') ? shapes4 : geometries;
    for (let j = 0; j < list.length; j++, i++) {
      const [bits, scheme] = combo(i * 3);
      const s = kind.startsWith('global') ? shapes4[j]! : poolShapes[j % poolShapes.length]!;
      const p = randomParams(r, bits, scheme);
      const desc = kind.startsWith('global')
        ? { name: kind, op: kind as 'globalAvgPool', inputs: ['x'], outputs: ['y'] }
        : { name: kind, op: kind as 'maxPool', inputs: ['x'], outputs: ['y'], autoPad: 'NOTSET' as const, ...(list[j] as Geometry) };
      const layer: QPoolLayer = { kind, name: kind, inputs: ['x'], outputs: ['y'], layer: desc };
      const codes = randomCodes(r, count(s), p);
      const plan = planPool(layer, p, s, MAX_WG);
      const expected = goldenLayer(layer, [{ name: 'x', shape: dims(s), params: p, codes }], dims(plan.outShape), p);
      const g = kind.startsWith('global') ? '' : ` k${(list[j] as Geometry).kernel} s${(list[j] as Geometry).strides} p${(list[j] as Geometry).pads}${(list[j] as Geometry).ceilMode ? ' ceil' : ''}${(list[j] as Geometry).countIncludePad ? ' incl-pad' : ''}`;
      cases.push(intCase(`${kind}${g} ${bits}-bit ${scheme} [${dims(s)}] -> [${dims(plan.outShape)}]`, plan, { x: words(codes, s, p) }, plan.outShape, p, expected));
    }
  }
  return cases;
}

function binaryCases(): Case[] {
  const r = rng(15);
  const cases: Case[] = [];
  const pairs: Array<[ActShape, ActShape]> = [
    [{ n: 1, c: 5, h: 4, w: 3 }, { n: 1, c: 5, h: 4, w: 3 }],
    [{ n: 2, c: 7, h: 3, w: 3 }, { n: 2, c: 7, h: 1, w: 1 }], // squeeze-excitation
    [{ n: 1, c: 6, h: 1, w: 1 }, { n: 1, c: 6, h: 5, w: 2 }],
    [{ n: 1, c: 1, h: 4, w: 5 }, { n: 1, c: 9, h: 4, w: 5 }],
    [{ n: 1, c: 3, h: 1, w: 1 }, { n: 1, c: 3, h: 1, w: 1 }],
    [{ n: 2, c: 4, h: 2, w: 3 }, { n: 1, c: 4, h: 2, w: 1 }],
  ];
  let i = 0;
  for (const op of ['add', 'sub', 'mul'] as const) {
    for (let j = 0; j < 7; j++, i++) {
      const [sa, sb] = pairs[j % pairs.length]!;
      const [bits, scheme] = combo(i * 2);
      const [bitsB, schemeB] = combo(i * 3 + 1);
      const [bitsO, schemeO] = combo(i * 5 + 2);
      const pa = randomParams(r, bits, scheme);
      const pb = randomParams(r, bitsB, schemeB);
      const po = randomParams(r, bitsO, schemeO);
      let layer: QBinaryLayer;
      // As quantize-graph.ts makes them.
      if (op === 'mul') layer = { kind: 'mul', name: op, inputs: ['a', 'b'], outputs: ['y'], leftShift: 0, inputRequant: [requantOf([1]), requantOf([1])], outputRequant: requantOf([(pa.scale * pb.scale) / po.scale]) };
      else {
        const leftShift = Math.max(pa.bits, pb.bits) <= 8 ? 20 : 14;
        const twiceMax = 2 * Math.max(pa.scale, pb.scale);
        layer = { kind: op, name: op, inputs: ['a', 'b'], outputs: ['y'], leftShift, inputRequant: [requantOf([pa.scale / twiceMax]), requantOf([pb.scale / twiceMax])], outputRequant: requantOf([twiceMax / (2 ** leftShift * po.scale)]) };
      }
      const ca = randomCodes(r, count(sa), pa);
      const cb = randomCodes(r, count(sb), pb);
      const out = broadcastShape(sa, sb, op);
      const expected = goldenLayer(layer, [{ name: 'a', shape: dims(sa), params: pa, codes: ca }, { name: 'b', shape: dims(sb), params: pb, codes: cb }], dims(out), po);
      const plan = planBinary(layer, pa, pb, po, sa, sb, MAX_WG);
      cases.push(intCase(`${op} [${dims(sa)}] ${bits}-bit ${scheme} x [${dims(sb)}] ${bitsB}-bit ${schemeB} -> ${bitsO}-bit ${schemeO}`, plan, { a: words(ca, sa, pa), b: words(cb, sb, pb) }, out, po, expected));
    }
  }
  return cases;
}

function depthwiseCases(): Case[] {
  const r = rng(16);
  const cases: Case[] = [];
  type Geo = { s: ActShape; mult: number; k: [number, number]; strides: [number, number]; pads: [number, number, number, number]; dilations: [number, number] };
  const geos: Geo[] = [
    { s: { n: 1, c: 3, h: 5, w: 7 }, mult: 1, k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { s: { n: 2, c: 5, h: 6, w: 5 }, mult: 1, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { s: { n: 1, c: 4, h: 4, w: 4 }, mult: 2, k: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] },
    { s: { n: 1, c: 7, h: 1, w: 1 }, mult: 1, k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { s: { n: 1, c: 6, h: 7, w: 6 }, mult: 1, k: [5, 5], strides: [2, 2], pads: [2, 1, 2, 1], dilations: [1, 1] },
    { s: { n: 1, c: 9, h: 7, w: 7 }, mult: 3, k: [3, 2], strides: [1, 2], pads: [2, 0, 2, 1], dilations: [2, 1] },
    { s: { n: 1, c: 2, h: 1, w: 1 }, mult: 1, k: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] },
    // Rows of 9 outputs: two full blocks of 4 pixels and one of 1, taps dilated along the row.
    { s: { n: 2, c: 6, h: 5, w: 9 }, mult: 1, k: [3, 3], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 2] },
  ];
  for (let i = 0; i < 24; i++) {
    const g = geos[i % geos.length]!;
    const [bits, scheme] = combo(i);
    const [outBits, outScheme] = combo(i * 4 + 5);
    const wBits = ([2, 3, 4, 5, 8] as const)[i % 5]!;
    const inP = randomParams(r, bits, scheme);
    const outP = randomParams(r, outBits, outScheme);
    const m = g.s.c * g.mult;
    const kk = g.k[0] * g.k[1];
    const wMax = 2 ** (wBits - 1) - 1;
    const weights = Int32Array.from({ length: m * kk }, () => randInt(r, -wMax, wMax));
    const bias = Int32Array.from({ length: m }, () => randInt(r, -5000, 5000));
    const desc: ConvLayer = { name: 'dw', op: 'conv', inputs: ['x', 'w'], outputs: ['y'], group: g.s.c, strides: g.strides, dilations: g.dilations, pads: g.pads, autoPad: 'NOTSET' };
    const weightShape = [m, 1, g.k[0], g.k[1]];
    const partial = { kind: 'conv' as const, layer: desc, weightShape, weights, bias };
    // Multipliers that map the accumulator range onto the output range.
    const codes = randomCodes(r, count(g.s), inP);
    const { acc } = intAccumulate(partial, { shape: dims(g.s), data: Float32Array.from(codes) }, inP.zeroPoint);
    const accMax = Math.max(1, ...Array.from(acc, Math.abs));
    const mults = Array.from({ length: m }, () => ((outP.hi - outP.lo) / accMax) * (0.3 + r() * 1.2));
    const layer: QMatmulLayer = {
      ...partial, name: 'dw', inputs: ['x'], outputs: ['y'], weightBits: wBits,
      weightScales: new Float32Array(m), requant: requantOf(mults),
    };
    const plan = planDepthwise(layer, inP, outP, g.s, MAX_WG);
    const expected = goldenLayer(layer, [{ name: 'x', shape: dims(g.s), params: inP, codes }], dims(plan.outShape), outP);
    cases.push(intCase(`depthwise [${dims(g.s)}] x${g.mult} k${g.k} s${g.strides} p${g.pads} d${g.dilations} w${wBits} ${bits}-bit ${scheme} -> ${outBits}-bit ${outScheme}`, plan, { x: words(codes, g.s, inP) }, plan.outShape, outP, expected));
  }
  return cases;
}

function concatCases(): Case[] {
  const r = rng(17);
  const cases: Case[] = [];
  const groups: number[][] = [[3, 5], [1, 1, 1], [4, 4], [2, 7, 1, 6], [5], [6, 3, 9]];
  const planes: Array<[number, number, number]> = [[1, 3, 4], [2, 1, 1], [1, 5, 2]];
  for (let i = 0; i < 18; i++) {
    const [n, h, w] = planes[i % planes.length]!;
    const shapes = groups[i % groups.length]!.map((c): ActShape => ({ n, c, h, w }));
    const inP = shapes.map((_, k) => randomParams(r, ...combo(i * 3 + k * 7)));
    const [outBits, outScheme] = combo(i * 5 + 1);
    // Half the cases share the output's parameters: the identity requantization.
    const outP = i % 2 === 0 ? inP[0]! : randomParams(r, outBits, outScheme);
    const layer: QConcatLayer = { kind: 'concat', name: 'cat', inputs: shapes.map((_, k) => `x${k}`), outputs: ['y'], axis: i % 3 === 0 ? -3 : 1, inputRequant: inP.map((p) => requantOf([p.scale / outP.scale])) };
    const codes = shapes.map((s, k) => randomCodes(r, count(s), inP[k]!));
    const plan = planConcat(layer, inP, outP, shapes, 4, MAX_WG);
    const expected = goldenLayer(layer, shapes.map((s, k) => ({ name: `x${k}`, shape: dims(s), params: inP[k]!, codes: codes[k]! })), dims(plan.outShape), outP);
    const inputs = Object.fromEntries(shapes.map((s, k) => [`x${k}`, words(codes[k]!, s, inP[k]!)]));
    const desc = shapes.map((s, k) => `${s.c}ch ${inP[k]!.bits}-bit ${inP[k]!.scheme}`).join(' + ');
    cases.push(intCase(`concat ${desc} -> ${outP.bits}-bit ${outP.scheme} [${n}, ${h}, ${w}]`, plan, inputs, plan.outShape, outP, expected));
  }
  return cases;
}

/**
 * The one step a table operator plans for `layer` on inputs of `shapes`, as a
 * session would plan it (the record's own plan, a context with nothing fused).
 */
function tableStep(layer: QMoveLayer, shapes: readonly (readonly number[])[], params: ReadonlyMap<string, QParams>): KernelPlan {
  const op = INTEGER_OPERATORS[layer.layer.op as 'pad' | 'transpose' | 'reshape' | 'flatten'];
  const ctx: PlanContext = {
    facts: { dot4I8Packed: false, limits: {} },
    options: {},
    params: (t) => params.get(t)!,
    rank: () => undefined,
    constant: () => undefined,
    where: `layer '${layer.name}'`,
    maxWorkgroups: MAX_WG,
    binding: { maxBytes: 1 << 27, alignment: 256 },
    bindings: new Map(),
    fusions: { transposes: new Map(), im2col: new Map() },
    windows: new Map(),
  };
  expect(op.validate(layer, ctx)).toEqual([]);
  const planned = op.plan!(layer, shapes.map((shape, i) => ({ key: `i:${layer.inputs[i]}`, shape, bytes: 0 })), ctx);
  expect(planned.steps.length).toBe(1);
  return planned.steps[0]!.plan;
}

/**
 * Layers that only move integers, planned through the operator table: a pad
 * (constant, negative pads crop, channel pads included, ranks 2 to 4), and
 * the transposes and reshapes that change the packed words.
 */
function moveCases(): Case[] {
  const r = rng(31);
  const layers: Array<{ shape: number[]; layer: Layer }> = [
    { shape: [1, 3, 5, 4], layer: { name: 'pad', op: 'pad', mode: 'constant', value: 0, pads: [0, 0, 1, 2, 0, 0, 2, 1], inputs: ['x'], outputs: ['y'] } },
    { shape: [2, 6, 4, 5], layer: { name: 'pad', op: 'pad', mode: 'constant', value: 0, pads: [0, 1, 0, 0, 0, 2, -1, -2], inputs: ['x'], outputs: ['y'] } },
    { shape: [1, 5, 3, 3], layer: { name: 'pad', op: 'pad', mode: 'constant', value: 0, pads: [0, -1, -1, 0, 0, 0, 0, 3], inputs: ['x'], outputs: ['y'] } },
    { shape: [3, 7], layer: { name: 'pad', op: 'pad', mode: 'constant', value: 0, pads: [0, 2, 1, 3], inputs: ['x'], outputs: ['y'] } },
    { shape: [2, 4, 6], layer: { name: 'pad', op: 'pad', mode: 'constant', value: 0, pads: [0, 0, 2, 0, 1, 1], inputs: ['x'], outputs: ['y'] } },
    { shape: [2, 5, 3, 4], layer: { name: 'transpose', op: 'transpose', perm: [0, 2, 3, 1], inputs: ['x'], outputs: ['y'] } },
    { shape: [1, 6, 2, 7], layer: { name: 'transpose', op: 'transpose', perm: [0, 1, 3, 2], inputs: ['x'], outputs: ['y'] } },
    // ONNX's Transpose without perm reverses the axes.
    { shape: [2, 3, 5], layer: { name: 'transpose', op: 'transpose', perm: [], inputs: ['x'], outputs: ['y'] } },
    { shape: [2, 3, 4, 5], layer: { name: 'flatten', op: 'flatten', axis: 1, inputs: ['x'], outputs: ['y'] } },
  ];
  return layers.map(({ shape, layer }, i) => {
    const [bits, scheme] = combo(i + 5);
    const p = randomParams(r, bits, scheme);
    const outShape = (inferLayerShapes(layer, [shape]) as number[][])[0]!;
    const q: QMoveLayer = { kind: 'move', name: layer.name, inputs: ['x'], outputs: ['y'], layer, ...(layer.op === 'pad' ? { padValue: randInt(r, p.lo, p.hi) } : {}) };
    const s = actShape(shape, 'x');
    const codes = randomCodes(r, count(s), p);
    const expected = goldenLayer(q, [{ name: 'x', shape, params: p, codes }], outShape, p);
    const plan = tableStep(q, [shape], new Map([['x', p], ['y', p]]));
    return intCase(`${layer.op} ${bits}-bit ${scheme} [${shape}] -> [${outShape}]`, plan, { x: words(codes, s, p) }, actShape(outShape, 'y'), p, expected);
  });
}

const FAMILIES: Record<string, () => Case[]> = {
  quantize: quantizeCases,
  'quantize through a convolution window': im2colQuantizeCases,
  dequantize: dequantizeCases,
  lut: lutCases,
  pool: poolCases,
  'add/sub/mul': binaryCases,
  depthwise: depthwiseCases,
  concat: concatCases,
  'pad, transpose and reshape (through the operator table)': moveCases,
};
const CASES = Object.fromEntries(Object.entries(FAMILIES).map(([k, f]) => [k, f()]));

describe('small-kernel planning (no GPU)', () => {
  it('packs and unpacks NHWC lanes, padding lanes 0', () => {
    const s = actShape([2, 5, 3, 1], 't');
    const codes = Int32Array.from({ length: count(s) }, (_, i) => (i * 37) % 256);
    const w = packActivations(codes, s, 128);
    expect(w.length).toBe(packedWords(s));
    expect(nonzeroPadding(w, s)).toEqual([]);
    expect(unpackActivations(w, s, 128)).toEqual(codes);
  });
  it('wraps large dispatches into y', () => {
    expect(dispatch1d(100, 65535)).toEqual([2, 1, 1]);
    const [x, y] = dispatch1d(64 * 70000, 65535);
    expect(y).toBe(2);
    expect(x * y * 64).toBeGreaterThanOrEqual(64 * 70000);
  });
  it('refuses a dilated average pool', () => {
    const layer: QPoolLayer = { kind: 'avgPool', name: 'ap', inputs: ['x'], outputs: ['y'], layer: { name: 'ap', op: 'avgPool', inputs: ['x'], outputs: ['y'], kernel: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0], autoPad: 'NOTSET', ceilMode: false, countIncludePad: false, dilations: [2, 2] } };
    expect(() => planPool(layer, randomParams(rng(1), 8, 'affine'), { n: 1, c: 1, h: 5, w: 5 }, MAX_WG)).toThrow(/dilations/);
  });
});

describeOnHosts((host) => {
  for (const [family, cases] of Object.entries(CASES)) {
    it(`${family}: ${cases.length} cases equal the golden model exactly`, async () => {
      const value = expectClean(await host().run('plans', { cases: cases.map((c) => c.args) }), family);
      const failures: string[] = [];
      cases.forEach((c, k) => {
        const lines = c.check(decodeInt32(value.outputs[k]!));
        if (lines.length > 0) failures.push(`${c.name}:\n  ${lines.join('\n  ')}`);
      });
      expect(failures, failures.join('\n')).toEqual([]);
    });
  }
});
