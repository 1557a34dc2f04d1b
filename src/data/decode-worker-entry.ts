/**
 * A worker thread's program (bundled by esbuild, see decode-pool.ts): reads,
 * decodes and resizes image files into preprocessed tensors, off the
 * thread that runs the model and counts its statistics.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodeImage, imageToTensor, type Preprocessing } from '../io/image.js';

export interface DecodeRequest {
  id: number;
  path: string;
  size: readonly [number, number, number];
  pre: Preprocessing;
  layout: 'NCHW' | 'NHWC';
}

export type DecodeReply = { id: number; data: Float32Array } | { id: number; error: { name: string; message: string } };

parentPort!.on('message', (m: DecodeRequest) => {
  try {
    const [c, h, w] = m.size;
    const { data } = imageToTensor(decodeImage(new Uint8Array(readFileSync(m.path)), m.path), c, h, w, m.pre, m.layout);
    parentPort!.postMessage({ id: m.id, data } satisfies DecodeReply, [data.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    parentPort!.postMessage({ id: m.id, error: { name: err.name, message: err.message } } satisfies DecodeReply);
  }
});
