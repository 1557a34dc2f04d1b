import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readDigits } from '../../src/data/digits.js';
import { readIdxImages } from '../../src/data/fashion-mnist.js';
import { decodeSlice, type SliceMeta } from '../../src/data/slice.js';
import { OutputDigest } from '../../src/eval/digest.js';
import { WebOutputDigest } from '../../src/eval/web-digest.js';

describe("the page's data and digest", () => {
  it('the bundled slices are the first images of each split, as the CLI reads them (regenerate: npx tsx tools/demo-data.ts)', async () => {
    const manifest = JSON.parse(readFileSync('demo/data/datasets.json', 'utf8')) as Array<SliceMeta & { file: string }>;
    expect(manifest.map((m) => `${m.dataset}-${m.split}`).sort()).toEqual(['digits-test', 'digits-train', 'fashion-mnist-test', 'fashion-mnist-train']);
    for (const m of manifest) {
      const slice = decodeSlice(gunzipSync(readFileSync(`demo/data/${m.file}`)), m);
      const source = m.dataset === 'digits' ? readDigits(m.split, undefined, m.count) : await readIdxImages(m.split, undefined, m.count);
      expect(slice.count, m.file).toBe(source.count);
      expect(Buffer.from(slice.pixels).equals(Buffer.from(source.pixels)), m.file).toBe(true);
      expect(Array.from(slice.labels), m.file).toEqual(Array.from(source.labels));
      expect(slice.classes).toEqual(source.classes);
    }
  });

  it("the page's Web Crypto digest equals the CLI's outputDigest, batch boundaries aside", async () => {
    const words = Int32Array.from({ length: 1000 }, (_, i) => ((i * 2654435761) | 0) ^ (i << 7));
    const node = new OutputDigest();
    const web = new WebOutputDigest();
    node.add(words.subarray(0, 640));
    node.add(words.subarray(640));
    for (let i = 0; i < words.length; i += 100) web.add(words.subarray(i, i + 100));
    expect(await web.hex()).toBe(node.hex());
    expect(await new WebOutputDigest().hex()).toBe(new OutputDigest().hex());
  });
});
