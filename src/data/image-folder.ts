import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeImage, imageToTensor } from '../io/image.js';
import { layoutShape, type ImageDataset } from './dataset.js';
import { decodePool } from './decode-pool.js';
import { labelledOrder } from './folder-order.js';

/** From this many images on, a folder is decoded in worker threads (their start costs about 0.2 s). */
const DECODE_IN_WORKERS_FROM = 64;

/**
 * A folder of PNG/JPEG photos, one subfolder per label (label = the
 * subfolder's index in sorted order). Files are decoded batch by batch, so
 * a large folder never sits in memory whole; large folders are decoded in
 * worker threads while the model works on the batch before.
 */
export function imageFolderDataset(dir: string, limit = Infinity, start = 0): ImageDataset {
  const dirs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory());
  if (dirs.length === 0) throw new InputError(`${dir}: no label subfolders (expected ${dir}/<label>/<image>.png)`);
  const { classes, files: ordered } = labelledOrder(dirs, (c) => readdirSync(join(dir, c)).map((name) => ({ name, file: join(dir, c, name) })));
  if (ordered.length === 0) throw new InputError(`${dir}: the label subfolders hold no .png or .jpg files`);
  const picked = ordered.slice(start, start + limit);
  return {
    name: dir,
    count: picked.length,
    classes,
    async *batches(batchSize, size, pre, layout = 'NCHW') {
      const [c, h, w] = size;
      const per = c * h * w;
      // Small folders decode here; large ones in worker threads, a batch ahead of the one handed out.
      const workers = picked.length >= DECODE_IN_WORKERS_FROM ? await decodePool() : undefined;
      const decodeHere = (f: { file: string }): Float32Array => imageToTensor(decodeImage(new Uint8Array(readFileSync(f.file)), f.file), c, h, w, pre, layout).data;
      const request = (start: number) =>
        picked.slice(start, start + batchSize).map((f) => {
          if (!workers) return { f };
          const data = workers.decode(f.file, size, pre, layout);
          // A batch decoded ahead may fail before anyone awaits it: its failure is reported by the await below, not as unhandled.
          data.catch(() => undefined);
          return { f, data };
        });
      let next = picked.length > 0 ? request(0) : [];
      for (let start = 0; start < picked.length; start += batchSize) {
        const part = next;
        next = start + batchSize < picked.length ? request(start + batchSize) : [];
        const data = new Float32Array(part.length * per);
        for (let i = 0; i < part.length; i++) {
          const p = part[i]!;
          data.set(p.data ? await p.data : decodeHere(p.f), i * per);
        }
        yield { x: { shape: layoutShape(part.length, size, layout), data }, labels: Int32Array.from(part, (p) => p.f.label) };
      }
    },
  };
}
