import { HISTOGRAM_WASM_BASE64 } from './generated/histogram-wasm.js';

/**
 * The fast path of `TensorStats.observe`: counts blocks of four values into
 * four interleaved scratch histograms (8 * bins int32 counts: copy k holds
 * lane k of every block, positive magnitudes then negative ones, as the
 * stats' own counts), and tracks min, max and zeros.
 *
 * It stops at the first block holding a value with |x| >= range or not
 * finite, and returns that block's index (or where fewer than four values
 * remain): the caller takes such values one at a time and may grow the
 * range. |x| * bins / range is exact (both powers of two), so every kernel
 * counts each value into the same bin as the one-by-one path; -0 counts as
 * positive and as a zero.
 */
export interface HistogramKernel {
  readonly name: 'wasm' | 'js';
  /** The scratch histograms runs count into; all zero whenever no observe is under way. */
  scratch(bins: number): Int32Array;
  /** In `state`: min and max so far. Out: min, max, and the zeros and values counted. */
  run(data: Float32Array, start: number, end: number, bins: number, range: number, state: Float64Array): number;
}

/**
 * The TypeScript kernel: each value of a block goes to its own scratch
 * histogram, so that runs of one bin (the zeros after a ReLU) do not wait on
 * each other's increments. The sign comes from the float's sign bit and the
 * zero test from its other bits, as integer arithmetic: random signs cost no
 * mispredicted branches.
 */
export const jsHistogramKernel: HistogramKernel = {
  name: 'js',
  scratch: jsScratch,
  run(data, start, end, bins, range, state) {
    return histogramRun(data, new Int32Array(data.buffer, data.byteOffset, data.length), start, end, jsScratch(bins), bins, range, state);
  },
};

const jsScratchByBins = new Map<number, Int32Array>();
function jsScratch(bins: number): Int32Array {
  let s = jsScratchByBins.get(bins);
  if (!s) jsScratchByBins.set(bins, (s = new Int32Array(8 * bins)));
  return s;
}

function histogramRun(d: Float32Array, bits: Int32Array, start: number, end: number, h: Int32Array, bins: number, range: number, state: Float64Array): number {
  const scale = bins / range;
  const shift = 31 - Math.clz32(bins);
  const width = 2 * bins;
  const [h1, h2, h3] = [width, 2 * width, 3 * width];
  let mn0 = state[0]!;
  let mn1 = mn0;
  let mx0 = state[1]!;
  let mx1 = mx0;
  let zeros = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const x0 = d[i]!;
    const x1 = d[i + 1]!;
    const x2 = d[i + 2]!;
    const x3 = d[i + 3]!;
    const a0 = Math.abs(x0);
    const a1 = Math.abs(x1);
    const a2 = Math.abs(x2);
    const a3 = Math.abs(x3);
    if (!(a0 < range && a1 < range && a2 < range && a3 < range)) break;
    const b0 = bits[i]!;
    const b1 = bits[i + 1]!;
    const b2 = bits[i + 2]!;
    const b3 = bits[i + 3]!;
    // ((b & 0x7fffffff) - 1) >>> 31 is 1 exactly for +0 and -0.
    const z0 = ((b0 & 0x7fffffff) - 1) >>> 31;
    const z1 = ((b1 & 0x7fffffff) - 1) >>> 31;
    const z2 = ((b2 & 0x7fffffff) - 1) >>> 31;
    const z3 = ((b3 & 0x7fffffff) - 1) >>> 31;
    h[((a0 * scale) | 0) + (((b0 >>> 31) & (z0 ^ 1)) << shift)]!++;
    h[h1 + ((a1 * scale) | 0) + (((b1 >>> 31) & (z1 ^ 1)) << shift)]!++;
    h[h2 + ((a2 * scale) | 0) + (((b2 >>> 31) & (z2 ^ 1)) << shift)]!++;
    h[h3 + ((a3 * scale) | 0) + (((b3 >>> 31) & (z3 ^ 1)) << shift)]!++;
    zeros += z0 + z1 + z2 + z3;
    // One comparison per value against a running extreme: predictable, unlike comparing the values with each other.
    mn0 = x0 < mn0 ? x0 : mn0;
    mn1 = x1 < mn1 ? x1 : mn1;
    mn0 = x2 < mn0 ? x2 : mn0;
    mn1 = x3 < mn1 ? x3 : mn1;
    mx0 = x0 > mx0 ? x0 : mx0;
    mx1 = x1 > mx1 ? x1 : mx1;
    mx0 = x2 > mx0 ? x2 : mx0;
    mx1 = x3 > mx1 ? x3 : mx1;
  }
  state[0] = mn0 < mn1 ? mn0 : mn1;
  state[1] = mx0 > mx1 ? mx0 : mx1;
  state[2] = zeros;
  state[3] = i - start;
  return i;
}

interface HistogramExports {
  memory: WebAssembly.Memory;
  min: WebAssembly.Global;
  max: WebAssembly.Global;
  zeros: WebAssembly.Global;
  run(d: number, start: number, end: number, h: number, scale: number, range: number, shift: number, width: number): number;
}

/** Values copied into linear memory per call: 1 MiB, so memory stays small whatever the batch. */
const SLAB = 1 << 18;

/**
 * The WebAssembly kernel (histogram.wat, SIMD; about 1.5x the TypeScript
 * kernel's speed, copies into linear memory included). Memory: the scratch
 * histograms at byte 0, then a slab of values.
 */
class WasmHistogramKernel implements HistogramKernel {
  readonly name = 'wasm';
  private bins = 0;
  private view: { buffer: ArrayBuffer; scratch: Int32Array; slab: Float32Array } | undefined;

  constructor(private readonly ex: HistogramExports) {}

  scratch(bins: number): Int32Array {
    if (bins !== this.bins) {
      const bytes = 32 * bins + 4 * SLAB;
      const have = this.ex.memory.buffer.byteLength;
      if (bytes > have) this.ex.memory.grow(Math.ceil((bytes - have) / 65536));
      // A new layout: clear what the old one left (the scratch is always zero between calls anyway).
      new Int32Array(this.ex.memory.buffer, 0, 8 * bins).fill(0);
      this.bins = bins;
      this.view = undefined;
    }
    return this.views().scratch;
  }

  private views(): { scratch: Int32Array; slab: Float32Array } {
    const buffer = this.ex.memory.buffer;
    if (!this.view || this.view.buffer !== buffer) {
      this.view = { buffer, scratch: new Int32Array(buffer, 0, 8 * this.bins), slab: new Float32Array(buffer, 32 * this.bins, SLAB) };
    }
    return this.view;
  }

  run(data: Float32Array, start: number, end: number, bins: number, range: number, state: Float64Array): number {
    // bins / range must be a finite float32: a range below about 2^-117 (with 2048 bins) is counted in TypeScript, into the same scratch.
    if (!Number.isFinite(Math.fround(bins / range))) {
      return histogramRun(data, new Int32Array(data.buffer, data.byteOffset, data.length), start, end, this.scratch(bins), bins, range, state);
    }
    this.scratch(bins);
    const { slab } = this.views();
    const slabAt = 32 * bins;
    const scale = bins / range;
    const shift = 31 - Math.clz32(bins);
    this.ex.min.value = state[0]!;
    this.ex.max.value = state[1]!;
    let zeros = 0;
    let i = start;
    while (i < end) {
      const m = Math.min(end - i, SLAB);
      slab.set(data.subarray(i, i + m));
      const stop = this.ex.run(slabAt, 0, m, 0, scale, range, shift, 2 * bins);
      zeros += this.ex.zeros.value as number;
      i += stop;
      // A block it would not take, or the last values (fewer than four) of the data: the caller's.
      if (stop + 4 <= m || i + 4 > end) break;
      // Else fewer than four values were left in this slab: they start the next one.
    }
    state[0] = this.ex.min.value as number;
    state[1] = this.ex.max.value as number;
    state[2] = zeros;
    state[3] = i - start;
    return i;
  }
}

function instantiateWasm(): HistogramKernel | undefined {
  try {
    const bytes = Uint8Array.from(atob(HISTOGRAM_WASM_BASE64), (c) => c.charCodeAt(0));
    // 500 bytes: synchronous compilation is allowed everywhere, a page's main thread included.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return new WasmHistogramKernel(instance.exports as unknown as HistogramExports);
  } catch {
    // No WebAssembly, or no SIMD (engines before 2021): the TypeScript kernel counts the same.
    return undefined;
  }
}

let wasm: HistogramKernel | undefined | null = null;

/** The kernel of a kind; `wasm` falls back to `js` where WebAssembly SIMD is missing. */
export function histogramKernel(kind: 'wasm' | 'js'): HistogramKernel {
  if (kind === 'js') return jsHistogramKernel;
  if (wasm === null) wasm = instantiateWasm();
  return wasm ?? jsHistogramKernel;
}
