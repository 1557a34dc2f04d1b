import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOperatorError } from '../../src/errors.js';
import { decodeWeights, halfToFloat, parseManifest } from '../../src/import/tfjs/weights.js';
import { rng } from '../helpers/tfjs-keras.js';

describe('TF.js weight shards', () => {
  it('decodes float16 edge values', () => {
    const cases: Array<[number, number]> = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x3555, 0.333251953125],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    for (const [bits, value] of cases) expect(halfToFloat(bits), bits.toString(16)).toBe(value);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('dequantizes uint8, uint16 and float16 weights exactly as TF.js does', () => {
    const next = rng(3);
    const specs = [
      { name: 'a', shape: [3, 5], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0173, min: -1.25 } },
      { name: 'flag', shape: [3], dtype: 'bool' },
      { name: 'b', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', scale: 3.1e-5, min: -0.7 } },
      { name: 'c', shape: [2, 2, 3], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd', shape: [4], dtype: 'float32' },
      { name: 'e', shape: [2], dtype: 'int32' },
    ] as const;
    const bytes = new Uint8Array(15 + 3 + 14 + 24 + 16 + 8);
    // Random payload; the float16, float32 and int32 parts are given values that are not NaN.
    for (let i = 0; i < 32; i++) bytes[i] = Math.floor(next() * 256);
    bytes.set([0, 1, 1], 15);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 12; i++) view.setUint16(32 + 2 * i, Math.floor(next() * 0x7800), true);
    for (let i = 0; i < 4; i++) view.setFloat32(56 + 4 * i, next() - 0.5, true);
    view.setInt32(72, -3, true);
    view.setInt32(76, 1 << 20, true);
    const ours = decodeWeights(parseManifest([{ paths: ['w.bin'], weights: specs }]), bytes.buffer);
    const theirs = tf.io.decodeWeights(bytes.buffer, specs as unknown as tf.io.WeightsManifestEntry[]);
    for (const s of specs) {
      const o = ours.get(s.name)!;
      expect(o.shape, s.name).toEqual(s.shape);
      expect(Array.from(o.data), s.name).toEqual(Array.from(theirs[s.name]!.dataSync()));
    }
  });

  it('names the weight that the data does not reach', () => {
    const manifest = parseManifest([{ paths: ['group1-shard1of2', 'group1-shard2of2'], weights: [{ name: 'k', shape: [4], dtype: 'float32' }, { name: 'last', shape: [2], dtype: 'float32' }] }]);
    expect(() => decodeWeights(manifest, new ArrayBuffer(20))).toThrow(/weight 'last' needs bytes 16 to 24 .*group1-shard1of2, group1-shard2of2.*20 bytes/);
    expect(() => decodeWeights(manifest, new ArrayBuffer(20))).toThrow(ModelFormatError);
  });

  it('rejects string weights and unknown quantizations by name', () => {
    expect(() => parseManifest([{ paths: [], weights: [{ name: 'vocab', shape: [2], dtype: 'string' }] }])).toThrow(UnsupportedOperatorError);
    expect(() => parseManifest([{ paths: [], weights: [{ name: 'q', shape: [2], dtype: 'float32', quantization: { dtype: 'int4' } }] }])).toThrow(/'q'/);
    expect(() => parseManifest({ weights: [] })).toThrow(ModelFormatError);
  });
});
