/**
 * Every lane layout the shaders read, in one place (architecture page,
 * "Packing on the GPU"; docs/quantization.md, eq. 20). Pure functions: no
 * GPU here.
 *
 * Weight rows. A word holds 32 / w lanes of w bits (w = 2, 4, 8 or 16); lane
 * i sits at bits [i*w, (i+1)*w), lane 0 in the least significant bits, each a
 * w-bit two's complement value. Weights are packed along the reduction axis of
 * each output row: value j of a row goes to word floor(j / lanes), lane
 * j mod lanes. Every row starts on a fresh word; the unused lanes of a row's
 * last word are 0, so they add nothing to a dot product. 3-bit values use
 * 4-bit lanes and 5..7-bit values 8-bit lanes (9..15 bits: 16-bit lanes); the
 * size report counts them at their true width. The convolution kernels read
 * the rows in the GPU reduction order (packConvWeights, packDepthwiseWeights).
 *
 * Activations. NHWC, four 8-bit lanes per u32 (channel 4*j + i of a pixel in
 * lane i of word j), channels padded to a multiple of 4, each lane
 * a = q - off (off = 128 for affine tensors, 0 otherwise: one signed dot
 * serves every scheme, eq. 9).
 */
import { GpuUnsupportedError } from '../errors.js';
import type { QParams } from './qparams.js';

/** Lane width in a u32 word for a value of `bits` bits (2..16). */
export type LaneBits = 2 | 4 | 8 | 16;

/** The lane that holds a `bits`-bit value: 2 -> 2, 3..4 -> 4, 5..8 -> 8, 9..16 -> 16. */
export function laneBits(bits: number): LaneBits {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) {
    throw new RangeError(`laneBits: bits = ${bits} cannot be packed (expected an integer in 2..16)`);
  }
  return bits <= 2 ? 2 : bits <= 4 ? 4 : bits <= 8 ? 8 : 16;
}

/** Rows of integers packed into u32 words. */
export interface PackedRows {
  data: Uint32Array;
  /** Words per row: ceil(rowLength / (32 / laneBits)). */
  wordsPerRow: number;
  laneBits: LaneBits;
}

function checkShape(fn: string, rows: number, rowLength: number): void {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`${fn}: rows = ${rows} is not an integer >= 0`);
  if (!Number.isInteger(rowLength) || rowLength < 0) {
    throw new RangeError(`${fn}: rowLength = ${rowLength} is not an integer >= 0`);
  }
}

/**
 * Pack `rows` x `rowLength` signed integers (row-major) at `bits` bits into
 * lanes of laneBits(bits). Each value must be an integer in the two's
 * complement range of `bits` bits, [-2^(bits-1), 2^(bits-1) - 1]; anything else
 * is a RangeError naming the value and its row and column.
 */
export function packRows(
  values: Int32Array | ArrayLike<number>,
  rows: number,
  rowLength: number,
  bits: number,
): PackedRows {
  return pack('packRows', values, rows, rowLength, bits);
}

function pack(fn: string, values: ArrayLike<number>, rows: number, rowLength: number, bits: number): PackedRows {
  const w = laneBits(bits);
  checkShape(fn, rows, rowLength);
  if (values.length !== rows * rowLength) {
    throw new RangeError(`${fn}: ${values.length} values given for ${rows} rows of ${rowLength}`);
  }
  const lanes = 32 / w;
  const wordsPerRow = Math.ceil(rowLength / lanes);
  const data = new Uint32Array(rows * wordsPerRow);
  const lo = -(2 ** (bits - 1));
  const hi = 2 ** (bits - 1) - 1;
  const mask = (1 << w) - 1;
  for (let r = 0; r < rows; r++) {
    const src = r * rowLength;
    const dst = r * wordsPerRow;
    for (let j = 0; j < rowLength; j++) {
      const v = values[src + j]!;
      // `v >= lo && v <= hi` is false for NaN too; the `| 0` check rejects fractions.
      if (!(v >= lo && v <= hi) || (v | 0) !== v) {
        throw new RangeError(
          `${fn}: value ${v} at row ${r}, column ${j} does not fit ${bits} bits (range ${lo}..${hi})`,
        );
      }
      const lane = j % lanes;
      data[dst + (j - lane) / lanes] |= (v & mask) << (lane * w);
    }
  }
  return { data, wordsPerRow, laneBits: w };
}

/**
 * Lane `lane` of `word`, sign-extended from `laneBits` bits, exactly as the WGSL
 * does it: shift the lane up to the top of the word, then shift it back down
 * arithmetically:
 *   bitcast<i32>(word << (32u - (lane + 1u) * w)) >> (32u - w)
 * (WGSL's extractBits(bitcast<i32>(word), lane * w, w) gives the same value).
 * No checks: lane must be in 0..32/laneBits - 1.
 */
export function unpackLane(word: number, lane: number, laneBits: number): number {
  return (word << (32 - (lane + 1) * laneBits)) >> (32 - laneBits);
}

/** Inverse of packRows: `rows` x `rowLength` sign-extended values (row-major). */
export function unpackRows(data: Uint32Array, rows: number, rowLength: number, bits: number): Int32Array {
  const w = laneBits(bits);
  checkShape('unpackRows', rows, rowLength);
  const lanes = 32 / w;
  const wordsPerRow = Math.ceil(rowLength / lanes);
  if (data.length < rows * wordsPerRow) {
    throw new RangeError(`unpackRows: ${data.length} words given, ${rows} rows of ${rowLength} at ${w}-bit lanes need ${rows * wordsPerRow}`);
  }
  const out = new Int32Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    const src = r * wordsPerRow;
    const dst = r * rowLength;
    for (let j = 0; j < rowLength; j++) {
      const lane = j % lanes;
      out[dst + j] = unpackLane(data[src + (j - lane) / lanes]!, lane, w);
    }
  }
  return out;
}

/** Input channels per group padded to a multiple of 4: the channel run of one tap in the GPU order. */
export function paddedGroupChannels(cg: number): number {
  return Math.ceil(cg / 4) * 4;
}

/**
 * Where reduction index j of a weight word sits among its lanes, for lanes
 * narrower than 8 bits: plane-major, so that the kernel gets four int8 lanes
 * with one shift and one mask. A 4-bit word holds indices 0..3 in the low
 * nibbles of bytes 0..3 and 4..7 in the high nibbles; a 2-bit word holds
 * 4q..4q+3 in bit pair q of bytes 0..3. (dot4_*.wgsl, lanes_of_weights.)
 */
export function gpuLanePosition(j: number, laneBits: number): number {
  const planes = 8 / laneBits;
  return (j % 4) * planes + Math.floor(j / 4);
}

/** Geometry of a weight tensor in ONNX order [M, C/group, kH, kW] (a dense [M, K] is [M, K, 1, 1]). */
export interface WeightGeometry {
  readonly m: number;
  readonly cg: number;
  readonly kH: number;
  readonly kW: number;
}

/**
 * The weights as the igemm kernel reads them: per output channel c, the
 * reduction in the order (kh, kw, ci) with ci padded with zeros to a multiple
 * of 4, so that word t of an activation window (4 channels of one tap) faces
 * reduction indices 4t..4t+3 of the row; packed at the weights' lane width
 * (laneBits(bits): rows start on a fresh word, unused lanes 0), with lanes
 * below 8 bits in the plane-major order of gpuLanePosition.
 */
export function packConvWeights(weights: Int32Array, g: WeightGeometry, bits: number): PackedRows {
  const { m, cg, kH, kW } = g;
  const cgPad = paddedGroupChannels(cg);
  const kGpu = kH * kW * cgPad;
  const reordered = new Int32Array(m * kGpu);
  for (let c = 0; c < m; c++) {
    for (let ci = 0; ci < cg; ci++) {
      for (let ky = 0; ky < kH; ky++) {
        for (let kx = 0; kx < kW; kx++) {
          reordered[c * kGpu + (ky * kW + kx) * cgPad + ci] = weights[((c * cg + ci) * kH + ky) * kW + kx]!;
        }
      }
    }
  }
  const packed = packRows(reordered, m, kGpu, bits);
  const w = packed.laneBits;
  if (w >= 8) return packed;
  const perWord = 32 / w;
  const mask = (1 << w) - 1;
  const data = new Uint32Array(packed.data.length);
  packed.data.forEach((word, i) => {
    let out = 0;
    for (let j = 0; j < perWord; j++) out |= ((word >>> (j * w)) & mask) << (gpuLanePosition(j, w) * w);
    data[i] = out >>> 0;
  });
  return { ...packed, data };
}

/**
 * Depthwise weights [M, 1, kH, kW] as the depthwise kernel reads them: per
 * output word (channels 4w..4w+3), each tap's 4 channels in 4 lanes, which is
 * the igemm layout of a layer with ceil(M / 4) outputs of 4 input channels each.
 */
export function packDepthwiseWeights(weights: Int32Array, m: number, kH: number, kW: number, bits: number): PackedRows {
  const m4 = Math.ceil(m / 4);
  const taps = kH * kW;
  const regrouped = new Int32Array(m4 * 4 * taps);
  for (let co = 0; co < m; co++) for (let t = 0; t < taps; t++) regrouped[((co >> 2) * 4 + (co & 3)) * taps + t] = weights[co * taps + t]!;
  return packConvWeights(regrouped, { m: m4, cg: 4, kH, kW }, bits);
}

/** A tensor's shape as the kernels see it: 4D NCHW, rank 2 [n, c] as [n, c, 1, 1], rank 3 [n, c, l] as [n, c, l, 1]. */
export interface ActShape {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export function actShape(shape: readonly number[], where: string): ActShape {
  if (shape.length < 2 || shape.length > 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new GpuUnsupportedError(`${where}: shape [${shape.join(', ')}] is not a known NCHW shape of rank 2 to 4`);
  }
  const [n, c, h = 1, w = 1] = shape as [number, number, number?, number?];
  return { n, c, h, w };
}

/** u32 words per pixel: ceil(c / 4). */
export function wordsPerPixel(c: number): number {
  return Math.ceil(c / 4);
}

/** u32 words of a packed tensor. */
export function packedWords(s: ActShape): number {
  return s.n * s.h * s.w * wordsPerPixel(s.c);
}

/** The lane offset of a tensor: 128 for affine (unsigned) codes, 0 for signed ones. */
export function laneOffset(p: Pick<QParams, 'scheme'>): number {
  return p.scheme === 'affine' ? 128 : 0;
}

/** Why a tensor's codes cannot travel in 8-bit lanes (`what` names it, e.g. `its output`), or [] when they can. */
export function laneFitProblems(p: QParams, what: string): string[] {
  const off = laneOffset(p);
  return p.bits > 8 || p.lo - off < -128 || p.hi - off > 127 ? [`${what} has ${p.bits}-bit ${p.scheme} codes [${p.lo}, ${p.hi}], which do not fit the 8-bit lanes`] : [];
}

/** Throws the problems of a planner's input as one GpuUnsupportedError (validation reports them before planning; direct callers of a planner get them here). */
export function refuse(where: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new GpuUnsupportedError(`${where}: ${problems.join('; ')}`);
}

/**
 * Integer codes in NCHW order to packed NHWC lanes of q - off. Padding lanes
 * (channels past c) hold `padCode` - off: 0 by default; pass the zero point
 * for the real zero, as the kernels write it. Every code must fit a signed
 * byte after the offset.
 */
export function packActivations(q: ArrayLike<number>, s: ActShape, off: number, padCode = off): Uint32Array {
  const c4 = wordsPerPixel(s.c);
  const hw = s.h * s.w;
  const out = new Uint32Array(s.n * hw * c4);
  const lane = (code: number, b: number, ch: number, p: number): number => {
    const a = code - off;
    if (!(a >= -128 && a <= 127) || (a | 0) !== a) throw new RangeError(`packActivations: code ${code} at batch ${b}, channel ${ch}, position ${p} minus offset ${off} is not a signed byte`);
    return a & 0xff;
  };
  for (let b = 0; b < s.n; b++) {
    for (let p = 0; p < hw; p++) {
      const base = (b * hw + p) * c4;
      for (let ch = 0; ch < c4 * 4; ch++) {
        const a = lane(ch < s.c ? q[(b * s.c + ch) * hw + p]! : padCode, b, ch, p);
        out[base + (ch >> 2)] = (out[base + (ch >> 2)]! | (a << (8 * (ch & 3)))) >>> 0;
      }
    }
  }
  return out;
}

/** Packed NHWC lanes back to integer codes in NCHW order (the inverse of packActivations; padding lanes dropped). */
export function unpackActivations(words: Uint32Array, s: ActShape, off: number): Int32Array {
  const c4 = wordsPerPixel(s.c);
  const hw = s.h * s.w;
  const out = new Int32Array(s.n * s.c * hw);
  for (let b = 0; b < s.n; b++) {
    for (let p = 0; p < hw; p++) {
      const base = (b * hw + p) * c4;
      for (let ch = 0; ch < s.c; ch++) out[(b * s.c + ch) * hw + p] = ((words[base + (ch >> 2)]! << (24 - 8 * (ch & 3))) >> 24) + off;
    }
  }
  return out;
}

/** The padding lanes (channels past c) of a packed tensor that are not `padLane` (0 by default), as word indices. */
export function nonzeroPadding(words: Uint32Array, s: ActShape, padLane = 0): number[] {
  const c4 = wordsPerPixel(s.c);
  const used = s.c % 4;
  if (used === 0) return [];
  const mask = (0xffffffff << (8 * used)) >>> 0;
  const want = ((padLane & 0xff) * 0x01010101) & mask;
  const bad: number[] = [];
  for (let i = c4 - 1; i < words.length; i += c4) if (((words[i]! & mask) >>> 0) !== want >>> 0) bad.push(i);
  return bad;
}
