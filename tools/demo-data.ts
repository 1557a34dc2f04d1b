/**
 * Writes the page's bundled data (demo/data/): the first test images and the
 * first training images (for calibration) of each dataset the zoo uses, as
 * gzipped slices (src/data/slice.ts) with a manifest. The page and the CLI
 * then see the same images in the same order: the page's numbers over its
 * first N test images equal `eval --data NAME --limit N`.
 *
 *   npx tsx tools/demo-data.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { LabelledImages } from '../src/data/dataset.js';
import { readDigits } from '../src/data/digits.js';
import { readIdxImages } from '../src/data/fashion-mnist.js';
import { encodeSlice, type SliceMeta } from '../src/data/slice.js';

/** Test images, and training images for calibration (the CLI calibrates on 512 by default). */
const COUNTS = { test: 1000, train: 512 } as const;

const OUT = 'demo/data';
mkdirSync(OUT, { recursive: true });
const manifest: Array<SliceMeta & { file: string }> = [];
const sources: Record<string, (split: 'train' | 'test', limit: number) => Promise<LabelledImages> | LabelledImages> = {
  'fashion-mnist': (split, limit) => readIdxImages(split, undefined, limit),
  digits: (split, limit) => readDigits(split, undefined, limit),
};
for (const [dataset, read] of Object.entries(sources)) {
  for (const split of ['test', 'train'] as const) {
    const set = await read(split, COUNTS[split]);
    const file = `${dataset}-${split}.u8.gz`;
    const bytes = gzipSync(encodeSlice(set, COUNTS[split]), { level: 9 });
    writeFileSync(`${OUT}/${file}`, bytes);
    const count = Math.min(COUNTS[split], set.count);
    manifest.push({ dataset, split, count, channels: set.channels, height: set.height, width: set.width, ...(set.classes ? { classes: set.classes } : {}), file });
    console.log(`${OUT}/${file}: ${count} images, ${bytes.length} bytes`);
  }
}
writeFileSync(`${OUT}/datasets.json`, JSON.stringify(manifest, null, 2) + '\n');
