/**
 * The README's API example is examples/api.ts, word for word (bar the import
 * path), and it runs: calibration, w4a8 quantization, a GPU session and its
 * profile, printing an accuracy and a per-layer table.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the README API example', () => {
  it('is examples/api.ts', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## The API[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync('examples/api.ts', 'utf8').replace("from '../src/node.js'", "from 'quantgpu/node'");
    expect(block).toBe(file);
  });

  it('runs: an accuracy on 64 test images and a profile of every layer', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/api.ts'], { maxBuffer: 16 << 20 });
    const m = /^w4a8 on the GPU: (\d+)\/64 correct$/m.exec(stdout);
    expect(m, stdout).not.toBeNull();
    // fashion-vgg is 92% accurate in float; w4a8 keeps it near that on any 64 images.
    expect(Number(m![1])).toBeGreaterThanOrEqual(52);
    expect(stdout).toMatch(/^layer +op +shape +bits +MACs +ms +GOP\/s$/m);
    expect(stdout).toMatch(/conv 3x3 im2col +64x32x28x28 +w4a8/);
  }, 180_000);
});
