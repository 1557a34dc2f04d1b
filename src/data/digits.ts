import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import type { LabelledImages } from './dataset.js';

/** scikit-learn's 8x8 digits (1,797 images, pixel values 0..16), as Debian's python3-sklearn ships them. */
export const DIGITS_CSV = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';

/** The fixed split of the zoo: row i (0-based, file order) is a test image when i % 4 == 3. */
export function isDigitsTestRow(i: number): boolean {
  return i % 4 === 3;
}

/** The digits of one split; with `limit`, only the first `limit` of them. */
export function readDigits(split: 'train' | 'test', path = DIGITS_CSV, limit = Infinity): LabelledImages {
  let text: string;
  try {
    const raw = readFileSync(path);
    text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code ?? (e as Error).message}` + (code === 'ENOENT' ? '; install it with: apt-get install -y python3-sklearn' : ''));
  }
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const keep = rows.map((_, i) => i).filter((i) => isDigitsTestRow(i) === (split === 'test')).slice(0, limit);
  const pixels = new Uint8Array(keep.length * 64);
  const labels = new Uint8Array(keep.length);
  keep.forEach((row, k) => {
    const cells = rows[row]!.split(',').map(Number);
    if (cells.length !== 65 || cells.some((v) => !Number.isInteger(v) || v < 0 || v > 16)) {
      throw new InputError(`${path}: row ${row + 1} is not 64 pixel values in 0..16 and a label`);
    }
    pixels.set(cells.slice(0, 64), k * 64);
    labels[k] = cells[64]!;
  });
  return { name: `digits (${split})`, count: keep.length, channels: 1, height: 8, width: 8, pixels, labels, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}
