import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import { asArray, asNumber, asNumbers, asObject, asString, isObject } from './json.js';

/**
 * The weights of a TF.js model: `weightsManifest` lists groups of weights,
 * each group stored in one or more shard files; the weights follow one
 * another without gaps in manifest order across all groups, so the shards
 * concatenated in that order are one buffer. Quantized weights are stored as
 * uint8/uint16 (value = q * scale + min) or float16 and are widened to float32
 * here, as TF.js does when it loads them.
 */
export interface WeightTensor {
  shape: number[];
  /** The dtype the model computes with (after dequantization). */
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array;
}

export interface WeightManifest {
  /** Shard file names, in the order their bytes are concatenated. */
  paths: string[];
  weights: WeightSpec[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightTensor['dtype'];
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale: number; min: number };
}

const STORED_BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 } as const;

/** Read and check `weightsManifest` (absent means a model without weights). */
export function parseManifest(v: unknown): WeightManifest {
  if (v === undefined || v === null) return { paths: [], weights: [] };
  const paths: string[] = [];
  const weights: WeightSpec[] = [];
  asArray(v, 'weightsManifest').forEach((g, gi) => {
    const group = asObject(g, `weightsManifest[${gi}]`);
    asArray(group.paths ?? [], `weightsManifest[${gi}].paths`).forEach((p, pi) => paths.push(asString(p, `weightsManifest[${gi}].paths[${pi}]`)));
    asArray(group.weights ?? [], `weightsManifest[${gi}].weights`).forEach((w, wi) => weights.push(parseSpec(w, `weightsManifest[${gi}].weights[${wi}]`)));
  });
  return { paths, weights };
}

function parseSpec(v: unknown, where: string): WeightSpec {
  const o = asObject(v, where);
  const name = asString(o.name, `${where}.name`);
  const what = `weight '${name}'`;
  const shape = asNumbers(o.shape ?? [], `${what}: shape`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ModelFormatError(`${what} has an invalid shape [${shape.join(',')}]`);
  const dtype = asString(o.dtype, `${what}: dtype`);
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new UnsupportedOperatorError(name, 'weight', `of dtype ${dtype} is not supported`);
  const spec: WeightSpec = { name, shape, dtype };
  if (isObject(o.quantization)) {
    const q = o.quantization;
    const qd = asString(q.dtype, `${what}: quantization.dtype`);
    if (qd !== 'uint8' && qd !== 'uint16' && qd !== 'float16') throw new UnsupportedOperatorError(name, 'weight', `quantized as ${qd} is not supported`);
    // float16 carries no scale; the affine kinds need both numbers.
    const scale = qd === 'float16' ? 1 : asNumber(q.scale, `${what}: quantization.scale`);
    const min = qd === 'float16' ? 0 : asNumber(q.min, `${what}: quantization.min`);
    spec.quantization = { dtype: qd, scale, min };
  }
  return spec;
}

/** Cut the concatenated shards into named float tensors. */
export function decodeWeights(manifest: WeightManifest, weightData: ArrayBuffer): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  let offset = 0;
  for (const spec of manifest.weights) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const bytes = count * STORED_BYTES[stored];
    if (offset + bytes > weightData.byteLength) {
      throw new ModelFormatError(
        `weight '${spec.name}' needs bytes ${offset} to ${offset + bytes} of the weight shards (${manifest.paths.join(', ') || 'none listed'}), which hold only ${weightData.byteLength} bytes: a shard is truncated or missing`,
      );
    }
    const data = decodeValues(spec, stored, weightData, offset, count);
    out.set(spec.name, { shape: spec.shape, dtype: spec.dtype, data });
    offset += bytes;
  }
  return out;
}

function decodeValues(spec: WeightSpec, stored: keyof typeof STORED_BYTES, buf: ArrayBuffer, offset: number, count: number): Float32Array {
  // Shards are little-endian; a DataView keeps unaligned offsets (after bool or uint8 weights) legal.
  const view = new DataView(buf, offset, count * STORED_BYTES[stored]);
  const out = new Float32Array(count);
  const q = spec.quantization;
  // Integer weights stored quantized are rounded back to integers, as their dtype demands.
  const finish = spec.dtype === 'float32' ? (x: number): number => x : Math.round;
  switch (stored) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i) ? 1 : 0;
      break;
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = finish(view.getUint8(i) * q!.scale + q!.min);
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = finish(view.getUint16(2 * i, true) * q!.scale + q!.min);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = finish(halfToFloat(view.getUint16(2 * i, true)));
      break;
  }
  return out;
}

/** IEEE 754 binary16 to a number: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
