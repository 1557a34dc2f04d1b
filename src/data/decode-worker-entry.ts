/**
 * A worker thread's program (bundled by esbuild, see decode-pool.ts): reads,
 * decodes and resizes image files into preprocessed tensors, off the
 * thread that runs the model and counts its statistics.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodeImage, imageToTensor, type Preprocessing } from '../io/image.js';
import type { RpcReply } from '../util/worker-rpc.js';

export interface DecodeMessage {
  path: string;
  size: readonly [number, number, number];
  pre: Preprocessing;
  layout: 'NCHW' | 'NHWC';
}

parentPort!.on('message', (m: DecodeMessage & { id: number }) => {
  try {
    const [c, h, w] = m.size;
    const { data } = imageToTensor(decodeImage(new Uint8Array(readFileSync(m.path)), m.path), c, h, w, m.pre, m.layout);
    parentPort!.postMessage({ id: m.id, ok: true, data } satisfies RpcReply<{ data: Float32Array }>, [data.buffer as ArrayBuffer]);
  } catch (e) {
    // decodeImage's errors are InputErrors naming the file; a file that cannot be read is one too.
    const message = e instanceof Error ? e.message : String(e);
    parentPort!.postMessage({ id: m.id, ok: false, message: /^(ENOENT|EACCES|EISDIR)/.test(message) ? `cannot read ${m.path}: ${message}` : message } satisfies RpcReply);
  }
});
