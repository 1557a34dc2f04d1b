/**
 * The CLI on a model quantized elsewhere: `export` of a w8a8 config, then
 * `eval` of the exported file with no --config or --stats, gives the
 * outputDigest of the config it came from; `info` tells what the file's
 * quantization maps to; flags that choose a quantization are refused with
 * one line naming them; the imported model exports again as the same QDQ graph.
 * The same for a w4a4 config exported as QONNX.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const MODEL = 'models/fashion-vgg.onnx';

describe('CLI on quantized ONNX files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-quantized-'));
  const stats = join(dir, 'stats.json');
  const qdq = join(dir, 'fashion-vgg.qdq.onnx');
  beforeAll(async () => {
    expect((await cli('calibrate', MODEL, '--data', 'fashion-mnist', '--images', '64', '-o', stats)).code).toBe(0);
  }, 120_000);

  it('export --format qdq, then eval of the file: the same outputDigest as the config; info and refusals', async () => {
    expect((await cli('export', MODEL, '--stats', stats, '-o', qdq)).code).toBe(0);
    const evalArgs = ['--data', 'fashion-mnist', '--limit', '64', '--backend', 'cpu-golden', '--preprocess', '1/255,0.286,0.353', '--json'];
    const [fromConfig, fromFile] = await Promise.all([cli('eval', MODEL, '--stats', stats, ...evalArgs), cli('eval', qdq, ...evalArgs)]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const [a, b] = [JSON.parse(fromConfig.stdout), JSON.parse(fromFile.stdout)];
    expect(b.config).toBe('imported');
    expect(b.outputDigest).toBe(a.outputDigest);
    expect(b.accuracy).toBe(a.accuracy);

    const info = await cli('info', qdq, '--json');
    const q = JSON.parse(info.stdout).quantized;
    expect(q.source).toBe('file');
    expect(q.floatLayers).toEqual([]);
    expect(q.notes.some((n: string) => n.startsWith('requantization:'))).toBe(true);

    for (const flags of [['--config', 'w4a8'], ['--stats', stats]]) {
      const r = await cli('eval', qdq, ...evalArgs, ...flags);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note:'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^InputError: ${flags[0]}.*: .* is already quantized \\(QDQ, QLinear or QONNX Quant operators\\) and runs with its own scales and zero points`))]);
    }

    // The imported model exports again: the same digest once more.
    const again = join(dir, 'again.onnx');
    expect((await cli('export', qdq, '-o', again)).code).toBe(0);
    const third = JSON.parse((await cli('eval', again, ...evalArgs)).stdout);
    expect(third.outputDigest).toBe(a.outputDigest);
  }, 240_000);

  it('export --format qonnx of a w4a4 config, then eval and info of the file: the config\'s outputDigest; it exports again as QONNX', async () => {
    const qonnx = join(dir, 'fashion-vgg.w4a4.qonnx.onnx');
    expect((await cli('export', MODEL, '--stats', stats, '--config', 'w4a4', '--format', 'qonnx', '-o', qonnx)).code).toBe(0);
    const evalArgs = ['--data', 'fashion-mnist', '--limit', '64', '--backend', 'cpu-golden', '--preprocess', '1/255,0.286,0.353', '--json'];
    const [fromConfig, fromFile] = await Promise.all([cli('eval', MODEL, '--stats', stats, '--config', 'w4a4', ...evalArgs), cli('eval', qonnx, ...evalArgs)]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const [a, b] = [JSON.parse(fromConfig.stdout), JSON.parse(fromFile.stdout)];
    expect(b.config).toBe('imported');
    expect(b.outputDigest).toBe(a.outputDigest);
    const q = JSON.parse((await cli('info', qonnx, '--json')).stdout).quantized;
    expect(q).toMatchObject({ source: 'file', floatLayers: [] });
    const again = join(dir, 'again.qonnx.onnx');
    expect((await cli('export', qonnx, '--format', 'qonnx', '-o', again)).code).toBe(0);
    expect(JSON.parse((await cli('eval', again, ...evalArgs)).stdout).outputDigest).toBe(a.outputDigest);
  }, 240_000);
});
