/**
 * The smallest model that still runs the integer path end to end: a 3x3
 * convolution (1 to 4 channels, ReLU) and a 1x1 one (4 to 3), on 8x8 inputs,
 * weights seeded, quantized at w8a8 on seeded inputs. Tests that care about
 * the runtime around the kernels (faults, soak, limits) use it, so that they
 * take seconds on SwiftShader.
 */
import type { Tensor } from '../../src/cpu/tensor.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';
import type { Graph } from '../../src/ir/graph.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { mulberry32 } from './random.js';

export const TINY_SIZE = 8;

/** `batch` seeded images of the tiny model's input shape. */
export function tinyInput(batch: number, seed = 1): Tensor {
  const rnd = mulberry32(seed);
  return { shape: [batch, 1, TINY_SIZE, TINY_SIZE], data: Float32Array.from({ length: batch * TINY_SIZE * TINY_SIZE }, () => rnd() * 2 - 1) };
}

export function tinyGraph(size = TINY_SIZE): Graph {
  const rnd = mulberry32(11);
  const data = (n: number): Float32Array => Float32Array.from({ length: n }, () => rnd() - 0.5);
  const window = { dilations: [1, 1] as [number, number], autoPad: 'NOTSET' as const, group: 1 };
  const graph: Graph = {
    name: 'tiny',
    inputs: [{ name: 'x', shape: ['N', 1, size, size] }],
    outputs: [{ name: 'y', shape: [] }],
    layers: [
      { op: 'conv', name: 'c1', inputs: ['x', 'w1', 'b1'], outputs: ['h'], strides: [1, 1], pads: [1, 1, 1, 1], activation: { kind: 'relu' }, ...window },
      { op: 'conv', name: 'c2', inputs: ['h', 'w2', 'b2'], outputs: ['y'], strides: [1, 1], pads: [0, 0, 0, 0], ...window },
    ],
    constants: new Map([
      ['w1', { shape: [4, 1, 3, 3], data: data(36) }],
      ['b1', { shape: [4], data: data(4) }],
      ['w2', { shape: [3, 4, 1, 1], data: data(12) }],
      ['b2', { shape: [3], data: data(3) }],
    ]),
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  graph.outputs[0]!.shape = graph.shapes.get('y')!;
  return graph;
}

/** The tiny graph (prepared for quantization) and its w8a8 quantization. */
export async function tinyQuantized(): Promise<{ graph: Graph; qg: QuantizedGraph }> {
  const graph = prepareForQuantization(tinyGraph());
  const { tensors } = await collectStats(graph, [tinyInput(16, 99)]);
  return { graph, qg: quantize(graph, tensors, PRESETS.w8a8!) };
}
