/**
 * ConvInteger and MatMulInteger with their rescale (Cast to float, Mul by a
 * constant scale S), their input made by a QuantizeLinear of scale S_x, read
 * as the QDQ form they mean: the same integer layer (weights, bias, scales,
 * multipliers) and the same golden outputs as the QDQ file with weights
 * dequantized by S / S_x. Without the rescale they are refused, named.
 * Likewise com.microsoft's QLinearAdd and its QDQ form, and uint8 weights
 * with zero point 128 and the int8 weights q - 128 they stand for.
 */
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../../src/cpu/golden/golden-executor.js';
import { UnsupportedOperatorError } from '../../../src/errors.js';
import { decodeModelProto } from '../../../src/import/onnx/model-proto.js';
import { onnx } from '../../../src/import/onnx/proto.js';
import { importQuantizedOnnx } from '../../../src/import/onnx/quantized/import-quantized.js';
import type { QMatmulLayer } from '../../../src/quant/quantized-graph.js';
import { buildModel, randomArray, type ModelSpec, type NodeSpec } from '../../helpers/onnx-builder.js';
import { mulberry32 } from '../../helpers/random.js';

const DT = onnx.TensorProto.DataType;
const SX = 0.02;
const SY = 0.05;

interface Case {
  op: 'ConvInteger' | 'MatMulInteger';
  input: number[];
  weights: { dims: number[] };
  /** Per output channel: the rescale's shape. */
  scaleDims: number[];
  attrs?: NodeSpec['attrs'];
}

const CASES: Case[] = [
  { op: 'ConvInteger', input: [2, 2, 6, 6], weights: { dims: [3, 2, 3, 3] }, scaleDims: [1, 3, 1, 1], attrs: { pads: [1, 1, 1, 1] } },
  { op: 'MatMulInteger', input: [2, 5], weights: { dims: [5, 4] }, scaleDims: [4] },
];

/** The two forms of one layer followed by ReLU and a QuantizeLinear/DequantizeLinear pair. */
function models(c: Case): { integer: Uint8Array; qdq: Uint8Array; x: Float32Array } {
  const rnd = mulberry32(3);
  const count = c.weights.dims.reduce((a, b) => a * b, 1);
  const w = Array.from({ length: count }, () => Math.round(rnd() * 254) - 127);
  const m = c.scaleDims.reduce((a, b) => a * b, 1);
  const s = Float32Array.from({ length: m }, () => Math.fround(SX * (0.001 + 0.01 * rnd())));
  const common = {
    xs: { dims: [], data: [SX] },
    xz: { dims: [], data: [128], type: DT.UINT8 },
    ys: { dims: [], data: [SY] },
    yz: { dims: [], data: [0], type: DT.UINT8 },
    w: { dims: c.weights.dims, data: w, type: DT.INT8 },
  };
  const tail: NodeSpec[] = [
    { op: 'Relu', inputs: ['acc_scaled'], outputs: ['r'] },
    { op: 'QuantizeLinear', inputs: ['r', 'ys', 'yz'], outputs: ['rq'] },
    { op: 'DequantizeLinear', inputs: ['rq', 'ys', 'yz'], outputs: ['y'] },
  ];
  const io = { inputs: [{ name: 'x', shape: c.input }], outputs: [{ name: 'y' }] };
  const integer: ModelSpec = {
    ...io,
    initializers: { ...common, s: { dims: c.scaleDims, data: s } },
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: c.op, inputs: ['xq', 'w', 'xz'], outputs: ['acc'], ...(c.attrs ? { attrs: c.attrs } : {}) },
      { op: 'Cast', inputs: ['acc'], outputs: ['acc_float'], attrs: { to: DT.FLOAT } },
      { op: 'Mul', inputs: ['acc_float', 's'], outputs: ['acc_scaled'] },
      ...tail,
    ],
  };
  const floatOp = c.op === 'ConvInteger' ? 'Conv' : 'MatMul';
  const qdq: ModelSpec = {
    ...io,
    initializers: { ...common, ws: { dims: [m], data: Float32Array.from(s, (v) => Math.fround(v / Math.fround(SX))) }, wz: { dims: [m], data: new Array<number>(m).fill(0), type: DT.INT8 } },
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { op: 'DequantizeLinear', inputs: ['w', 'ws', 'wz'], outputs: ['wd'], attrs: { axis: c.op === 'ConvInteger' ? 0 : 1 } },
      { op: floatOp, inputs: ['xd', 'wd'], outputs: ['acc_scaled'], ...(c.attrs ? { attrs: c.attrs } : {}) },
      ...tail,
    ],
  };
  const n = c.input.reduce((a, b) => a * b, 1);
  return { integer: buildModel(integer), qdq: buildModel(qdq), x: randomArray(n, 5).map((v) => 2 * v) };
}

describe('ConvInteger and MatMulInteger with their rescale', () => {
  for (const c of CASES) {
    it(`${c.op}: the integer layer and the golden outputs of its QDQ form`, () => {
      const { integer, qdq, x } = models(c);
      const a = importQuantizedOnnx(decodeModelProto(integer)).quantized;
      const b = importQuantizedOnnx(decodeModelProto(qdq)).quantized;
      const layer = (q: typeof a): QMatmulLayer => q.layers.find((l): l is QMatmulLayer => l.kind === 'conv' || l.kind === 'dense')!;
      expect(a.layers.filter((l) => l.kind === 'float')).toEqual([]);
      for (const k of ['weights', 'weightScales', 'bias'] as const) expect(layer(a)[k], k).toEqual(layer(b)[k]);
      expect(layer(a).requant).toEqual(layer(b).requant);
      const input = { x: { shape: c.input, data: x } };
      expect(runQuantized(a, input).integers.y).toEqual(runQuantized(b, input).integers.y);
    });
  }

  it('refuses ConvInteger whose accumulator is not rescaled, naming the node', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 1, 4, 4] }],
      outputs: [{ name: 'y' }],
      initializers: { xs: { dims: [], data: [SX] }, xz: { dims: [], data: [128], type: DT.UINT8 }, w: { dims: [1, 1, 1, 1], data: [3], type: DT.INT8 } },
      nodes: [
        { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
        { name: 'the_conv', op: 'ConvInteger', inputs: ['xq', 'w', 'xz'], outputs: ['acc'] },
        { op: 'Cast', inputs: ['acc'], outputs: ['y'], attrs: { to: DT.FLOAT } },
      ],
    });
    const run = (): unknown => importQuantizedOnnx(decodeModelProto(bytes));
    expect(run).toThrow(UnsupportedOperatorError);
    expect(run).toThrow(/^node 'the_conv': operator ConvInteger is not supported here: its accumulator is not multiplied by a constant scale/);
  });
});

describe('other forms that mean the same integer layers', () => {
  const x = { x: { shape: [2, 3, 4, 4], data: randomArray(96, 7).map((v) => 3 * v) } };
  const params = { sa: { dims: [], data: [SX] }, za: { dims: [], data: [120], type: DT.UINT8 }, sc: { dims: [], data: [SY] }, zc: { dims: [], data: [100], type: DT.UINT8 } };
  const io = { inputs: [{ name: 'x', shape: [2, 3, 4, 4] }], outputs: [{ name: 'y' }] };
  const quantizeX: NodeSpec = { op: 'QuantizeLinear', inputs: ['x', 'sa', 'za'], outputs: ['xq'] };
  const output: NodeSpec[] = [
    { op: 'QuantizeLinear', inputs: ['s', 'sc', 'zc'], outputs: ['sq'] },
    { op: 'DequantizeLinear', inputs: ['sq', 'sc', 'zc'], outputs: ['y'] },
  ];

  it("com.microsoft's QLinearAdd: the Add of its QDQ form", () => {
    const model = decodeModelProto(buildModel({ ...io, initializers: params, nodes: [quantizeX, { op: 'QLinearAdd', inputs: ['xq', 'sa', 'za', 'xq', 'sa', 'za', 'sc', 'zc'], outputs: ['sq'] }, output[1]!] }));
    model.graph!.node!.find((n) => n.opType === 'QLinearAdd')!.domain = 'com.microsoft';
    const a = importQuantizedOnnx(model).quantized;
    const b = importQuantizedOnnx(decodeModelProto(buildModel({
      ...io,
      initializers: params,
      nodes: [quantizeX, { op: 'DequantizeLinear', inputs: ['xq', 'sa', 'za'], outputs: ['xd'] }, { op: 'Add', inputs: ['xd', 'xd'], outputs: ['s'] }, ...output],
    }))).quantized;
    const add = (q: typeof a) => q.layers.find((l) => l.kind === 'add')!;
    expect(add(a)).toMatchObject({ kind: 'add', leftShift: 20 });
    expect(add(a)).toEqual({ ...add(b), name: add(a).name, inputs: add(a).inputs, outputs: add(a).outputs });
    expect(runQuantized(a, x).integers.y).toEqual(runQuantized(b, x).integers.y);
  });

  it('uint8 weights with zero point 128: the int8 weights q - 128, said in the notes', () => {
    const rnd = mulberry32(11);
    const q = Array.from({ length: 4 * 3 * 3 * 3 }, () => Math.floor(rnd() * 256));
    const conv = (w: { data: number[]; type: number }, zero: number): Uint8Array => buildModel({
      ...io,
      initializers: { ...params, w: { dims: [4, 3, 3, 3], ...w }, ws: { dims: [4], data: [0.01, 0.02, 0.015, 0.03] }, wz: { dims: [4], data: [zero, zero, zero, zero], type: w.type } },
      nodes: [
        quantizeX,
        { op: 'DequantizeLinear', inputs: ['xq', 'sa', 'za'], outputs: ['xd'] },
        { op: 'DequantizeLinear', inputs: ['w', 'ws', 'wz'], outputs: ['wd'], attrs: { axis: 0 } },
        { op: 'Conv', inputs: ['xd', 'wd'], outputs: ['s'], attrs: { pads: [1, 1, 1, 1] } },
        ...output,
      ],
    });
    const unsigned = importQuantizedOnnx(decodeModelProto(conv({ data: q, type: DT.UINT8 }, 128)));
    const signed = importQuantizedOnnx(decodeModelProto(conv({ data: q.map((v) => v - 128), type: DT.INT8 }, 0)));
    const layer = (i: typeof unsigned): QMatmulLayer => i.quantized.layers.find((l): l is QMatmulLayer => l.kind === 'conv')!;
    expect(layer(unsigned).weights).toEqual(layer(signed).weights);
    expect(layer(unsigned).weights).toEqual(Int32Array.from(q, (v) => v - 128));
    expect(unsigned.notes.some((n) => n.startsWith('weight zero points folded into the codes'))).toBe(true);
    expect(runQuantized(unsigned.quantized, x).integers.y).toEqual(runQuantized(signed.quantized, x).integers.y);
  });
});
