/**
 * `quantgpu refine` and `--refinement`: the file it writes makes eval quantize
 * exactly as learning in the same command does, carries its statistics, and a
 * refinement that does not fit is one clear line.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

describe('quantgpu refine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-refine-'));
  const file = join(dir, 'r.json');
  const model = 'models/digits-resnet.onnx';
  const common = ['--data', 'digits', '--config', 'w4a8-adaround'];

  it('writes a refinement that eval uses as is, equal to learning inside eval on the same images', async () => {
    const r = await cli('refine', model, ...common, '--images', '64', '-o', file, '--json');
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ layers: 9, images: 64, output: file });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.format).toBe('quantgpu-refinement');
    expect(Object.keys(saved.stats.tensors).length).toBeGreaterThan(0);
    const fromFile = await cli('eval', model, ...common, '--backend', 'cpu-golden', '--refinement', file, '--limit', '64', '--json');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).not.toMatch(/learns AdaRound/);
    // No --refinement: eval learns first (a note says so), on the same images with the same settings: the same integers.
    const learned = await cli('eval', model, ...common, '--backend', 'cpu-golden', '--calib-images', '64', '--limit', '64', '--json');
    expect(learned.code).toBe(0);
    expect(learned.stderr).toMatch(/learns AdaRound rounding and bias corrections first/);
    expect(JSON.parse(learned.stdout).outputDigest).toBe(JSON.parse(fromFile.stdout).outputDigest);
    expect(JSON.parse(fromFile.stdout).accuracy).toBeGreaterThan(0.9);
  }, 300_000);

  it('a refinement learned on other statistics is refused in one line naming why', async () => {
    const stats = join(dir, 's.json');
    expect((await cli('calibrate', model, '--data', 'digits', '--images', '32', '-o', stats)).code).toBe(0);
    const r = await cli('eval', model, ...common, '--backend', 'cpu-golden', '--stats', stats, '--refinement', file, '--limit', '8');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^QuantConfigError: the refinement was learned for other calibration statistics/);
  }, 300_000);
});
