import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

/** An IDX array (the MNIST file format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parse the IDX header: two zero bytes, the type code (0x08 = unsigned byte), the rank, then the dimensions. */
function parseHeader(bytes: Uint8Array, what: string): { dims: number[]; headerBytes: number } | undefined {
  if (bytes.length < 4) return undefined;
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new InputError(`${what}: not an IDX file (bad magic number)`);
  if (bytes[2] !== 0x08) throw new InputError(`${what}: IDX element type 0x${bytes[2]!.toString(16)} is not supported (unsigned bytes only)`);
  const rank = bytes[3]!;
  if (rank === 0) throw new InputError(`${what}: IDX rank 0`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { dims: Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false)), headerBytes };
}

/**
 * Read an IDX file (gzipped or not), streaming: with `limit`, only the first
 * `limit` entries along the first axis are decompressed and kept.
 */
export async function readIdxFile(path: string, limit = Infinity): Promise<IdxArray> {
  let gz: boolean;
  try {
    const fh = await open(path);
    const magic = Buffer.alloc(2);
    await fh.read(magic, 0, 2, 0);
    await fh.close();
    gz = magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const file = createReadStream(path);
  const source = gz ? file.pipe(createGunzip()) : file;
  const chunks: Buffer[] = [];
  let have = 0;
  let need = Infinity;
  let header: ReturnType<typeof parseHeader>;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (!header) {
        header = parseHeader(Buffer.concat(chunks), path);
        if (header) need = header.headerBytes + Math.min(header.dims[0]!, limit) * header.dims.slice(1).reduce((a, b) => a * b, 1);
      }
      if (have >= need) break;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: corrupt ${gz ? 'gzip stream' : 'file'} (${(e as Error).message})`);
  } finally {
    file.destroy();
  }
  const bytes = new Uint8Array(Buffer.concat(chunks));
  header ??= parseHeader(bytes, path);
  if (!header) throw new InputError(`${path}: truncated IDX header`);
  const per = header.dims.slice(1).reduce((a, b) => a * b, 1);
  const count = Math.min(header.dims[0]!, limit);
  const available = bytes.length - header.headerBytes;
  if (available < count * per) {
    throw new InputError(`${path}: truncated: dimensions [${header.dims.join(',')}] need ${header.dims[0]! * per} data bytes, the file has ${available}`);
  }
  return { dims: [count, ...header.dims.slice(1)], data: bytes.subarray(header.headerBytes, header.headerBytes + count * per) };
}
