/**
 * Learned weights are ordinary integers: a config with AdaRound and empirical
 * bias correction runs on the GPU, through both runners, bit for bit as the
 * golden model runs it (a convolution with ReLU and a depthwise one after it,
 * 4- and 2-bit weights). Through describeOnHosts: no WebGPU error, no buffer
 * left alive.
 */
import { expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import type { QMatmulLayer } from '../../src/quant/quantized-graph.js';
import { refine } from '../../src/quant/refine/refine.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { seededRandom } from '../helpers/onnx-builder.js';
import { convGraph, images } from '../quant/refine-helpers.js';

/** convGraph's convolution (8 -> 8, ReLU), then a depthwise 3x3 on its output. */
function convThenDepthwise(): Graph {
  const g = convGraph({ channels: 8, outChannels: 8, seed: 31, activation: { kind: 'relu' } });
  const rand = seededRandom(32);
  g.layers[0]!.outputs = ['h'];
  g.layers.push({ name: 'dw', op: 'conv', inputs: ['h', 'w2', 'b2'], outputs: ['y'], group: 8, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], autoPad: 'NOTSET' });
  g.constants.set('w2', { shape: [8, 1, 3, 3], data: Float32Array.from({ length: 72 }, () => rand() - 0.5) });
  g.constants.set('b2', { shape: [8], data: Float32Array.from({ length: 8 }, () => rand() * 0.2 - 0.1) });
  g.shapes = new Map();
  inferGraphShapes(g);
  return g;
}

describeOnHosts(
  (host) => {
    it('AdaRound and empirical bias correction at 4- and 2-bit weights: the GPU equals the golden model', async () => {
      const g = convThenDepthwise();
      const calib = images(16, 8, 8, 1);
      const x = images(3, 8, 8, 2);
      const { tensors } = await collectStats(g, [calib]);
      for (const bits of [4, 2] as const) {
        const config: QuantConfig = { name: `w${bits}a8-learned`, default: { ...(PRESETS.w4a8!.default as LayerQuant), weightBits: bits, rounding: 'adaround', biasCorrection: 'empirical' } };
        const refinement = await refine(g, tensors, config, calib, { iterations: 60 });
        const qg = quantize(g, tensors, config, { refinement });
        const nearest = quantize(g, tensors, { default: { ...(config.default as LayerQuant), rounding: 'nearest', biasCorrection: 'none' } });
        const weights = (q: typeof qg) => q.layers.filter((l): l is QMatmulLayer => l.kind === 'conv').flatMap((l) => [...l.weights]);
        expect(weights(qg), `${bits}-bit: the learned codes differ from nearest rounding somewhere`).not.toEqual(weights(nearest));
        const session = await host().runner.createSession(qg);
        try {
          const golden = runQuantized(qg, { x });
          const gpu = await session.run(x);
          for (const [name, ints] of Object.entries(golden.integers)) {
            const got = gpu.integers[name]!;
            expect(got.length).toBe(ints.length);
            const bad = ints.findIndex((v, i) => v !== got[i]);
            expect(bad, `${bits}-bit: first differing code of '${name}' (golden ${ints[bad]}, gpu ${got[bad]})`).toBe(-1);
          }
        } finally {
          await session.dispose();
        }
      }
    }, 300_000);
  },
  { title: 'refined configs' },
);
