/**
 * The float32 kernels through the runtime on both runners, one layer at a
 * time, against the CPU float executor (the reference of every stage): every
 * convolution geometry the tile logic distinguishes (channel blocks of 4 or 1,
 * columns along a row or across the batch, padding, stride, dilation,
 * groups), dense, pools, broadcasting arithmetic, activations, concat along
 * each axis, softmax. Constants stand in for second operands, so the
 * constant-tensor path is exercised too.
 */
import { expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import type { Constant, Graph } from '../../src/ir/graph.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';
import type { Activation, ConvLayer, Layer } from '../../src/ir/layers.js';
import { planFloatConv } from '../../src/gpu/ops/float-conv.js';
import { mulberry32 } from '../helpers/random.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';

type LayerSpec = Omit<Layer, 'name' | 'inputs' | 'outputs'> & { op: Layer['op'] };

interface Case {
  readonly name: string;
  readonly input: number[];
  readonly layer: LayerSpec;
  /** Constants after the input, in the layer's input order. */
  readonly constants?: number[][];
}

const window = (k: number, s = 1, p = 0, d = 1) => ({ strides: [s, s] as [number, number], dilations: [d, d] as [number, number], pads: [p, p, p, p] as [number, number, number, number], autoPad: 'NOTSET' as const, kernelSize: k });
const conv = (cIn: number, m: number, k: number, group = 1, s = 1, p = 0, d = 1, activation?: Activation): Pick<Case, 'layer' | 'constants'> => {
  const { kernelSize, ...w } = window(k, s, p, d);
  return { layer: { op: 'conv', group, ...w, ...(activation ? { activation } : {}) } as LayerSpec, constants: [[m, cIn / group, kernelSize, kernelSize], [m]] };
};
const pool = (op: 'maxPool' | 'avgPool', k: number, s: number, p: number, extra: { ceilMode?: boolean; countIncludePad?: boolean } = {}): LayerSpec => {
  const { kernelSize, ...w } = window(k, s, p);
  return { op, kernel: [kernelSize, kernelSize], ceilMode: extra.ceilMode ?? false, countIncludePad: extra.countIncludePad ?? false, ...w } as LayerSpec;
};

const CASES: Case[] = [
  { name: 'conv 3x3 pad 1, 3->5 (a partial channel block), batch 2', input: [2, 3, 5, 7], ...conv(3, 5, 3, 1, 1, 1) },
  { name: 'conv 3x3 stride 2 dilation 2 pad 2, 4->8, ReLU6', input: [1, 4, 9, 8], ...conv(4, 8, 3, 1, 2, 2, 2, { kind: 'clip', min: 0, max: 6 }) },
  { name: 'conv 2 groups of 2 outputs (blocks of 1), leaky ReLU', input: [1, 6, 5, 5], ...conv(6, 4, 3, 2, 1, 1, 1, { kind: 'leakyRelu', alpha: 0.1 }) },
  { name: 'conv 2 groups of 4 outputs (blocks of 4), sigmoid', input: [1, 6, 5, 5], ...conv(6, 8, 3, 2, 1, 1, 1, { kind: 'sigmoid' }) },
  { name: 'depthwise 3x3 stride 2, 6 channels, HardSwish', input: [2, 6, 7, 7], ...conv(6, 6, 3, 6, 2, 1, 1, { kind: 'hardSwish' }) },
  { name: 'conv 1x1 pointwise, 5->6, rows of 7 (the last block of a row reads past it), batch 2, ReLU', input: [2, 5, 3, 7], ...conv(5, 6, 1, 1, 1, 0, 1, { kind: 'relu' }) },
  { name: 'conv 1x1 pointwise, 2 groups of 3 outputs (blocks of 1)', input: [1, 6, 4, 5], ...conv(6, 6, 1, 2) },
  { name: 'conv 1x1 pointwise, 2 groups of 4 outputs (blocks of 4 inside a group)', input: [2, 8, 3, 6], ...conv(8, 8, 1, 2) },
  { name: 'conv 1x1 stride 2 (not pointwise)', input: [1, 4, 5, 5], ...conv(4, 8, 1, 1, 2) },
  { name: 'conv 1x1 pad 1 (not pointwise)', input: [1, 4, 3, 3], ...conv(4, 4, 1, 1, 1, 1) },
  { name: 'conv to a 1x1 output through padding, batch 5 (columns across the batch)', input: [5, 3, 1, 1], ...conv(3, 6, 3, 1, 1, 1, 1, { kind: 'hardSigmoid', alpha: 0.2, beta: 0.5 }) },
  { name: 'dense 7 -> 3, batch 5, ReLU', input: [5, 7], layer: { op: 'dense', activation: { kind: 'relu' } } as LayerSpec, constants: [[3, 7], [3]] },
  { name: 'maxPool 3x3 stride 2 pad 1, ceil mode', input: [2, 3, 8, 7], layer: pool('maxPool', 3, 2, 1, { ceilMode: true }) },
  { name: 'avgPool 3x3 stride 2 pad 1, padding counted', input: [1, 3, 7, 7], layer: pool('avgPool', 3, 2, 1, { countIncludePad: true }) },
  { name: 'avgPool 2x2 stride 1 pad 1, padding not counted', input: [1, 2, 5, 4], layer: pool('avgPool', 2, 1, 1) },
  { name: 'globalAvgPool', input: [3, 5, 4, 6], layer: { op: 'globalAvgPool' } as LayerSpec },
  { name: 'globalMaxPool', input: [2, 5, 3, 3], layer: { op: 'globalMaxPool' } as LayerSpec },
  { name: 'add [2,3,4,5] + [1,3,1,1], ReLU', input: [2, 3, 4, 5], layer: { op: 'add', activation: { kind: 'relu' } } as LayerSpec, constants: [[1, 3, 1, 1]] },
  { name: 'mul [2,3,4,5] * [5] (lower rank)', input: [2, 3, 4, 5], layer: { op: 'mul' } as LayerSpec, constants: [[5]] },
  { name: 'sub [2,6] - [2,1]', input: [2, 6], layer: { op: 'sub' } as LayerSpec, constants: [[2, 1]] },
  { name: 'div [3,4,2] / [1,4,1]', input: [3, 4, 2], layer: { op: 'div' } as LayerSpec, constants: [[1, 4, 1]] },
  { name: 'activation layer: HardSwish', input: [2, 3, 4, 4], layer: { op: 'activation', fn: { kind: 'hardSwish' } } as LayerSpec },
  { name: 'concat along channels, 3 inputs', input: [2, 3, 4, 5], layer: { op: 'concat', axis: 1 } as LayerSpec, constants: [[2, 1, 4, 5], [2, 6, 4, 5]] },
  { name: 'concat along the last axis', input: [2, 3, 4, 5], layer: { op: 'concat', axis: -1 } as LayerSpec, constants: [[2, 3, 4, 2]] },
  { name: 'concat along the batch', input: [2, 3, 2, 2], layer: { op: 'concat', axis: 0 } as LayerSpec, constants: [[1, 3, 2, 2]] },
  { name: 'softmax over classes', input: [3, 10], layer: { op: 'softmax', axis: 1, coerce2d: false } as LayerSpec },
  { name: 'softmax over a middle axis', input: [2, 5, 3], layer: { op: 'softmax', axis: 1, coerce2d: false } as LayerSpec },
  { name: 'softmax coerced to 2-D (opset < 13)', input: [2, 3, 4], layer: { op: 'softmax', axis: 1, coerce2d: true } as LayerSpec },
];

function build(c: Case, seed: number): { graph: Graph; x: Tensor } {
  const next = mulberry32(seed);
  const data = (shape: number[]): Float32Array => Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => 2 * next() - 1);
  const constants = new Map<string, Constant>();
  const names = (c.constants ?? []).map((shape, i) => {
    const name = `c${i}`;
    constants.set(name, { shape, data: data(shape) });
    return name;
  });
  const layer = { ...c.layer, name: c.name, inputs: ['x', ...names], outputs: ['y'] } as Layer;
  const graph: Graph = { name: c.name, inputs: [{ name: 'x', shape: c.input }], outputs: [{ name: 'y', shape: [] }], layers: [layer], constants, shapes: new Map() };
  inferGraphShapes(graph);
  graph.outputs[0]!.shape = graph.shapes.get('y')!;
  return { graph, x: { shape: c.input, data: data(c.input) } };
}

describeOnHosts((host) => {
  const runner = () => host().runner;
  CASES.forEach((c, i) => {
    it(`${c.name} matches the CPU float executor`, async () => {
      const { graph, x } = build(c, 100 + i);
      const want = runGraph(graph, { x }).y!;
      const session = await runner().createSession(graph);
      const got = (await session.run(x)).outputs.y!;
      await session.dispose();
      expect(got.shape).toEqual(want.shape);
      let worst = 0;
      let scale = 0;
      want.data.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - got.data[j]!));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(worst / scale, `max |gpu - cpu| / max |cpu|`).toBeLessThan(1e-5);
    });
  });
}, { title: 'float32 kernels' });

it('takes the pointwise form of the float kernel exactly for 1x1 windows at stride 1 without padding over spatial columns', () => {
  const pointwise = (c: Case): boolean => {
    const { graph } = build(c, 1);
    const layer = graph.layers[0] as ConvLayer;
    const w = graph.constants.get('c0')!;
    return planFloatConv(layer, c.input, { shape: w.shape, data: w.data as Float32Array }, undefined, 65535).variant.pointwise;
  };
  const byName = (part: string): Case => CASES.find((c) => c.name.includes(part))!;
  expect(pointwise(byName('pointwise, 5->6'))).toBe(true);
  expect(pointwise(byName('pointwise, 2 groups'))).toBe(true);
  expect(pointwise(byName('1x1 stride 2'))).toBe(false);
  expect(pointwise(byName('1x1 pad 1'))).toBe(false);
  expect(pointwise(byName('conv 3x3 pad 1'))).toBe(false);
  expect(pointwise(byName('1x1 output through padding')), 'columns across the batch').toBe(false);
  const base = byName('pointwise, 5->6');
  const variant = (layer: Partial<ConvLayer>): Case => ({ ...base, layer: { ...base.layer, ...layer } as LayerSpec });
  expect(pointwise(variant({ dilations: [2, 2] })), 'dilation means nothing to a 1x1 window').toBe(true);
  expect(pointwise(variant({ autoPad: 'SAME_UPPER' })), 'SAME with a 1x1 window pads nothing').toBe(true);
  expect(pointwise(variant({ pads: [0, 0, 1, 1] })), 'padding at the bottom and right only').toBe(false);
});
