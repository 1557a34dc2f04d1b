import { InputError } from '../errors.js';

/** A dense float tensor in row-major order. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: data ?? new Float32Array(n) };
}

/**
 * Throws an InputError naming `what` and the first NaN or infinity in `data`
 * (its index, and the image where `perImage` values make one). Quantized
 * arithmetic has no NaN: a quantize step would turn it into some code
 * silently, and the scales calibrated from it would be meaningless.
 */
export function requireFinite(data: ArrayLike<number>, what: string, perImage?: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isFinite(v)) continue;
    const where = perImage !== undefined && perImage > 0 ? `image ${Math.floor(i / perImage)}, element ${i % perImage}` : `element ${i}`;
    throw new InputError(`${what} holds ${v} at ${where}; quantized models take finite values only`);
  }
}
