import type { Tensor } from '../cpu/tensor.js';

/**
 * A seeded uniform [0, 1) tensor of `shape` (a small integer hash per
 * element, the same on every run and host): inputs for timings, which hardly
 * depend on the values, and for comparing engines on one input.
 */
export function seededUniform(shape: readonly number[], seed = 0x9e3779b9): Tensor {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    x[i] = s / 2 ** 32;
  }
  return { shape: [...shape], data: x };
}

/** Seeded uniform numbers in [0, 1) (mulberry32): small, fast, and the same sequence on every host. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
