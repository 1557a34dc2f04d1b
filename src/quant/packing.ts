/**
 * Packing of quantized integers into u32 words, the layout the shaders read
 * (architecture page, "Packing on the GPU"; docs/quantization.md, eq. 20).
 *
 * Bit layout: a word holds 32 / w lanes of w bits (w = 2, 4, 8 or 16); lane i
 * sits at bits [i*w, (i+1)*w), lane 0 in the least significant bits, each a
 * w-bit two's complement value. Weights are packed along the reduction axis of
 * each output row: value j of a row goes to word floor(j / lanes), lane
 * j mod lanes. Every row starts on a fresh word; the unused lanes of a row's
 * last word are 0, so they add nothing to a dot product.
 *
 * 3-bit values use 4-bit lanes and 5..7-bit values 8-bit lanes (9..15 bits:
 * 16-bit lanes); the size report counts them at their true width.
 */

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

/** Activations packed four int8 lanes to a u32, channels last. */
export interface PackedActivations {
  data: Uint32Array;
  /** ceil(channels / 4): the padded channel count divided by 4. */
  wordsPerPosition: number;
}

/**
 * Pack NHWC int8 activations (`positions` = N*H*W rows of `channels` values,
 * each in -128..127) four to a u32, the operand of dot4I8Packed. Channels are
 * padded with zeros to a multiple of 4. Affine (unsigned) activations must be
 * shifted to q - 128 before this (eq. 9): the padding lanes are then 0 in the
 * shifted domain and, facing zero weight lanes, add nothing.
 * unpackRows(data, positions, channels, 8) is the inverse.
 */
export function packActivations8(
  values: Int8Array | Int32Array | ArrayLike<number>,
  positions: number,
  channels: number,
): PackedActivations {
  const { data, wordsPerRow } = pack('packActivations8', values, positions, channels, 8);
  return { data, wordsPerPosition: wordsPerRow };
}
