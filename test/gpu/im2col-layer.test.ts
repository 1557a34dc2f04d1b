/**
 * The im2col form of a first convolution (src/gpu/ops/im2col.ts), on the CPU:
 * the golden model's accumulators of the layer as given equal those of the
 * 1x1 layer im2colConv makes, run over the window copy the quantize kernel
 * writes (gathered here with plain loops, padding taps holding Z_in). This
 * checks the weight reorder for every channel count the form takes; the GPU
 * side of the copy is checked in small-kernels.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { intAccumulate } from '../../src/cpu/golden/int-conv.js';
import { im2colConv } from '../../src/gpu/ops/im2col.js';
import { syntheticConv } from '../../src/gpu/synthetic-layer.js';
import type { ConvLayer } from '../../src/ir/layers.js';
import type { QMatmulLayer } from '../../src/quant/quantized-graph.js';
import { mulberry32 } from '../helpers/random.js';

interface Geometry {
  c: number;
  m: number;
  k: [number, number];
  stride: [number, number];
  dil: [number, number];
  pads: [number, number, number, number];
  autoPad?: ConvLayer['autoPad'];
  hw: [number, number];
}

function layerOf(g: Geometry, seed: number): QMatmulLayer {
  const base = syntheticConv({ name: 'first', c: g.c, m: g.m, k: 3, stride: 1 }, 8, seed);
  const rnd = mulberry32(seed);
  const [kh, kw] = g.k;
  const weights = Int32Array.from({ length: g.m * g.c * kh * kw }, () => Math.floor(rnd() * 255) - 127);
  const layer: ConvLayer = { ...(base.layer as ConvLayer), strides: g.stride, dilations: g.dil, pads: g.pads, autoPad: g.autoPad ?? 'NOTSET', group: 1 };
  return { ...base, layer, weightShape: [g.m, g.c, kh, kw], weights };
}

const CASES: Geometry[] = [
  { c: 3, m: 5, k: [3, 3], stride: [2, 2], dil: [1, 1], pads: [1, 1, 1, 1], hw: [9, 8] },
  { c: 1, m: 4, k: [3, 3], stride: [1, 1], dil: [1, 1], pads: [1, 1, 1, 1], hw: [6, 6] },
  { c: 2, m: 3, k: [5, 3], stride: [1, 2], dil: [2, 1], pads: [4, 0, 3, 1], hw: [8, 11] },
  { c: 3, m: 6, k: [7, 7], stride: [2, 2], dil: [1, 1], pads: [0, 0, 0, 0], autoPad: 'SAME_UPPER', hw: [13, 10] },
  { c: 3, m: 2, k: [2, 3], stride: [3, 1], dil: [1, 2], pads: [0, 2, 1, 0], hw: [7, 9] },
];

describe('im2colConv', () => {
  CASES.forEach((g, i) => {
    it(`${g.c} channel(s), ${g.k.join('x')} kernel, stride ${g.stride.join('x')}, dilation ${g.dil.join('x')}: the 1x1 over the copy gives the layer's accumulators`, () => {
      const q = layerOf(g, 100 + i);
      const [h, w] = g.hw;
      const n = 2;
      const zeroIn = 7;
      const rnd = mulberry32(200 + i);
      const x = { shape: [n, g.c, h, w], data: Float32Array.from({ length: n * g.c * h * w }, () => Math.floor(rnd() * 256)) };
      const im = im2colConv(q, x.shape)!;
      expect(im).toBeDefined();
      const [, lanes, oh, ow] = im.shape;
      expect(lanes).toBe(g.c * g.k[0] * g.k[1]);
      const { window: win } = im;
      const copy = new Float32Array(n * lanes * oh * ow);
      for (let b = 0; b < n; b++)
        for (let ky = 0; ky < g.k[0]; ky++)
          for (let kx = 0; kx < g.k[1]; kx++)
            for (let c = 0; c < g.c; c++)
              for (let oy = 0; oy < oh; oy++)
                for (let ox = 0; ox < ow; ox++) {
                  const iy = oy * win.strideH - win.padTop + ky * win.dilH;
                  const ix = ox * win.strideW - win.padLeft + kx * win.dilW;
                  const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                  copy[((b * lanes + (ky * g.k[1] + kx) * g.c + c) * oh + oy) * ow + ox] = inside ? x.data[((b * g.c + c) * h + iy) * w + ix]! : zeroIn;
                }
      const direct = intAccumulate(q, x, zeroIn);
      const viaCopy = intAccumulate(im.layer, { shape: [...im.shape], data: copy }, zeroIn);
      expect(viaCopy.shape).toEqual(direct.shape);
      expect(Array.from(viaCopy.acc)).toEqual(Array.from(direct.acc));
    });
  });

  it('leaves alone what it would not shorten: 4 or more channels, a 1x1 kernel, groups, a dense layer', () => {
    const geometry: Geometry = { c: 4, m: 4, k: [3, 3], stride: [1, 1], dil: [1, 1], pads: [1, 1, 1, 1], hw: [5, 5] };
    expect(im2colConv(layerOf(geometry, 1), [1, 4, 5, 5])).toBeUndefined();
    expect(im2colConv(layerOf({ ...geometry, c: 3, k: [1, 1], pads: [0, 0, 0, 0] }, 2), [1, 3, 5, 5])).toBeUndefined();
    const grouped = layerOf({ ...geometry, c: 1, m: 2 }, 3);
    expect(im2colConv({ ...grouped, layer: { ...(grouped.layer as ConvLayer), group: 2 } }, [1, 2, 5, 5])).toBeUndefined();
    expect(im2colConv({ ...grouped, kind: 'dense' }, [1, 9])).toBeUndefined();
  });
});
