import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeImage, imageToTensor } from '../io/image.js';
import { layoutShape, type ImageDataset } from './dataset.js';
import { decodePool } from './decode-pool.js';

/** From this many images on, a folder is decoded in worker threads (their start costs about 0.2 s). */
const DECODE_IN_WORKERS_FROM = 64;

const IMAGE = /\.(png|jpe?g)$/i;

/**
 * A folder of PNG/JPEG photos, one subfolder per label (label = the
 * subfolder's index in sorted order). Files are decoded batch by batch, so
 * a large folder never sits in memory whole; large folders are decoded in
 * worker threads while the model works on the batch before.
 */
export function imageFolderDataset(dir: string, limit = Infinity, start = 0): ImageDataset {
  const classes = readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
  if (classes.length === 0) throw new InputError(`${dir}: no label subfolders (expected ${dir}/<label>/<image>.png)`);
  const files: Array<{ path: string; label: number }> = [];
  classes.forEach((c, label) => {
    for (const f of readdirSync(join(dir, c)).filter((f) => IMAGE.test(f)).sort()) files.push({ path: join(dir, c, f), label });
  });
  if (files.length === 0) throw new InputError(`${dir}: the label subfolders hold no .png or .jpg files`);
  // A fixed interleaving (round-robin over labels) keeps a --limit slice balanced across classes.
  const byLabel = classes.map((_, l) => files.filter((f) => f.label === l));
  const ordered: typeof files = [];
  for (let i = 0; ordered.length < files.length; i++) for (const list of byLabel) if (i < list.length) ordered.push(list[i]!);
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
      const decodeHere = (f: { path: string }): Float32Array => imageToTensor(decodeImage(new Uint8Array(readFileSync(f.path)), f.path), c, h, w, pre, layout).data;
      const request = (start: number) =>
        picked.slice(start, start + batchSize).map((f) => {
          if (!workers) return { f };
          const data = workers.decode(f.path, size, pre, layout);
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
