import { afterAll, describe, expect, it } from 'vitest';
import { intAccumulate } from '../../src/cpu/golden/int-conv.js';
import { Attributes } from '../../src/import/onnx/attributes.js';
import { onnx } from '../../src/import/onnx/proto.js';
import { dataTypeName, decodeTensor, type DecodedTensor } from '../../src/import/onnx/tensor-proto.js';
import type { AutoPad, ConvLayer, DenseLayer } from '../../src/ir/layers.js';
import { INT32_MAX, INT32_MIN, quantizeMultiplier, requantize } from '../../src/quant/fixed-point.js';
import type { QMatmulLayer } from '../../src/quant/quantized-graph.js';
import { dequantizeValue, qRange, quantizeValue, roundHalfEven, type QRange } from '../../src/quant/rounding.js';
import { listCases, loadCase, requireTestdata, type TestCase } from '../helpers/onnx-testdata.js';

/**
 * ONNX's own test cases for its quantized operators, recomputed with the
 * golden model's integer primitives (docs/quantization.md):
 * - ConvInteger, MatMulInteger: the int32 accumulators of intAccumulate, exact;
 * - QLinearConv, QLinearMatMul: the accumulators, then requantize with the
 *   multiplier of quantizeMultiplier; within one output step, since ONNX
 *   rounds the float product once and we round twice (eq. 15-16);
 * - QuantizeLinear, DynamicQuantizeLinear: quantizeValue, within one step
 *   (ONNX divides in float32, we in float64);
 * - DequantizeLinear: dequantizeValue, exact after rounding to float32.
 * Cases are found by operator in the test data folder. A case that is not
 * recomputed (a variant the golden model has no form for, a graph of several
 * nodes) fails unless NOT_RUN below lists it with the reason it is not; an
 * entry of NOT_RUN that is recomputed now, or names no case, fails too, so the
 * list cannot go stale.
 */
requireTestdata();

const EXPANDED = 'function-body expansion (a graph of primitive operators, not one node)';

/**
 * Cases of OPS that are not recomputed, by id, each with the reason this test gives (which must
 * match: a case that stops for another reason fails).
 */
const NOT_RUN: Readonly<Record<string, string>> = {
  // DynamicQuantizeLinear written out as its function body (ReduceMin, ReduceMax, Div, Cast,
  // QuantizeLinear, ...): a graph, not the one node recomputed here; the case of the same name
  // without _expanded holds the same data and is recomputed.
  'node/test_dynamicquantizelinear_expanded': EXPANDED,
  'node/test_dynamicquantizelinear_max_adjusted_expanded': EXPANDED,
  'node/test_dynamicquantizelinear_min_adjusted_expanded': EXPANDED,
};

const DT = onnx.TensorProto.DataType;
const OPS = ['ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul', 'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear'] as const;
type Op = (typeof OPS)[number];

/** The integer types that our ranges (qRange) and ONNX's decoder cover. */
const INT_RANGES = new Map<number, QRange>([
  [DT.UINT8, qRange(8, false)],
  [DT.INT8, qRange(8, true)],
  [DT.UINT16, qRange(16, false)],
  [DT.INT16, qRange(16, true)],
]);

/** One single-node case, its node and the element types of every named tensor. */
interface NodeCase {
  tc: TestCase;
  op: Op;
  node: onnx.INodeProto;
  attrs: Attributes;
  /** Graph inputs, outputs and initializers by name. */
  types: Map<string, number>;
  initializers: Map<string, DecodedTensor>;
}

/** A node input or output name ('' where an optional one is left out). */
function nodeIn(c: NodeCase, i: number): string {
  return c.node.input?.[i] ?? '';
}
function nodeOut(c: NodeCase, i: number): string {
  return c.node.output?.[i] ?? '';
}
function typeOf(c: NodeCase, name: string): number | undefined {
  return name === '' ? undefined : c.types.get(name);
}

type DataSet = TestCase['sets'][number];

/** The tensors of one data set by name: the graph inputs in order, then the initializers. */
function tensorsOf(c: NodeCase, set: DataSet): Map<string, DecodedTensor> {
  const m = new Map(c.initializers);
  c.tc.inputs.forEach((inp, i) => m.set(inp.name, set.inputs[i]!));
  return m;
}

function expectedOutput(c: NodeCase, set: DataSet, i: number): DecodedTensor {
  const k = c.tc.outputs.indexOf(nodeOut(c, i));
  if (k < 0) throw new Error(`${c.tc.id}: node output ${i} is not a graph output`);
  return set.outputs[k]!;
}

const count = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const values = (t: DecodedTensor): number[] => Array.from(t.data);

/** Per-element outcome of one case. */
interface Outcome {
  elements: number;
  /** Elements equal to the expected value. */
  exact: number;
  maxDiff: number;
  /** Elements an alternative reference (OpSpec.altLabel) gets exactly: where the differences come from. */
  alt?: number;
}

function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): Outcome {
  expect(actual.length, 'element count').toBe(expected.length);
  let exact = 0;
  let maxDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d === 0) exact++;
    else maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
  }
  return { elements: actual.length, exact, maxDiff };
}

// ---------------------------------------------------------------- convolution

/** Per-tensor (one value) or per-output-channel (M values) parameter, as a function of the channel. */
function perChannel(t: DecodedTensor | undefined, m: number, fallback: number, what: string): (c: number) => number {
  if (!t) return () => fallback;
  const v = values(t);
  if (v.length === 1) return () => v[0]!;
  if (v.length === m && t.dims.length === 1) return (c) => v[c]!;
  throw new Error(`${what}: ${v.length} values for ${m} output channels`);
}

function scalar(t: DecodedTensor | undefined, fallback: number, what: string): number {
  if (!t) return fallback;
  if (t.data.length !== 1) throw new Error(`${what}: expected one value, got shape [${t.dims.join(',')}]`);
  return t.data[0]!;
}

function convSkip(c: NodeCase, x: number, w: number): string | undefined {
  if (c.attrs.has('kernel_shape') && c.attrs.ints('kernel_shape')!.length !== 2) return 'not a 2-D convolution (the golden model is NCHW 2-D)';
  const rank = (c.attrs.ints('strides') ?? c.attrs.ints('dilations') ?? [0, 0]).length;
  if (rank !== 2) return `a ${rank}-D convolution (the golden model is NCHW 2-D)`;
  for (const i of [x, w]) {
    const t = typeOf(c, nodeIn(c, i));
    if (t !== undefined && !INT_RANGES.has(t)) return `input type ${dataTypeName(t)}`;
  }
  return undefined;
}

/**
 * The int32 accumulators of ConvInteger / QLinearConv through intAccumulate:
 * weights w - w_zero_point (per tensor or per output channel), bias as given.
 */
function convAccumulate(c: NodeCase, x: DecodedTensor, w: DecodedTensor, xZero: number, wZero: DecodedTensor | undefined, bias: DecodedTensor | undefined) {
  expect(x.dims.length, 'x is NCHW').toBe(4);
  expect(w.dims.length, 'w is [M, C/group, kH, kW]').toBe(4);
  const m = w.dims[0]!;
  const kernel = count(w.dims.slice(1));
  const zw = perChannel(wZero, m, 0, 'w_zero_point');
  const weights = new Int32Array(w.data.length);
  for (let i = 0; i < weights.length; i++) weights[i] = w.data[i]! - zw(Math.floor(i / kernel));
  const kernelShape = c.attrs.ints('kernel_shape');
  if (kernelShape) expect(kernelShape, 'kernel_shape attribute').toEqual(w.dims.slice(2));
  const pads = c.attrs.ints('pads') ?? [0, 0, 0, 0];
  const layer: ConvLayer = {
    op: 'conv',
    name: c.node.name || c.tc.id,
    inputs: [],
    outputs: [],
    strides: (c.attrs.ints('strides') ?? [1, 1]) as [number, number],
    dilations: (c.attrs.ints('dilations') ?? [1, 1]) as [number, number],
    pads: pads as [number, number, number, number],
    autoPad: c.attrs.string('auto_pad', 'NOTSET') as AutoPad,
    group: c.attrs.int('group', 1),
  };
  const q: Pick<QMatmulLayer, 'kind' | 'layer' | 'weightShape' | 'weights' | 'bias'> = {
    kind: 'conv',
    layer,
    weightShape: w.dims,
    weights,
    bias: bias ? Int32Array.from(values(bias)) : new Int32Array(m),
  };
  const { shape, acc } = intAccumulate(q, { shape: x.dims, data: Float32Array.from(x.data) }, xZero);
  return { shape, acc, m, plane: count(shape.slice(2)) };
}

function runConvInteger(c: NodeCase, set: DataSet): Outcome {
  const t = tensorsOf(c, set);
  const get = (i: number) => t.get(nodeIn(c, i));
  const xZero = scalar(get(2), 0, 'x_zero_point');
  const { shape, acc } = convAccumulate(c, get(0)!, get(1)!, xZero, get(3), undefined);
  const want = expectedOutput(c, set, 0);
  expect(shape, 'output shape').toEqual(want.dims);
  return compare(acc, values(want));
}

/** lo/hi of an integer output type (uint8 where the model does not say). */
function outputRange(c: NodeCase, name: string): QRange {
  const type = typeOf(c, name) ?? DT.UINT8;
  const r = INT_RANGES.get(type);
  if (!r) throw new Error(`output type ${dataTypeName(type)}`);
  return r;
}

function requantizeAll(acc: Float64Array, multiplier: (i: number) => number, yZero: number, range: QRange, want: number[]): Outcome {
  const out = new Float64Array(acc.length);
  const single = new Float64Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const a = acc[i]!;
    expect(a >= INT32_MIN && a <= INT32_MAX, `accumulator ${i} (${a}) fits int32`).toBe(true);
    const mult = multiplier(i);
    const { m0, shift } = quantizeMultiplier(mult);
    out[i] = requantize(a, m0, shift, yZero, range.lo, range.hi);
    single[i] = Math.min(Math.max(roundHalfEven(a * mult) + yZero, range.lo), range.hi);
  }
  const o = compare(out, want);
  return { ...o, alt: compare(single, want).exact };
}

function runQLinearConv(c: NodeCase, set: DataSet): Outcome {
  const t = tensorsOf(c, set);
  const get = (i: number) => t.get(nodeIn(c, i));
  const [x, xScale, xZero, w, wScale, wZero, yScale, yZero, bias] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(get);
  const { shape, acc, m, plane } = convAccumulate(c, x!, w!, scalar(xZero, 0, 'x_zero_point'), wZero, bias);
  const want = expectedOutput(c, set, 0);
  expect(shape, 'output shape').toEqual(want.dims);
  const sx = scalar(xScale, NaN, 'x_scale');
  const sy = scalar(yScale, NaN, 'y_scale');
  const sw = perChannel(wScale, m, NaN, 'w_scale');
  const range = outputRange(c, nodeOut(c, 0));
  return requantizeAll(acc, (i) => (sx * sw(Math.floor(i / plane) % m)) / sy, scalar(yZero, 0, 'y_zero_point'), range, values(want));
}

// ------------------------------------------------------------------ matmul

/**
 * A zero point or scale of MatMulInteger / QLinearMatMul: one value, or one per
 * row of A (`rows`) / per column of B (`cols`) shared by every batch.
 * Anything else (per-batch parameters) is not handled and is a skip reason.
 */
function perIndex(t: DecodedTensor | undefined, n: number, fallback: number, what: string): ((i: number) => number) | string {
  if (!t) return () => fallback;
  const v = values(t);
  if (v.length === 1) return () => v[0]!;
  if (v.length === n) return (i) => v[i]!;
  return `${what} of shape [${t.dims.join(',')}] (per-batch parameters)`;
}

/** numpy broadcasting of the batch dimensions; a string says why not. */
function broadcastShape(a: number[], b: number[]): number[] | string {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return `batch dimensions [${a.join(',')}] and [${b.join(',')}] do not broadcast`;
    out.push(Math.max(da, db));
  }
  return out;
}

/** Offset of batch `index` (row-major over `shape`) in a tensor whose batch dims are `own`, broadcast to `shape`. */
function batchOffset(index: number, shape: number[], own: number[], matrix: number): number {
  let off = 0;
  let stride = matrix;
  for (let i = shape.length - 1, j = own.length - 1; i >= 0; i--, j--) {
    const coord = index % shape[i]!;
    index = Math.floor(index / shape[i]!);
    if (j >= 0) {
      if (own[j]! !== 1) off += coord * stride;
      stride *= own[j]!;
    }
  }
  return off;
}

interface MatmulResult {
  shape: number[];
  acc: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Y = (A - a_zero_point) (B - b_zero_point) through intAccumulate's dense path:
 * per batch matrix, weights [N, K] = B^T - b_zero_point[n], and the rows of A
 * as the input (one call per row where A's zero point is per row).
 * 1-D operands follow numpy.matmul (promoted, the axis dropped afterwards).
 */
function matmulAccumulate(aT: DecodedTensor, bT: DecodedTensor, aZeroT: DecodedTensor | undefined, bZeroT: DecodedTensor | undefined): MatmulResult | string {
  const aDims = aT.dims.length === 1 ? [1, aT.dims[0]!] : aT.dims;
  const bDims = bT.dims.length === 1 ? [bT.dims[0]!, 1] : bT.dims;
  const [mRows, k] = aDims.slice(-2) as [number, number];
  const [kb, n] = bDims.slice(-2) as [number, number];
  expect(kb, 'inner dimensions agree').toBe(k);
  const batch = broadcastShape(aDims.slice(0, -2), bDims.slice(0, -2));
  if (typeof batch === 'string') return batch;
  const aZero = perIndex(aZeroT, mRows, 0, 'a_zero_point');
  const bZero = perIndex(bZeroT, n, 0, 'b_zero_point');
  if (typeof aZero === 'string') return aZero;
  if (typeof bZero === 'string') return bZero;
  const perRow = aZeroT !== undefined && aZeroT.data.length > 1;
  const batches = count(batch);
  const acc = new Float64Array(batches * mRows * n);
  const dense: DenseLayer = { op: 'dense', name: 'matmul', inputs: [], outputs: [] };
  for (let bi = 0; bi < batches; bi++) {
    const aOff = batchOffset(bi, batch, aDims.slice(0, -2), mRows * k);
    const bOff = batchOffset(bi, batch, bDims.slice(0, -2), k * n);
    const weights = new Int32Array(n * k);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) weights[j * k + p] = bT.data[bOff + p * n + j]! - bZero(j);
    const q: Pick<QMatmulLayer, 'kind' | 'layer' | 'weightShape' | 'weights' | 'bias'> = {
      kind: 'dense', layer: dense, weightShape: [n, k], weights, bias: new Int32Array(n),
    };
    const a = Float32Array.from({ length: mRows * k }, (_, i) => aT.data[aOff + i]!);
    const runs = perRow ? Array.from({ length: mRows }, (_, r) => r) : [-1];
    for (const r of runs) {
      const x = r < 0 ? a : a.subarray(r * k, (r + 1) * k);
      const res = intAccumulate(q, { shape: [x.length / k, k], data: x }, aZero(Math.max(r, 0)));
      expect(res.shape).toEqual([x.length / k, n]);
      acc.set(res.acc, bi * mRows * n + Math.max(r, 0) * n);
    }
  }
  const shape = [...batch, ...(aT.dims.length === 1 ? [] : [mRows]), ...(bT.dims.length === 1 ? [] : [n])];
  return { shape, acc, rows: mRows, cols: n };
}

function matmulSkip(c: NodeCase, inputs: number[]): string | undefined {
  for (const i of inputs) {
    const t = typeOf(c, nodeIn(c, i));
    if (t !== undefined && !INT_RANGES.has(t)) return `input type ${dataTypeName(t)}`;
  }
  return undefined;
}

function runMatMulInteger(c: NodeCase, set: DataSet): Outcome | string {
  const t = tensorsOf(c, set);
  const get = (i: number) => t.get(nodeIn(c, i));
  const r = matmulAccumulate(get(0)!, get(1)!, get(2), get(3));
  if (typeof r === 'string') return r;
  const want = expectedOutput(c, set, 0);
  expect(r.shape, 'output shape').toEqual(want.dims);
  return compare(r.acc, values(want));
}

function runQLinearMatMul(c: NodeCase, set: DataSet): Outcome | string {
  const t = tensorsOf(c, set);
  const get = (i: number) => t.get(nodeIn(c, i));
  const [a, aScale, aZero, b, bScale, bZero, yScale, yZero] = [0, 1, 2, 3, 4, 5, 6, 7].map(get);
  const r = matmulAccumulate(a!, b!, aZero, bZero);
  if (typeof r === 'string') return r;
  const want = expectedOutput(c, set, 0);
  expect(r.shape, 'output shape').toEqual(want.dims);
  const sa = perIndex(aScale, r.rows, NaN, 'a_scale');
  const sb = perIndex(bScale, r.cols, NaN, 'b_scale');
  if (typeof sa === 'string') return sa;
  if (typeof sb === 'string') return sb;
  const sy = scalar(yScale, NaN, 'y_scale');
  const range = outputRange(c, nodeOut(c, 0));
  const mult = (i: number) => (sa(Math.floor(i / r.cols) % r.rows) * sb(i % r.cols)) / sy;
  return requantizeAll(r.acc, mult, scalar(yZero, 0, 'y_zero_point'), range, values(want));
}

// ------------------------------------------------------- quantize / dequantize

/** Scale or zero point of (De)QuantizeLinear: per tensor, or 1-D along `axis`; element i's index into it. */
function axisIndex(c: NodeCase, dims: number[], param: DecodedTensor): (i: number) => number {
  if (param.data.length === 1 && param.dims.length <= 1) return () => 0;
  expect(param.dims.length, 'per-axis parameters are 1-D').toBe(1);
  let axis = c.attrs.int('axis', 1);
  if (axis < 0) axis += dims.length;
  expect(param.dims[0], `parameter length = dimension ${axis}`).toBe(dims[axis]);
  const inner = count(dims.slice(axis + 1));
  return (i) => Math.floor(i / inner) % dims[axis]!;
}

/** ONNX Runtime's QuantizeLinear: the quotient rounded to float32 before the integer rounding (the reference for the report only). */
function quantizeF32(r: number, scale: number, zero: number, range: QRange): number {
  return Math.min(Math.max(roundHalfEven(Math.fround(r / scale)) + zero, range.lo), range.hi);
}

function quantizeSkip(c: NodeCase): string | undefined {
  if (c.attrs.int('block_size', 0) !== 0) return 'blocked quantization (block_size)';
  const yType = typeOf(c, nodeOut(c, 0)) ?? DT.UINT8;
  if (!INT_RANGES.has(yType)) return `output type ${dataTypeName(yType)}`;
  const xType = typeOf(c, nodeIn(c, 0));
  if (xType !== undefined && xType !== DT.FLOAT) return `input type ${dataTypeName(xType)}`;
  return undefined;
}

function runQuantizeLinear(c: NodeCase, set: DataSet): Outcome {
  const t = tensorsOf(c, set);
  const x = t.get(nodeIn(c, 0))!;
  const scale = t.get(nodeIn(c, 1))!;
  const zero = t.get(nodeIn(c, 2));
  const range = outputRange(c, nodeOut(c, 0));
  const si = axisIndex(c, x.dims, scale);
  const zi = zero ? axisIndex(c, x.dims, zero) : () => 0;
  const out = Array.from(x.data, (r, i) => quantizeValue(r, scale.data[si(i)]!, zero ? zero.data[zi(i)]! : 0, range.lo, range.hi));
  const f32 = Array.from(x.data, (r, i) => quantizeF32(r, scale.data[si(i)]!, zero ? zero.data[zi(i)]! : 0, range));
  const want = expectedOutput(c, set, 0);
  expect(x.dims, 'output shape').toEqual(want.dims);
  return { ...compare(out, values(want)), alt: compare(f32, values(want)).exact };
}

function dequantizeSkip(c: NodeCase): string | undefined {
  if (c.attrs.int('block_size', 0) !== 0) return 'blocked quantization (block_size)';
  const xType = typeOf(c, nodeIn(c, 0));
  if (xType !== undefined && !INT_RANGES.has(xType) && xType !== DT.INT32) return `input type ${dataTypeName(xType)}`;
  const yType = typeOf(c, nodeOut(c, 0));
  if (yType !== undefined && yType !== DT.FLOAT) return `output type ${dataTypeName(yType)}`;
  return undefined;
}

function runDequantizeLinear(c: NodeCase, set: DataSet): Outcome {
  const t = tensorsOf(c, set);
  const x = t.get(nodeIn(c, 0))!;
  const scale = t.get(nodeIn(c, 1))!;
  const zero = t.get(nodeIn(c, 2));
  const si = axisIndex(c, x.dims, scale);
  const zi = zero ? axisIndex(c, x.dims, zero) : () => 0;
  // (q - Z) * S is exact in float64 (an integer below 2^32 times a float32); one float32 rounding is ONNX's.
  const out = Array.from(x.data, (q, i) => Math.fround(dequantizeValue(q, scale.data[si(i)]!, zero ? zero.data[zi(i)]! : 0)));
  const want = expectedOutput(c, set, 0);
  expect(x.dims, 'output shape').toEqual(want.dims);
  return compare(out, values(want));
}

function runDynamicQuantizeLinear(c: NodeCase, set: DataSet): Outcome {
  const t = tensorsOf(c, set);
  const x = t.get(nodeIn(c, 0))!;
  const { lo, hi } = qRange(8, false);
  // The spec's formula in float32: the range always includes 0.
  let min = 0;
  let max = 0;
  for (const v of x.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const scale = Math.fround(Math.fround(max - min) / Math.fround(hi - lo));
  expect(scale > 0, 'x is not all zeros').toBe(true);
  // intermediate zero point = qmin - min / scale, rounded half to even and saturated: quantizeValue of -min.
  const zero = quantizeValue(lo - min, scale, 0, lo, hi);
  expect(scale, 'y_scale').toBe(expectedOutput(c, set, 1).data[0]);
  expect(zero, 'y_zero_point').toBe(expectedOutput(c, set, 2).data[0]);
  const out = Array.from(x.data, (r) => quantizeValue(r, scale, zero, lo, hi));
  const f32 = Array.from(x.data, (r) => quantizeF32(r, scale, zero, { lo, hi }));
  const want = expectedOutput(c, set, 0);
  expect(x.dims, 'output shape').toEqual(want.dims);
  return { ...compare(out, values(want)), alt: compare(f32, values(want)).exact };
}

// ------------------------------------------------------------------ the cases

interface OpSpec {
  /** Why a case of this operator is not run (a variant the golden model has no form for), if it is not. */
  unsupported(c: NodeCase): string | undefined;
  run(c: NodeCase, set: DataSet): Outcome | string;
  /** Allowed |ours - expected| per element. */
  tolerance: number;
  /** What Outcome.alt counts, where the run computes it. */
  altLabel?: string;
}

const SPECS: Record<Op, OpSpec> = {
  ConvInteger: { unsupported: (c) => convSkip(c, 0, 1), run: runConvInteger, tolerance: 0 },
  MatMulInteger: { unsupported: (c) => matmulSkip(c, [0, 1]), run: runMatMulInteger, tolerance: 0 },
  QLinearConv: {
    unsupported: (c) => convSkip(c, 0, 3) ?? (INT_RANGES.has(typeOf(c, nodeOut(c, 0)) ?? DT.UINT8) ? undefined : `output type ${dataTypeName(typeOf(c, nodeOut(c, 0))!)}`),
    run: runQLinearConv,
    tolerance: 1,
    altLabel: 'one float64 rounding of acc * M',
  },
  QLinearMatMul: {
    unsupported: (c) => matmulSkip(c, [0, 3]) ?? (INT_RANGES.has(typeOf(c, nodeOut(c, 0)) ?? DT.UINT8) ? undefined : `output type ${dataTypeName(typeOf(c, nodeOut(c, 0))!)}`),
    run: runQLinearMatMul,
    tolerance: 1,
    altLabel: 'one float64 rounding of acc * M',
  },
  QuantizeLinear: { unsupported: quantizeSkip, run: runQuantizeLinear, tolerance: 1, altLabel: 'x / scale in float32' },
  DequantizeLinear: { unsupported: dequantizeSkip, run: runDequantizeLinear, tolerance: 0 },
  DynamicQuantizeLinear: {
    unsupported: (c) => (typeOf(c, nodeIn(c, 0)) ?? DT.FLOAT) === DT.FLOAT ? undefined : `input type ${dataTypeName(typeOf(c, nodeIn(c, 0))!)}`,
    run: runDynamicQuantizeLinear,
    tolerance: 1,
    altLabel: 'x / scale in float32',
  },
};

function nodeCase(tc: TestCase, op: Op): NodeCase {
  const model = onnx.ModelProto.decode(tc.modelBytes);
  const graph = model.graph!;
  const node = graph.node![0]!;
  const types = new Map<string, number>();
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const e = v.type?.tensorType?.elemType;
    if (v.name && e) types.set(v.name, e);
  }
  const initializers = new Map<string, DecodedTensor>();
  for (const init of graph.initializer ?? []) {
    types.set(init.name ?? '', init.dataType ?? 0);
    initializers.set(init.name ?? '', decodeTensor(init, `${tc.id} initializer ${init.name}`));
  }
  return { tc, op, node, attrs: new Attributes(node.name || tc.id, node.attribute), types, initializers };
}

type Entry = { id: string; c: NodeCase } | { id: string; skip: string };

/** Every case in the folder that tests one of OPS: runnable ones and the others with why not. */
function classify(): Map<Op, Entry[]> {
  const byOp = new Map<Op, Entry[]>(OPS.map((op) => [op, []]));
  const cases = listCases('node').map((id) => ({ id, tc: loadCase(id) }));
  const single = new Map<string, Op>();
  const others: Array<{ id: string; tc: TestCase; ops: Op[] }> = [];
  for (const { id, tc } of cases) {
    const ops = tc.opTypes.filter((o): o is Op => (OPS as readonly string[]).includes(o));
    const nodes = onnx.ModelProto.decode(tc.modelBytes).graph?.node?.length ?? 0;
    if (ops.length === 1 && tc.opTypes.length === 1 && nodes === 1) {
      const op = ops[0]!;
      single.set(id, op);
      const c = nodeCase(tc, op);
      const notRun = SPECS[op].unsupported(c) ?? (tc.sets.length === 0 ? 'no test data set' : undefined);
      byOp.get(op)!.push(notRun ? { id, skip: notRun } : { id, c });
    } else {
      others.push({ id, tc, ops });
    }
  }
  for (const { id, tc, ops } of others) {
    // Function-body expansions (DynamicQuantizeLinear as ReduceMin, Div, ..., QuantizeLinear) belong to their operator.
    const base = single.get(id.replace(/_expanded$/, ''));
    if (id.endsWith('_expanded') && base) {
      byOp.get(base)!.push({ id, skip: 'function-body expansion (a graph of primitive operators, not one node)' });
      continue;
    }
    for (const op of ops) byOp.get(op)!.push({ id, skip: `${tc.opTypes.join('+')} graph, not one ${op} node` });
  }
  return byOp;
}

interface Tally {
  cases: number;
  run: number;
  exact: number;
  withinOne: number;
  elements: number;
  differing: number;
  maxDiff: number;
  alt: number;
  skipped: Map<string, number>;
}

const classified = classify();
const tallies = new Map<Op, Tally>();

describe('ONNX quantized operators vs the golden integer primitives', () => {
  for (const op of OPS) {
    const entries = classified.get(op)!;
    const runnable = entries.filter((e): e is { id: string; c: NodeCase } => 'c' in e);
    const tally: Tally = {
      cases: entries.length, run: 0, exact: 0, withinOne: 0, elements: 0, differing: 0, maxDiff: 0, alt: 0,
      skipped: new Map(),
    };
    tallies.set(op, tally);
    for (const e of entries) if ('skip' in e) tally.skipped.set(e.skip, (tally.skipped.get(e.skip) ?? 0) + 1);

    describe(op, () => {
      it('has at least one runnable case', () => {
        expect(runnable.map((e) => e.id), `${op}: ${[...tally.skipped.keys()].join('; ')}`).not.toEqual([]);
      });

      it('recomputes every case, except those in NOT_RUN, which stop for the reason given there', () => {
        const unaccounted = entries
          .filter((e): e is { id: string; skip: string } => 'skip' in e && NOT_RUN[e.id] !== e.skip)
          .map((e) => `${e.id}: ${e.skip}${NOT_RUN[e.id] !== undefined ? ` (NOT_RUN says: ${NOT_RUN[e.id]})` : ' (not in NOT_RUN)'}`);
        expect(unaccounted).toEqual([]);
      });

      it.each(runnable.map((e) => [e.id.replace(/^node\//, ''), e.c] as const))('%s', (_name, c) => {
        const spec = SPECS[op];
        const outcomes: Outcome[] = [];
        for (const set of c.tc.sets) {
          const o = spec.run(c, set);
          if (typeof o === 'string') {
            // A data-dependent variant we have no form for: reported, not counted as run, and a failure unless listed.
            tally.skipped.set(o, (tally.skipped.get(o) ?? 0) + 1);
            expect(NOT_RUN[c.tc.id], `${c.tc.id} is not recomputed (${o}) and NOT_RUN does not list it with that reason`).toBe(o);
            return;
          }
          outcomes.push(o);
        }
        expect(NOT_RUN[c.tc.id], `${c.tc.id} is recomputed now: remove it from NOT_RUN`).toBeUndefined();
        const elements = outcomes.reduce((s, o) => s + o.elements, 0);
        const exact = outcomes.reduce((s, o) => s + o.exact, 0);
        const maxDiff = Math.max(...outcomes.map((o) => o.maxDiff));
        tally.run++;
        tally.elements += elements;
        tally.differing += elements - exact;
        tally.maxDiff = Math.max(tally.maxDiff, maxDiff);
        if (exact === elements) tally.exact++;
        if (maxDiff <= 1) tally.withinOne++;
        for (const o of outcomes) tally.alt += o.alt ?? 0;
        expect(elements, 'elements compared').toBeGreaterThan(0);
        expect(maxDiff, `${c.tc.id}: ${elements - exact} of ${elements} elements differ`).toBeLessThanOrEqual(spec.tolerance);
      });
    });
  }

  it('NOT_RUN names only cases of these operators', () => {
    const known = new Set([...classified.values()].flatMap((entries) => entries.map((e) => e.id)));
    expect(Object.keys(NOT_RUN).filter((id) => !known.has(id)), 'no such case of ' + OPS.join(', ')).toEqual([]);
  });

  afterAll(() => {
    const lines = OPS.map((op) => {
      const t = tallies.get(op)!;
      const skipped = [...t.skipped].map(([r, n]) => `${n} x ${r}`).join('; ');
      const label = SPECS[op].altLabel;
      const alt = label ? `; ${label}: exact ${t.alt}/${t.elements}` : '';
      return (
        `  ${op}: cases ${t.cases}, run ${t.run}, exact ${t.exact}, within one step ${t.withinOne}, ` +
        `elements ${t.elements} (${t.differing} differ, max |diff| ${t.maxDiff}${alt}), ` +
        `skipped ${t.cases - t.run}${skipped ? ` (${skipped})` : ''}`
      );
    });
    console.log(`[onnx-quantized-ops] ONNX node cases recomputed with the golden integer primitives\n${lines.join('\n')}`);
  });
});
