import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/** An IDX array (the MNIST file format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parse IDX bytes (gzipped or not). Magic: two zero bytes, the type code
 * (0x08 = unsigned byte, the only one MNIST-style datasets use), the rank.
 */
export function parseIdx(raw: Uint8Array, what: string): IdxArray {
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(raw));
    } catch (e) {
      throw new InputError(`${what}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new InputError(`${what}: not an IDX file (bad magic number)`);
  if (bytes[2] !== 0x08) throw new InputError(`${what}: IDX element type 0x${bytes[2]!.toString(16)} is not supported (unsigned bytes only)`);
  const rank = bytes[3]!;
  const header = 4 + 4 * rank;
  if (rank === 0 || bytes.length < header) throw new InputError(`${what}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header < count) {
    throw new InputError(`${what}: truncated: dimensions [${dims.join(',')}] need ${count} bytes, the file has ${bytes.length - header}`);
  }
  return { dims, data: bytes.subarray(header, header + count) };
}

export function readIdxFile(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseIdx(raw, path);
}
