/**
 * Reusable scratch memory for the CPU kernels.
 *
 * The kernels run once per layer per inference (and thousands of times during
 * calibration); allocating a fresh im2col matrix each call would make the
 * garbage collector a large share of the run time. A scratch buffer keeps the
 * largest array asked for so far and hands it out again.
 *
 * `get(n)` returns an array of AT LEAST n elements whose contents are
 * unspecified: callers pass explicit sizes and offsets and never rely on
 * `.length`. A buffer must not be used by two computations at once; every
 * kernel owns its own instances and the kernels are synchronous, so this
 * holds as long as a kernel does not hand its scratch to a callee that uses
 * the same instance.
 */

/** Growth policy: round up to a power of two so that slowly growing requests do not reallocate every time. */
function capacityFor(length: number): number {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`scratch: bad length ${length}`);
  let cap = 64;
  while (cap < length) cap *= 2;
  return cap;
}

/** One scratch buffer of any typed-array kind; `make` allocates one of that kind. */
class Scratch<T extends Float32Array | Float64Array | Int32Array> {
  private buf: T;

  constructor(private readonly make: (length: number) => T) {
    this.buf = make(0);
  }

  /** An array of at least `length` elements; its contents are whatever the last user left. */
  get(length: number): T {
    if (this.buf.length < length) this.buf = this.make(capacityFor(length));
    return this.buf;
  }

  /** Like `get`, with the first `length` elements set to zero. */
  getZeroed(length: number): T {
    const b = this.get(length);
    b.fill(0, 0, length);
    return b;
  }

  /** Drop the memory (e.g. after a one-off huge layer). */
  release(): void {
    this.buf = this.make(0);
  }
}

export class Float32Scratch extends Scratch<Float32Array> {
  constructor() {
    super((n) => new Float32Array(n));
  }
}

export class Float64Scratch extends Scratch<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }
}

export class Int32Scratch extends Scratch<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n));
  }
}
