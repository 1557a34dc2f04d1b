import { describe, expect, it } from 'vitest';
import { InputError, ShapeError } from '../../src/errors.js';
import { bindInputShapes } from '../../src/ir/bind-input-shapes.js';
import type { TensorInfo } from '../../src/ir/graph.js';

const declared: TensorInfo[] = [
  { name: 'image', shape: ['N', 3, 'H', 'W'] },
  { name: 'mask', shape: ['N', 1, 'H', 'W'] },
];

describe('bindInputShapes', () => {
  it('binds each symbol to the size the inputs agree on', () => {
    const b = bindInputShapes(declared, { image: [2, 3, 5, 7], mask: [2, 1, 5, 7] });
    expect([...b.entries()].sort()).toEqual([['H', 5], ['N', 2], ['W', 7]]);
  });

  it('refuses a symbol bound to two sizes, naming the input and the dimension', () => {
    expect(() => bindInputShapes(declared, { image: [2, 3, 5, 7], mask: [3, 1, 5, 7] })).toThrow(/input 'mask' must have shape \[N,1,H,W\], got \[3,1,5,7\] \(dimension 0\)/);
  });

  it('refuses a fixed size, a rank and a size that is not a whole number', () => {
    expect(() => bindInputShapes(declared, { image: [2, 4, 5, 7], mask: [2, 1, 5, 7] })).toThrow(ShapeError);
    expect(() => bindInputShapes(declared, { image: [2, 3, 5], mask: [2, 1, 5, 7] })).toThrow(ShapeError);
    expect(() => bindInputShapes(declared, { image: [-1, 3, 5, 7], mask: [1, 1, 5, 7] })).toThrow(/dimension 0 is not a whole number/);
    expect(() => bindInputShapes(declared, { image: [1.5, 3, 5, 7], mask: [1, 1, 5, 7] })).toThrow(/not a whole number/);
    // Empty tensors are shapes too (ONNX's tests have them).
    expect(bindInputShapes(declared, { image: [0, 3, 5, 7], mask: [0, 1, 5, 7] }).get('N')).toBe(0);
  });

  it('names a missing input and what was given', () => {
    expect(() => bindInputShapes(declared, { image: [1, 3, 5, 7] })).toThrow(InputError);
    expect(() => bindInputShapes(declared, { image: [1, 3, 5, 7] })).toThrow(/needs input 'mask' \[N,1,H,W\]; given: image/);
  });
});
