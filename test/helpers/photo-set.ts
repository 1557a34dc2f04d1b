/**
 * A folder of real photos for the tests and benches that read image folders: the
 * colour photos scikit-image ships (python3-skimage), as seeded random crops
 * (half to all of the short side, anywhere, mirrored half the time) resized
 * to `size` x `size` and written as PNG (the sources are PNG; no second
 * lossy step), one label subfolder per source photo: the layout
 * `--data FOLDER` reads. Made once; kept until deleted.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/io/image.js';
import { mulberry32 } from './random.js';

export const PHOTO_DIR = '/usr/lib/python3/dist-packages/skimage/data';
const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'hubble_deep_field.jpg', 'ihc.png', 'motorcycle_left.png', 'motorcycle_right.png', 'retina.jpg', 'rocket.jpg', 'grass.png', 'gravel.png', 'brick.png', 'camera.png', 'moon.png', 'coins.png'];

function countImages(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .reduce((n, d) => n + readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.png')).length, 0);
}

/** `count` photos of `size` x `size` under `dir` (made now unless already there); returns `dir`. */
export function makePhotoSet(dir: string, count: number, size = 224, seed = 7): string {
  if (countImages(dir) === count) return dir;
  const rng = mulberry32(seed);
  const sources = PHOTOS.map((f) => ({ name: f.replace(/\.\w+$/, ''), img: decodeImage(new Uint8Array(readFileSync(join(PHOTO_DIR, f))), f) }));
  for (let i = 0; i < count; i++) {
    const { name, img } = sources[i % sources.length]!;
    const side = Math.floor(Math.min(img.width, img.height) * (0.5 + 0.5 * rng()));
    const x0 = Math.floor(rng() * (img.width - side + 1));
    const y0 = Math.floor(rng() * (img.height - side + 1));
    const mirror = rng() < 0.5;
    const out = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) {
      const sy = y0 + Math.min(side - 1, Math.floor(((y + 0.5) * side) / size));
      for (let x = 0; x < size; x++) {
        const fx = Math.min(side - 1, Math.floor(((x + 0.5) * side) / size));
        const sx = x0 + (mirror ? side - 1 - fx : fx);
        const s = (sy * img.width + sx) * 4;
        const d = (y * size + x) * 4;
        out[d] = img.data[s]!;
        out[d + 1] = img.data[s + 1]!;
        out[d + 2] = img.data[s + 2]!;
        out[d + 3] = 255;
      }
    }
    mkdirSync(join(dir, name), { recursive: true });
    const png = new PNG({ width: size, height: size });
    png.data = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    writeFileSync(join(dir, name, `${String(i).padStart(5, '0')}.png`), PNG.sync.write(png));
  }
  return dir;
}
