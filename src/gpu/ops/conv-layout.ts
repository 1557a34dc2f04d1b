/**
 * The GPU layouts of the integer convolution (shaders/conv_io.wgsl), as pure
 * functions: weights in the reduction order of the activation lanes, the bias
 * with the activations' lane offset folded in, and activations moved between
 * NCHW codes and NHWC 8-bit lanes.
 *
 * Lane offset: a tensor travels as a = q - off with off = 128 for affine
 * (unsigned) tensors and 0 for symmetric and pow2 ones, so every lane is a
 * signed byte (docs/quantization.md, eq. 9).
 */
import type { QParams } from '../../quant/qparams.js';
import { packRows, type PackedRows } from '../../quant/packing.js';

/** The lane offset of a tensor: 128 for affine, 0 otherwise. */
export function laneOffset(p: Pick<QParams, 'scheme'>): number {
  return p.scheme === 'affine' ? 128 : 0;
}

/** Geometry of a weight tensor in ONNX order [M, C/group, kH, kW] (a dense [M, K] is [M, K, 1, 1]). */
export interface WeightGeometry {
  readonly m: number;
  readonly cg: number;
  readonly kH: number;
  readonly kW: number;
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

/**
 * The weights as the igemm kernel reads them: per output channel c, the
 * reduction in the order (kh, kw, ci) with ci padded with zeros to a multiple
 * of 4, so that word t of an activation window (4 channels of one tap) faces
 * reduction indices 4t..4t+3 of the row; packed at the weights' lane width
 * (laneBits(bits), eq. 20: rows start on a fresh word, unused lanes 0), with
 * lanes below 8 bits in the plane-major order of gpuLanePosition.
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
 * bias_gpu[c] = bias[c] + (off - Z_in) * sum_k w[c, k]: the shader sums
 * w * (q - off), the golden model w * (q - Z_in) (eq. 9). Wrapping int32, as
 * the shader adds it: the final accumulator is exact whenever the true one
 * fits in int32 (eq. 10).
 */
export function foldBias(bias: Int32Array, weights: Int32Array, m: number, off: number, zeroIn: number): Int32Array {
  const k = weights.length / m;
  const out = new Int32Array(m);
  for (let c = 0; c < m; c++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += weights[c * k + i]!;
    out[c] = (bias[c]! + Math.imul(off - zeroIn, s)) | 0;
  }
  return out;
}

/** [N, C, H, W] for a convolution's NCHW tensor, [rows, K, 1, 1] for a dense layer's [..., K]. */
export function asNchw(shape: readonly number[], dense: boolean): [number, number, number, number] {
  if (dense) {
    const k = shape[shape.length - 1]!;
    return [shape.slice(0, -1).reduce((a, b) => a * b, 1), k, 1, 1];
  }
  if (shape.length !== 4) throw new RangeError(`asNchw: a convolution takes an NCHW tensor, got shape [${shape.join(', ')}]`);
  return shape as [number, number, number, number];
}

/**
 * NCHW integer codes to NHWC 8-bit lanes, four channels to a u32, each lane
 * q - off; channels padded to a multiple of 4 with `padCode` (a code, default
 * the zero point of the tensor: pass Z).
 */
export function packNhwcLanes(codes: ArrayLike<number>, nchw: readonly [number, number, number, number], off: number, padCode: number): Uint32Array {
  const [n, c, h, w] = nchw;
  const words = Math.ceil(c / 4);
  const out = new Uint32Array(n * h * w * words);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < plane; p++) {
      const base = (b * plane + p) * words;
      for (let ch = 0; ch < words * 4; ch++) {
        const q = ch < c ? codes[(b * c + ch) * plane + p]! : padCode;
        const a = q - off;
        if (!(a >= -128 && a <= 127) || (a | 0) !== a) {
          throw new RangeError(`packNhwcLanes: code ${q} at batch ${b}, channel ${ch}, position ${p} minus offset ${off} is not a signed byte`);
        }
        out[base + (ch >> 2)] |= (a & 0xff) << ((ch & 3) * 8);
      }
    }
  }
  return out;
}

/** The inverse: NHWC 8-bit lanes (a = q - off) back to NCHW codes, the padding lanes dropped. */
export function unpackNhwcLanes(words: Uint32Array, nchw: readonly [number, number, number, number], off: number): Int32Array {
  const [n, c, h, w] = nchw;
  const wordsPerPosition = Math.ceil(c / 4);
  const plane = h * w;
  const out = new Int32Array(n * c * plane);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < plane; p++) {
      const base = (b * plane + p) * wordsPerPosition;
      for (let ch = 0; ch < c; ch++) {
        const lane = (words[base + (ch >> 2)]! << (24 - (ch & 3) * 8)) >> 24;
        out[(b * c + ch) * plane + p] = lane + off;
      }
    }
  }
  return out;
}
