/**
 * Argument checks shared by the kernels. A typed array read out of range
 * returns `undefined` (NaN after arithmetic) rather than throwing, so a
 * wrong shape would otherwise surface far away as silently bad numbers.
 */

export function dims4(shape: readonly number[], what: string, kernel: string): [number, number, number, number] {
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${kernel}: ${what} must be a 4-D shape of non-negative integers, got [${shape.join(', ')}]`);
  }
  return [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
}

export function expectLength(data: ArrayLike<number>, length: number, what: string, kernel: string): void {
  if (data.length !== length) {
    throw new RangeError(`${kernel}: ${what} has ${data.length} elements, its shape says ${length}`);
  }
}

export function positiveInts(values: readonly number[], what: string, kernel: string): void {
  if (!values.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${kernel}: ${what} must be positive integers, got [${values.join(', ')}]`);
  }
}

export function nonNegativeInts(values: readonly number[], what: string, kernel: string): void {
  if (!values.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new RangeError(`${kernel}: ${what} must be non-negative integers, got [${values.join(', ')}]`);
  }
}
