import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

/** Cross-layer equalization and analytic bias correction as a user meets them: calibrate --equalize, configs with equalize, the notes on stderr. */

describe('equalize on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-equalize-'));
  const model = 'models/fashion-vgg.onnx';
  const eqStats = join(dir, 'eq.json');
  const w4eq = JSON.stringify({ name: 'w4a8-eq', default: { weightBits: 4, activationBits: 8, weightGranularity: 'per-tensor', biasCorrection: 'analytic' }, equalize: true });

  it('calibrate --equalize records it, says which pairs, and eval needs a config that agrees', async () => {
    const c = await cli('calibrate', model, '--data', 'fashion-mnist', '--images', '64', '--executor', 'js', '--equalize', '-o', eqStats);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/equalize: 5 pair\(s\) equalized/);
    expect(c.stderr).toMatch(/equalized \/features\/features\.0\/features\.0\.0\/Conv -> \/features\/features\.2\/features\.2\.0\/Conv \(through maxPool\)/);
    expect(c.stderr).toMatch(/tensors of the equalized model over 64 images/);
    expect(JSON.parse(readFileSync(eqStats, 'utf8')).equalized).toBe(true);

    const mismatch = await cli('eval', model, '--data', 'fashion-mnist', '--backend', 'cpu-golden', '--config', 'w8a8', '--stats', eqStats, '--limit', '32');
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/QuantConfigError.*add "equalize": true to the config/);

    const ok = await cli('eval', model, '--data', 'fashion-mnist', '--backend', 'cpu-golden', '--config', w4eq, '--stats', eqStats, '--limit', '32', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).images).toBe(32);
    // Analytic bias correction reports the layers it could not correct (after a max pool, the first layer).
    expect(ok.stderr).toMatch(/bias correction \(analytic\): 1 layer\(s\) corrected, 5 skipped/);
    expect(ok.stderr).toMatch(/maxPool between/);
  }, 120_000);

  it('a config with equalize and statistics without it is an error that says what to do', async () => {
    const plain = join(dir, 'plain.json');
    const c = await cli('calibrate', model, '--data', 'fashion-mnist', '--images', '64', '--executor', 'js', '-o', plain);
    expect(c.code, c.stderr).toBe(0);
    const r = await cli('eval', model, '--data', 'fashion-mnist', '--backend', 'cpu-golden', '--config', w4eq, '--stats', plain, '--limit', '32');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/calibrate again with equalization \(quantgpu calibrate --equalize/);
  }, 120_000);

  it('sweep --equalize calibrates the equalized model once and quantizes every point of it', async () => {
    const r = await cli('sweep', model, '--weights', '4', '--acts', '8', '--granularity', 'per-tensor', '--calibrators', 'max', '--limit', '50', '--calib-images', '64', '--backend', 'cpu-golden', '--equalize', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/equalize: 5 pair\(s\) equalized/);
    const doc = JSON.parse(r.stdout);
    expect(doc.environment.equalized).toBe('5 pairs (cross-layer equalization)');
    expect(doc.points).toHaveLength(1);
    // A stats file of the plain model does not fit the equalized one.
    const bad = await cli('sweep', model, '--weights', '4', '--acts', '8', '--granularity', 'per-tensor', '--calibrators', 'max', '--limit', '50', '--stats', join(dir, 'plain.json'), '--backend', 'cpu-golden', '--equalize', '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/calibrate again with equalization/);
  }, 120_000);
});
