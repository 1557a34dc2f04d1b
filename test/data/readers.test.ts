import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { readDigits } from '../../src/data/digits.js';
import { FASHION_MNIST_DIR, readIdxImages } from '../../src/data/fashion-mnist.js';
import { readIdxFile } from '../../src/data/idx.js';
import { openDataset } from '../../src/data/open-dataset.js';
import { InputError } from '../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'quantgpu-data-'));
const testImages = gunzipSync(readFileSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')));
const testLabels = gunzipSync(readFileSync(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));

/** A folder shaped like the Fashion-MNIST one, with the given test files. */
function idxFolder(name: string, images: Uint8Array, labels: Uint8Array, gz = false): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `t10k-images-idx3-ubyte${gz ? '.gz' : ''}`), gz ? gzipSync(images) : images);
  writeFileSync(join(dir, `t10k-labels-idx1-ubyte${gz ? '.gz' : ''}`), gz ? gzipSync(labels) : labels);
  return dir;
}

describe('IDX reader', () => {
  it('reads the real Fashion-MNIST test split: 10,000 28x28 images, labels 0..9', async () => {
    const set = await readIdxImages('test');
    expect([set.count, set.height, set.width]).toEqual([10000, 28, 28]);
    expect(Math.max(...set.labels)).toBe(9);
    // The first labels of the official test file.
    expect(Array.from(set.labels.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });

  it('reads only what --limit asks for, gzipped or not, with the same bytes', async () => {
    const a = await readIdxImages('test', idxFolder('plain', testImages, testLabels), 7);
    const b = await readIdxImages('test', idxFolder('gz', testImages, testLabels, true), 7);
    expect(a.count).toBe(7);
    expect(a.pixels.length).toBe(7 * 784);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(a.pixels).equals(testImages.subarray(16, 16 + 7 * 784))).toBe(true);
  });

  it('rejects a wrong magic number, naming the file', async () => {
    const bad = Uint8Array.from(testImages.subarray(0, 1000));
    bad[2] = 0x0d; // float32 elements: not what MNIST-style files hold
    const dir = idxFolder('magic', bad, testLabels);
    await expect(readIdxImages('test', dir)).rejects.toThrow(InputError);
    await expect(readIdxImages('test', dir)).rejects.toThrow(/t10k-images-idx3-ubyte: IDX element type 0xd/);
    const notIdx = join(tmp, 'not-idx');
    writeFileSync(notIdx, 'hello world');
    await expect(readIdxFile(notIdx)).rejects.toThrow(/not-idx: not an IDX file \(bad magic number\)/);
  });

  it('rejects a truncated file, saying how many bytes are missing', async () => {
    const dir = idxFolder('truncated', testImages.subarray(0, 16 + 784 * 10 + 100), testLabels, true);
    await expect(readIdxImages('test', dir)).rejects.toThrow(/truncated: dimensions \[10000,28,28\] need 7840000 data bytes, the file has 7940/);
  });

  it('rejects a label count that does not match the images', async () => {
    const labels = Uint8Array.from(testLabels.subarray(0, 8 + 9999));
    new DataView(labels.buffer).setUint32(4, 9999, false);
    const dir = idxFolder('labels', testImages, labels);
    await expect(readIdxImages('test', dir)).rejects.toThrow(/9999 labels for the 10000 images/);
  });

  it('names the install command when the dataset is missing', async () => {
    await expect(openDataset(join(tmp, 'nowhere'), 'test')).rejects.toThrow(/neither fashion-mnist nor digits nor an existing folder/);
    await expect(readIdxImages('train', join(tmp, 'plain'))).rejects.toThrow(/train-images-idx3-ubyte\[\.gz\] not found/);
  });
});

describe('digits reader', () => {
  it('splits the 1,797 digits by index: i % 4 == 3 is test', () => {
    const train = readDigits('train');
    const test = readDigits('test');
    expect(train.count + test.count).toBe(1797);
    expect(test.count).toBe(449);
    expect(Math.max(...train.pixels)).toBe(16);
  });

  it('rejects a malformed row, naming the line', () => {
    const file = join(tmp, 'digits.csv');
    writeFileSync(file, '0,1,2\n');
    expect(() => readDigits('train', file)).toThrow(/digits.csv: row 1 is not 64 pixel values/);
  });
});

describe('image folder reader', () => {
  it('labels photos by subfolder and balances a limited slice across labels', async () => {
    const dir = join(tmp, 'photos');
    for (const [label, shade] of [['cat', 40], ['dog', 200]] as const) {
      mkdirSync(join(dir, label), { recursive: true });
      for (let i = 0; i < 3; i++) {
        const png = new PNG({ width: 10, height: 6 });
        png.data.fill(shade);
        writeFileSync(join(dir, label, `${i}.png`), PNG.sync.write(png));
      }
    }
    copyFileSync('/usr/lib/python3/dist-packages/skimage/data/chelsea.png', join(dir, 'cat', 'chelsea.png'));
    const ds = await openDataset(dir, 'test', 4);
    expect(ds.classes).toEqual(['cat', 'dog']);
    const batches = [];
    for await (const b of ds.batches(3, [1, 8, 8], { scale: 1 / 255, mean: [0], std: [1] })) batches.push(b);
    expect(batches.map((b) => Array.from(b.labels))).toEqual([[0, 1, 0], [1]]);
    expect(batches[0]!.x.shape).toEqual([3, 1, 8, 8]);
    expect(batches[0]!.x.data[0]).toBeCloseTo(40 / 255, 5);
  });

  it('rejects a folder without label subfolders', async () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    await expect(openDataset(dir, 'test')).rejects.toThrow(/no label subfolders/);
  });
});
