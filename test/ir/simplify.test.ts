import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { buildModel, randomArray, type ModelSpec } from '../helpers/onnx-builder.js';

/** Each pass changes the graph as intended and keeps its outputs (float tolerance 1e-5 of the output range). */

const scalar = (v: number): { dims: number[]; data: number[] } => ({ dims: [], data: [v] });

function expectSameOutputs(a: Graph, b: Graph, shape: number[]): void {
  const x = { shape, data: randomArray(shape.reduce((p, q) => p * q, 1), 7).map((v) => v * 4) };
  const ra = runGraph(a, { x });
  const rb = runGraph(b, { x });
  for (const o of a.outputs) {
    const p = ra[o.name]!;
    const q = rb[o.name]!;
    expect(q.shape).toEqual(p.shape);
    const range = Math.max(...p.data.map(Math.abs), 1e-6);
    p.data.forEach((v, i) => expect(Math.abs(v - q.data[i]!) / range).toBeLessThan(1e-5));
  }
}

function check(spec: ModelSpec, shape: number[], expectOps: string[]): Graph {
  const raw = importOnnx(buildModel(spec));
  const simple = simplify(raw);
  expect(simple.layers.map((l) => ('activation' in l && l.activation ? `${l.op}+${l.activation.kind}` : l.op === 'activation' ? l.fn.kind : l.op))).toEqual(expectOps);
  expectSameOutputs(raw, simple, shape);
  return simple;
}

const convInit = {
  W: { dims: [4, 3, 3, 3], data: randomArray(108, 1) },
  B: { dims: [4], data: randomArray(4, 2) },
  gamma: { dims: [4], data: randomArray(4, 3).map((v) => 1 + v / 2) },
  beta: { dims: [4], data: randomArray(4, 4) },
  mean: { dims: [4], data: randomArray(4, 5) },
  var: { dims: [4], data: randomArray(4, 6).map((v) => 1 + v / 2) },
};

describe('simplification passes', () => {
  it('folds BatchNorm into the Conv before it and fuses the ReLU', () => {
    check(
      {
        inputs: [{ name: 'x', shape: ['N', 3, 9, 9] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { op: 'BatchNormalization', inputs: ['c', 'gamma', 'beta', 'mean', 'var'], outputs: ['b'], attrs: { epsilon: { float: 1e-3 } } },
          { op: 'Relu', inputs: ['b'], outputs: ['y'] },
        ],
        initializers: convInit,
      },
      [2, 3, 9, 9],
      ['conv+relu'],
    );
  });

  it('keeps a BatchNorm whose Conv output has a second reader', () => {
    check(
      {
        inputs: [{ name: 'x', shape: ['N', 3, 5, 5] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { op: 'BatchNormalization', inputs: ['c', 'gamma', 'beta', 'mean', 'var'], outputs: ['b'] },
          { op: 'Add', inputs: ['b', 'c'], outputs: ['y'] },
        ],
        initializers: convInit,
      },
      [1, 3, 5, 5],
      ['conv', 'batchNorm', 'add'],
    );
  });

  it('folds a zero Pad of the spatial axes into the Conv after it, and keeps the Pads it must not fold', () => {
    const padded = (pads: number[], value: number, convAttrs: Record<string, unknown>): ModelSpec => ({
      inputs: [{ name: 'x', shape: ['N', 3 - pads[1]! - pads[5]!, 6, 7] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads', 'value'], outputs: ['p'], attrs: { mode: 'constant' } },
        { op: 'Conv', inputs: ['p', 'W', 'B'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ...convAttrs } },
      ],
      initializers: { W: convInit.W, B: convInit.B, pads: { dims: [8], data: pads, int64: true }, value: scalar(value) },
    });
    // Keras' ZeroPadding2D((0, 1), (0, 1)) before a VALID stride-2 Conv, and before one with pads of its own.
    const folded = check(padded([0, 0, 0, 0, 0, 0, 1, 1], 0, {}), [2, 3, 6, 7], ['conv']);
    expect(folded.layers[0]).toMatchObject({ pads: [0, 0, 1, 1], autoPad: 'NOTSET', inputs: ['x', 'W', 'B'] });
    expect(check(padded([0, 0, 2, 1, 0, 0, 0, 3], 0, { pads: [1, 1, 1, 1] }), [1, 3, 6, 7], ['conv']).layers[0]).toMatchObject({ pads: [3, 2, 1, 4] });
    check(padded([0, 0, 0, 0, 0, 0, 1, 1], 0.5, {}), [1, 3, 6, 7], ['pad', 'conv']);
    check(padded([0, 1, 0, 0, 0, 0, 1, 1], 0, {}), [1, 2, 6, 7], ['pad', 'conv']);
    check(padded([0, 0, 1, 1, 0, 0, 1, 1], 0, { auto_pad: 'SAME_UPPER' }), [1, 3, 6, 7], ['pad', 'conv']);
  });

  it('recognises x * relu6(x + 3) / 6 as HardSwish (opset 11 Clip with inputs)', () => {
    check(
      {
        opset: 13,
        inputs: [{ name: 'x', shape: ['N', 3, 4, 4] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { op: 'Add', inputs: ['c', 'three'], outputs: ['a'] },
          { op: 'Clip', inputs: ['a', 'zero', 'six'], outputs: ['r'] },
          { op: 'Mul', inputs: ['c', 'r'], outputs: ['m'] },
          { op: 'Div', inputs: ['m', 'sixd'], outputs: ['y'] },
        ],
        initializers: { W: convInit.W, three: scalar(3), zero: scalar(0), six: scalar(6), sixd: scalar(6) },
      },
      [2, 3, 4, 4],
      ['conv+hardSwish'],
    );
  });

  it('recognises relu6(x + 3) / 6 as HardSigmoid and x * hardSigmoid(x) as HardSwish', () => {
    check(
      {
        opset: 13,
        inputs: [{ name: 'x', shape: ['N', 3, 4, 4] }],
        outputs: [{ name: 'y' }, { name: 'z' }],
        nodes: [
          { op: 'Add', inputs: ['x', 'three'], outputs: ['a'] },
          { op: 'Clip', inputs: ['a', 'zero', 'six'], outputs: ['r'] },
          { op: 'Div', inputs: ['r', 'six'], outputs: ['y'] },
          { op: 'HardSigmoid', inputs: ['x'], outputs: ['h'], attrs: { alpha: { float: 1 / 6 }, beta: { float: 0.5 } } },
          { op: 'Mul', inputs: ['x', 'h'], outputs: ['z'] },
        ],
        initializers: { three: scalar(3), zero: scalar(0), six: scalar(6) },
      },
      [2, 3, 4, 4],
      ['hardSigmoid', 'hardSwish'],
    );
  });

  it('folds the shape arithmetic of view(x.size(0), -1) with a symbolic batch', () => {
    const g = check(
      {
        inputs: [{ name: 'x', shape: ['batch', 3, 4, 4] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['s'] },
          { op: 'Gather', inputs: ['s', 'zeroIdx'], outputs: ['n'], attrs: { axis: 0 } },
          { op: 'Unsqueeze', inputs: ['n', 'axes0'], outputs: ['n1'] },
          { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
          { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
        ],
        initializers: {
          zeroIdx: { dims: [], data: [0], int64: true },
          axes0: { dims: [1], data: [0], int64: true },
          minus1: { dims: [1], data: [-1], int64: true },
        },
      },
      [5, 3, 4, 4],
      ['reshape'],
    );
    expect(g.outputs[0]!.shape).toEqual(['batch', 48]);
  });
});
