/** A dense float tensor in row-major order. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: data ?? new Float32Array(n) };
}
