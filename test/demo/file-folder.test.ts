import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.js';
import { fileFolder, fileFolderDataset, type PathedFile } from '../../src/data/file-list.js';
import { imageFolderDataset } from '../../src/data/image-folder.js';
import { DEFAULT_PREPROCESSING, decodeImage } from '../../src/io/image.js';
import { makePhotoSet } from '../helpers/photo-set.js';

/**
 * The page's folder pick (file-list.ts) against the CLI's `--data FOLDER`
 * (image-folder.ts): the same classes, order, labels and tensors for any
 * slice, the files handed over in any order. Here the browser's decoder is
 * stood in for by the CLI's (Node has no createImageBitmap); the page test
 * checks the browser's own PNG decoding through the numbers shown.
 */

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-file-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file below `root`'s parent's view of it, as webkitRelativePath gives them (`photos/<label>/<file>`), shuffled. */
function pick(root: string, name: string): PathedFile[] {
  const out: PathedFile[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}/${e.name}`);
      else out.push({ path: `${rel}/${e.name}`, file: new Blob([readFileSync(join(d, e.name))]) });
    }
  };
  walk(root, name);
  // A fixed shuffle: the order the browser lists files in is not the order the dataset hands them out.
  return out.map((f, i) => ({ f, k: (i * 7919) % 101 })).sort((a, b) => a.k - b.k).map((x) => x.f);
}

async function all(ds: ImageDataset, size: readonly [number, number, number], layout: 'NCHW' | 'NHWC'): Promise<{ x: number[]; labels: number[] }> {
  const x: number[] = [];
  const labels: number[] = [];
  for await (const b of ds.batches(7, size, DEFAULT_PREPROCESSING, layout)) {
    x.push(...b.x.data);
    labels.push(...b.labels);
  }
  return { x, labels };
}

describe("the page's folder of labelled images", () => {
  it('orders, labels and preprocesses a folder as `--data FOLDER` does, for every slice', async () => {
    const root = makePhotoSet(join(dir, 'photos'), 20, 20);
    // What the CLI leaves out the pick leaves out too: a file beside the label folders, a folder below one, a text file.
    writeFileSync(join(root, 'notes.png'), 'not read');
    mkdirSync(join(root, 'coins', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'coins', 'deeper', 'x.png'), 'not read');
    writeFileSync(join(root, 'coins', 'readme.txt'), 'not read');
    const folder = fileFolder(pick(root, 'photos'));
    expect(folder.name).toBe('photos');
    const decode = async (file: Blob, what: string) => decodeImage(new Uint8Array(await file.arrayBuffer()), what);
    for (const [limit, start] of [[Infinity, 0], [8, 0], [5, 8]] as const) {
      const cli = imageFolderDataset(root, limit, start);
      const page = fileFolderDataset(folder, limit, start, decode);
      expect(page.classes).toEqual(cli.classes);
      expect(page.count).toBe(cli.count);
      for (const layout of ['NCHW', 'NHWC'] as const) {
        for (const size of [[1, 12, 12], [3, 16, 16]] as const) {
          const [a, b] = await Promise.all([all(page, size, layout), all(cli, size, layout)]);
          expect(a.labels).toEqual(b.labels);
          expect(a.x).toEqual(b.x);
        }
      }
    }
    expect(folder.files.map((f) => f.file.path).slice(0, 3)).toEqual(['photos/astronaut/00000.png', 'photos/brick/00011.png', 'photos/camera/00012.png']);
  });

  it('says plainly when the files chosen are not a folder of label subfolders', () => {
    expect(() => fileFolder([{ path: 'a.png', file: new Blob([]) }])).toThrow(/no label subfolders/);
    expect(() => fileFolder([{ path: 'photos/cat/a.txt', file: new Blob([]) }])).toThrow(/hold no \.png or \.jpg files/);
  });
});
