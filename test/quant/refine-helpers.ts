import type { Tensor } from '../../src/cpu/tensor.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';
import type { Activation } from '../../src/ir/layers.js';
import { seededRandom } from '../helpers/onnx-builder.js';

/** One convolution (x -> y), grouped or not, 3x3 with padding 1; weights and bias given or drawn from `seed`. */
export function convGraph(o: { channels: number; outChannels: number; group?: number; seed?: number; weights?: Float32Array; bias?: Float32Array; activation?: Activation; size?: number }): Graph {
  const group = o.group ?? 1;
  const rand = seededRandom(o.seed ?? 3);
  const k = (o.channels / group) * 9;
  const weights = o.weights ?? Float32Array.from({ length: o.outChannels * k }, () => (rand() * 2 - 1) / Math.sqrt(k));
  const bias = o.bias ?? Float32Array.from({ length: o.outChannels }, () => rand() * 0.2 - 0.1);
  const s = o.size ?? 8;
  const graph: Graph = {
    name: 'conv',
    inputs: [{ name: 'x', shape: ['N', o.channels, s, s] }],
    outputs: [{ name: 'y', shape: ['N', o.outChannels, s, s] }],
    layers: [
      {
        name: 'conv',
        op: 'conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['y'],
        group,
        strides: [1, 1],
        dilations: [1, 1],
        pads: [1, 1, 1, 1],
        autoPad: 'NOTSET',
        ...(o.activation ? { activation: o.activation } : {}),
      },
    ],
    constants: new Map([
      ['w', { shape: [o.outChannels, o.channels / group, 3, 3], data: weights }],
      ['b', { shape: [o.outChannels], data: bias }],
    ]),
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  return graph;
}

/**
 * Images with correlated channels, neighbouring pixels alike, and a positive
 * mean (as post-ReLU activations are): n x c x s x s. Without correlations
 * among a layer's inputs nearest rounding is already optimal, and AdaRound
 * has nothing to learn.
 */
export function images(n: number, c: number, s: number, seed: number): Tensor {
  const rand = seededRandom(seed);
  const data = new Float32Array(n * c * s * s);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const common = rand();
        for (let ch = 0; ch < c; ch++) data[((i * c + ch) * s + y) * s + x] = Math.max(0, 0.6 * common + 0.8 * rand() - 0.2 + 0.1 * Math.sin(ch + x));
      }
    }
  }
  // Neighbouring pixels alike: each plane averaged with its right and lower neighbours.
  for (let p = 0; p < n * c; p++) {
    for (let y = s - 1; y >= 0; y--) {
      for (let x = s - 1; x >= 0; x--) {
        const at = (p * s + y) * s + x;
        data[at] = (data[at]! + (x + 1 < s ? data[at + 1]! : 0) + (y + 1 < s ? data[at + s]! : 0)) / 2;
      }
    }
  }
  return { shape: [n, c, s, s], data };
}
