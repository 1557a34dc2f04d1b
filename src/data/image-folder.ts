import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { decodeImage, imageToTensor } from '../io/image.js';
import type { ImageDataset } from './dataset.js';

const IMAGE = /\.(png|jpe?g)$/i;

/**
 * A folder of PNG/JPEG photos, one subfolder per label (label = the
 * subfolder's index in sorted order). Files are decoded batch by batch, so
 * a large folder never sits in memory whole.
 */
export function imageFolderDataset(dir: string, limit = Infinity): ImageDataset {
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
  const picked = ordered.slice(0, limit);
  return {
    name: dir,
    count: picked.length,
    classes,
    async *batches(batchSize, [c, h, w], pre) {
      for (let start = 0; start < picked.length; start += batchSize) {
        const part = picked.slice(start, start + batchSize);
        const data = new Float32Array(part.length * c * h * w);
        part.forEach((f, i) => data.set(imageToTensor(decodeImage(new Uint8Array(readFileSync(f.path)), f.path), c, h, w, pre).data, i * c * h * w));
        yield { x: { shape: [part.length, c, h, w], data }, labels: Int32Array.from(part, (f) => f.label) };
      }
    },
  };
}
