/**
 * `quantgpu bench` as a user meets it (a real process): bad arguments are one
 * line on stderr with exit code 2, before any browser starts; a small run (one
 * small zoo model, ORT wasm and quantgpu, one repeat) writes the results
 * document with every engine's medians per batch, quantgpu's outputs checked
 * against ORT wasm (float) and the golden model (w8a8), and the roofline. It
 * checks what the bench computes and writes, never how fast anything is.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PeersDoc } from '../../src/bench/peers.js';
import { peersMarkdown } from '../../src/bench/peers-table.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-bench-'));

/** A results file of bench/search.bench.ts for digits-vgg: a hand-made mixed config in place of a search's choice. */
const searchFile = join(dir, 'search.json');
const MIXED = { default: { weightBits: 8, activationBits: 8, weightGranularity: 'per-channel' }, layers: { '/features/features.0/features.0.0/Conv': { weightBits: 4, activationBits: 6 } } };
writeFileSync(searchFile, JSON.stringify({ runs: [{ model: 'digits-vgg', method: 'sequential', result: { label: 'w8a8' , config: { default: { weightBits: 8, activationBits: 8 } } } }, { model: 'digits-vgg', method: 'fast', result: { label: 'w4-8a6-8 (mixed)', config: MIXED } }] }));

describe('quantgpu bench: argument errors', () => {
  it.each([
    [['--models', 'fashion-vgg,resnet50'], 'InputError: --models resnet50: not one of '],
    [['--engines', 'ort-cuda'], 'InputError: --engines ort-cuda: not one of ort-wasm, ort-webgpu, ort-webgpu-qdq, tfjs-webgpu, tfjs-wasm, quantgpu-float, quantgpu-w8a8, quantgpu-w4a8, quantgpu-searched'],
    [['--engines', ','], "InputError: --engines ',': give at least one of "],
    [['--batch', '1,0'], 'InputError: --batch 0: give a positive integer'],
    [['--repeats', 'many'], 'InputError: --repeats many: give a positive integer'],
    [['--searched', 'package.json'], "InputError: --searched package.json: no 'runs' list (a results file of bench/search.bench.ts)"],
    [['--table', 'package.json'], "InputError: --table package.json: not the peers bench's results (rows, failures, options, machine)"],
    [['-o', join(dir, 'missing-folder', 'peers.json')], `InputError: --out ${join(dir, 'missing-folder', 'peers.json')}: cannot write there (ENOENT)`],
  ])('%j', async (args, message) => {
    const out = join(dir, 'not-written.json');
    const r = await cli('bench', '-o', out, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim().startsWith(message), r.stderr).toBe(true);
    expect(existsSync(out)).toBe(false);
  });
});

describe('quantgpu bench: one small run', () => {
  it('writes every engine on every batch, quantgpu checked against ORT wasm and the golden model, with its roofline', async () => {
    const out = join(dir, 'peers.json');
    const r = await cli('bench', '--models', 'digits-vgg', '--engines', 'ort-wasm,quantgpu-float,quantgpu-w8a8,quantgpu-searched', '--searched', searchFile, '--batch', '1,2', '--warmup', '1', '--repeats', '1', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as PeersDoc;
    expect(JSON.parse(r.stdout)).toEqual(doc);
    expect(doc.failures).toEqual([]);
    expect(doc.adapter).toMatch(/\(browser/);
    expect(doc.options).toEqual({ models: ['digits-vgg'], engines: ['ort-wasm', 'quantgpu-float', 'quantgpu-w8a8', 'quantgpu-searched'], batches: [1, 2], warmup: 1, repeats: 1 });
    expect(doc.rows.map((row) => row.engine)).toEqual(['ort-wasm', 'quantgpu-float', 'quantgpu-w8a8', 'quantgpu-searched']);
    for (const row of doc.rows) {
      expect(row.model).toBe('digits-vgg');
      expect(row.batches.map((b) => b.batch)).toEqual([1, 2]);
      for (const b of row.batches) expect(b.medianMs > 0 && b.firstMs > 0).toBe(true);
      expect(row.loadMs).toBeGreaterThan(0);
    }
    const [ort, float, w8a8, searched] = doc.rows;
    expect(ort!.runtime).toBe('onnxruntime-web 1.30.0 wasm');
    expect(ort!.check).toBeUndefined();
    // Float32 on two engines: the same network up to summation order; w8a8: the golden model's integers, dequantized alike.
    expect(float!.check!.against).toBe('ort-wasm');
    expect(float!.check!.refMaxAbs).toBeGreaterThan(0.1);
    expect(float!.check!.maxAbsDiff).toBeLessThan(1e-4 * float!.check!.refMaxAbs);
    expect(w8a8!.check!.against).toBe('golden w8a8');
    expect(w8a8!.check!.maxAbsDiff).toBeLessThan(1e-6 * w8a8!.check!.refMaxAbs);
    expect(w8a8!.roofline!.floorMs).toBeGreaterThan(0);
    // The fast search's config (not the sequential one listed first), run as integers equal to its golden model.
    expect(searched!.config).toBe('fast search: w4-8a6-8 (mixed)');
    expect(searched!.check!.against).toBe('golden searched');
    expect(searched!.check!.maxAbsDiff).toBeLessThan(1e-6 * searched!.check!.refMaxAbs);
    expect(w8a8!.roofline!.worst.length).toBeGreaterThan(0);
    // The table names the model once per batch, with the ratio of ORT wasm to each of quantgpu's configs.
    const table = peersMarkdown(doc).split('\n');
    // --table redraws the same from the saved file, running nothing.
    const redrawn = await cli('bench', '--table', out);
    expect(redrawn.stdout.trimEnd().split('\n')).toEqual(table);
    expect(table.filter((l) => l.startsWith('| digits-vgg | 1 |') || l.startsWith('| digits-vgg | 2 |'))).toHaveLength(2);
    expect(table.find((l) => l.startsWith('| digits-vgg | 1 |'))).toMatch(/\| [\d.]+ \([\d.]+x \/ [\d.]+x\) \|/);
    expect(table).toContain('| model | batch | quantgpu w8a8 | quantgpu float | quantgpu w4a8 | quantgpu searched | ort-wasm | w8a8 floor ms | where w8a8 time goes |');
    expect(table.some((l) => l.startsWith('| digits-vgg | quantgpu-searched (fast search: w4-8a6-8 (mixed)) |'))).toBe(true);
  }, 300_000);
});
