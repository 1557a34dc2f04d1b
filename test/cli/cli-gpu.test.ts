/**
 * The GPU commands as a user meets them (a real process): `eval --backend gpu`
 * gives the same outputDigest as the CPU golden model on both runners, and
 * `profile` reports every layer with its MACs and GPU time. Errors stay one
 * line on stderr with exit code 2.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../../src/ir/summary.js';
import { loadModelFile } from '../../src/model/load-model-file.js';

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-gpu-'));


const MODEL = 'models/digits-resnet.onnx';
const stats = join(dir, 'digits-resnet.stats.json');

describe('eval --backend gpu', () => {
  beforeAll(async () => {
    const r = await cli('calibrate', MODEL, '--data', 'digits', '--images', '128', '-o', stats);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('gives the outputDigest of cpu-golden on both hosts, with the adapter and the time per image', async () => {
    const common = ['eval', MODEL, '--data', 'digits', '--limit', '96', '--batch', '32', '--config', 'w4a8', '--stats', stats, '--json'];
    // `chromium`, the browser host's former name, is still read as `browser` (profile below takes the default).
    const [golden, browser, node] = await Promise.all([cli(...common, '--backend', 'cpu-golden'), cli(...common, '--backend', 'gpu', '--gpu', 'chromium'), cli(...common, '--backend', 'gpu', '--gpu', 'node')]);
    for (const r of [golden, browser, node]) expect(r.code, r.stderr).toBe(0);
    const [g, c, n] = [golden, browser, node].map((r) => JSON.parse(r.stdout) as Record<string, unknown>);
    expect(c!.outputDigest).toBe(g!.outputDigest);
    expect(n!.outputDigest).toBe(g!.outputDigest);
    expect(c!.accuracy).toBe(g!.accuracy);
    expect(c).toMatchObject({ backend: 'gpu', gpu: 'browser', images: 96, config: 'w4a8' });
    expect(n).toMatchObject({ gpu: 'node' });
    expect(c!.adapter).toMatch(/\(browser/);
    expect(n!.adapter).toMatch(/\(node/);
    expect(c!.gpuMsPerImage as number).toBeGreaterThan(0);
  }, 300_000);

  it('runs the float graph with --config float', async () => {
    const r = await cli('eval', MODEL, '--data', 'digits', '--limit', '64', '--backend', 'gpu', '--gpu', 'node', '--config', 'float', '--json');
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Record<string, unknown>;
    const cpu = JSON.parse((await cli('eval', MODEL, '--data', 'digits', '--limit', '64', '--json')).stdout) as Record<string, unknown>;
    expect(f).toMatchObject({ backend: 'gpu', config: 'float', images: 64 });
    expect(f.accuracy).toBe(cpu.accuracy);
  }, 120_000);

  it('refuses an unknown runner and a config the GPU kernels cannot run, in one line', async () => {
    const bad = await cli('eval', MODEL, '--data', 'digits', '--backend', 'gpu', '--gpu', 'cuda');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('InputError: --gpu cuda: choose one of browser, node (or chromium, the same as browser)');
    const a16 = await cli('eval', MODEL, '--data', 'digits', '--limit', '8', '--backend', 'gpu', '--stats', stats, '--config', '{"default": {"weightBits": 4, "activationBits": 16}}');
    expect(a16.code).toBe(2);
    const lines = a16.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GpuUnsupportedError: \d+ layers of '.*' cannot run on this GPU: layer '.*' \(quantize\), .*: its output has 16-bit affine codes \[0, 65535\], which do not fit the 8-bit lanes/);
  }, 120_000);
});

describe('profile', () => {
  it('lists every layer with op, shape, bits, MACs, median time and GOP/s; MACs add up to the model', async () => {
    const r = await cli('profile', MODEL, '--stats', stats, '--config', 'w8a8', '--batch', '4', '--repeats', '3', '--warmup', '1', '--gpu', 'node', '--roofline', '--json');
    expect(r.code, r.stderr).toBe(0);
    type Peaks = { f32Gflops: number; dot4Gops: number | null; unpackedDotGops: number; bandwidthGBs: number };
    const p = JSON.parse(r.stdout) as { batch: number; timestamps: boolean; wallMs: number; peaks: Peaks; layers: Array<{ layer: string; op: string; shape: number[]; bits: string; macs: number; medianMs: number | null; gops: number | null; bytes: number; floorMs: number }>; memory: { plannedBytes: number; naiveBytes: number } };
    expect(p.batch).toBe(4);
    expect(p.timestamps).toBe(true);
    expect(p.wallMs).toBeGreaterThan(0);
    const macs = p.layers.reduce((a, l) => a + l.macs, 0);
    expect(macs).toBe(4 * summarize(loadModelFile(MODEL)).totals.macs!);
    // The roofline: each layer's floor is its bytes at the copy bandwidth or its MACs at one of the integer dot rates, whichever is longer.
    const rates = [p.peaks.dot4Gops ?? p.peaks.unpackedDotGops, p.peaks.unpackedDotGops];
    for (const l of p.layers) {
      expect(l.medianMs, l.layer).not.toBeNull();
      if (l.macs > 0) expect(l.gops ?? 0, l.layer).toBeGreaterThan(0);
      expect(l.bytes, l.layer).toBeGreaterThan(0);
      const memory = l.bytes / (p.peaks.bandwidthGBs * 1e6);
      const compute = rates.map((g) => (2 * l.macs) / (g * 1e6));
      expect(compute.some((c) => Math.abs(l.floorMs - Math.max(memory, c)) <= 1e-9 * Math.max(1, l.floorMs)), `${l.layer}: floor ${l.floorMs}`).toBe(true);
    }
    expect(p.layers.map((l) => l.op)).toEqual(expect.arrayContaining(['quantize+im2col 3x3', 'conv 3x3 im2col', 'conv 3x3', 'add', 'globalAvgPool', 'dense', 'dequantize']));
    expect(p.layers.find((l) => l.op === 'dense')!.bits).toBe('w8a8');
    expect(p.memory.plannedBytes).toBeLessThan(p.memory.naiveBytes);
  }, 120_000);

  it('prints a table for people', async () => {
    const r = await cli('profile', MODEL, '--config', 'float', '--data', 'digits', '--repeats', '2', '--warmup', '1', '--roofline');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter: .*via browser\nbatch 1, median of 2 runs after 1 warm-up: wall [\d.]+ ms per inference, GPU [\d.]+ ms \(sum of layers\)\npeaks: f32 [\d.]+ GFLOP\/s, .* copy [\d.]+ GB\/s; .*\nlayer +op +shape +bits +MACs +ms +GOP\/s +floor ms +x floor\n/);
    expect(r.stdout).toMatch(/activation memory \d+ B in \d+ buffers/);
  }, 120_000);
});
