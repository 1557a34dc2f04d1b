import { InputError } from '../errors.js';
import type { Tensor } from '../cpu/tensor.js';
import { halfToFloat } from '../util/half.js';

/**
 * NumPy `.npy` files (format versions 1 to 3): little-endian float32/float64
 * and integer arrays, C order. Everything is read as float32.
 */
export function readNpy(bytes: Uint8Array, what = 'npy file'): Tensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new InputError(`${what}: not a .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new InputError(`${what}: unreadable header ${header.trim()}`);
  if (fortran) throw new InputError(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = start + headerLen;
  const readers: Record<string, [number, (o: number) => number]> = {
    '<f4': [4, (o) => view.getFloat32(o, true)],
    '<f8': [8, (o) => view.getFloat64(o, true)],
    '<f2': [2, (o) => halfToFloat(view.getUint16(o, true))],
    '|u1': [1, (o) => view.getUint8(o)],
    '|i1': [1, (o) => view.getInt8(o)],
    '<i4': [4, (o) => view.getInt32(o, true)],
    '<i8': [8, (o) => Number(view.getBigInt64(o, true))],
  };
  const r = readers[descr];
  if (!r) throw new InputError(`${what}: dtype '${descr}' is not supported (float16/32/64, uint8, int8, int32, int64)`);
  const [width, read] = r;
  if (bytes.length - body < count * width) throw new InputError(`${what}: truncated: shape [${shape}] needs ${count * width} bytes, has ${bytes.length - body}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(body + i * width);
  return { shape, data };
}

/** Write a float32 `.npy` (version 1.0). */
export function writeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that the data starts on a 64-byte boundary, as NumPy does.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}
