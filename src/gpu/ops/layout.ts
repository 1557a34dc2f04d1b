/**
 * Activations as the small kernels hold them (ARCHITECTURE.md, Packing): NHWC,
 * four 8-bit lanes per u32 (channel 4*j + i of a pixel in lane i of word j,
 * lane 0 least significant), channels padded with zero lanes to a multiple
 * of 4, each lane a = q - off (off = 128 for affine tensors, 0 otherwise).
 * Also the dispatch arithmetic shared by every small kernel. Pure functions:
 * no GPU here.
 */
import type { QParams } from '../../quant/qparams.js';

/** A tensor's shape as the kernels see it: 4D NCHW, rank 2 [n, c] as [n, c, 1, 1], rank 3 [n, c, l] as [n, c, l, 1]. */
export interface ActShape {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export function actShape(shape: readonly number[], where: string): ActShape {
  if (shape.length < 2 || shape.length > 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`${where}: shape [${shape.join(', ')}] is not a known NCHW shape of rank 2 to 4`);
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
export function laneOffset(p: QParams): number {
  return p.scheme === 'affine' ? 128 : 0;
}

/** Integer codes in NCHW order to packed NHWC lanes of q - off (padding lanes 0). Every code must fit a signed byte after the offset. */
export function packActivations(q: ArrayLike<number>, s: ActShape, off: number): Uint32Array {
  const c4 = wordsPerPixel(s.c);
  const hw = s.h * s.w;
  const out = new Uint32Array(s.n * hw * c4);
  for (let b = 0; b < s.n; b++) {
    for (let ch = 0; ch < s.c; ch++) {
      for (let p = 0; p < hw; p++) {
        const a = q[(b * s.c + ch) * hw + p]! - off;
        if (!(a >= -128 && a <= 127 && Number.isInteger(a))) throw new RangeError(`packActivations: code ${a + off} - ${off} is not a signed byte`);
        const word = (b * hw + p) * c4 + (ch >> 2);
        out[word] = (out[word]! | ((a & 0xff) << (8 * (ch & 3)))) >>> 0;
      }
    }
  }
  return out;
}

/** Packed NHWC lanes back to integer codes in NCHW order (the inverse of packActivations). */
export function unpackActivations(words: Uint32Array, s: ActShape, off: number): Int32Array {
  const c4 = wordsPerPixel(s.c);
  const hw = s.h * s.w;
  const out = new Int32Array(s.n * s.c * hw);
  for (let b = 0; b < s.n; b++) {
    for (let ch = 0; ch < s.c; ch++) {
      for (let p = 0; p < hw; p++) {
        const word = words[(b * hw + p) * c4 + (ch >> 2)]!;
        out[(b * s.c + ch) * hw + p] = ((word << (24 - 8 * (ch & 3))) >> 24) + off;
      }
    }
  }
  return out;
}

/** The padding lanes (channels past c) of a packed tensor that are not 0, as word indices: they must be 0. */
export function nonzeroPadding(words: Uint32Array, s: ActShape): number[] {
  const c4 = wordsPerPixel(s.c);
  const used = s.c % 4;
  if (used === 0) return [];
  const mask = (0xffffffff << (8 * used)) >>> 0;
  const bad: number[] = [];
  for (let i = c4 - 1; i < words.length; i += c4) if ((words[i]! & mask) !== 0) bad.push(i);
  return bad;
}

/** Threads per workgroup of every small kernel. */
export const WORKGROUP_SIZE = 64;

/**
 * Workgroups for `invocations` threads of WORKGROUP_SIZE, as [x, y, 1]: past
 * maxComputeWorkgroupsPerDimension the grid wraps into y, and the shaders
 * flatten it back (grid.wgsl, flat_index); surplus threads return early.
 */
export function dispatch1d(invocations: number, maxPerDimension: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / WORKGROUP_SIZE));
  if (groups <= maxPerDimension) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) throw new RangeError(`dispatch1d: ${invocations} invocations need more than ${maxPerDimension}^2 workgroups`);
  return [Math.ceil(groups / y), y, 1];
}
