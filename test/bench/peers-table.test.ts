/**
 * The peers bench's Markdown from a results document made by hand (no
 * browser): ratios are peer / quantgpu, engines absent from the run get no
 * column, the roofline reading sits on the first batch's row, and failures are
 * listed under the tables.
 */
import { describe, expect, it } from 'vitest';
import type { PeersDoc, PeersRow } from '../../src/bench/peers.js';
import { peersMarkdown } from '../../src/bench/peers-table.js';

const row = (engine: PeersRow['engine'], ms1: number, ms8: number, extra: Partial<PeersRow> = {}): PeersRow => ({
  model: 'tiny',
  engine,
  runtime: engine,
  loadMs: 10,
  batches: [
    { batch: 1, firstMs: 100, medianMs: ms1 },
    { batch: 8, firstMs: 200, medianMs: ms8 },
  ],
  ...extra,
});

const doc: PeersDoc = {
  date: '2026-12-02T16:31:52.843Z',
  adapter: 'test adapter',
  browser: 'Chrome/1',
  machine: { cpus: 2, loadBefore: [1, 1, 1], loadAfter: [2, 2, 2] },
  options: { models: ['tiny', 'broken'], engines: ['ort-wasm', 'ort-webgpu', 'quantgpu-float', 'quantgpu-w8a8'], batches: [1, 8], warmup: 1, repeats: 3 },
  rows: [
    row('ort-wasm', 1, 4),
    row('ort-webgpu', 40, 160, { check: { against: 'ort-wasm', maxAbsDiff: 1e-6, refMaxAbs: 5 } }),
    row('quantgpu-float', 8, 32, { check: { against: 'ort-wasm', maxAbsDiff: 2e-6, refMaxAbs: 5 } }),
    row('quantgpu-w8a8', 4, 16, {
      check: { against: 'golden w8a8', maxAbsDiff: 0, refMaxAbs: 5 },
      roofline: { wallMs: 5, gpuMs: 3, floorMs: 1.5, worst: [{ layer: '/conv1', op: 'conv 3x3', ms: 2, floorMs: 0.5 }] },
    }),
  ],
  failures: [
    { model: 'broken', engine: 'all', error: 'InputError: no such model' },
    { model: 'tiny', engine: 'ort-webgpu-qdq', error: 'QuantConfigError: QDQ holds 8-bit activations only' },
  ],
};

describe('peersMarkdown', () => {
  const lines = peersMarkdown(doc).split('\n');

  it('gives each peer as ms and its ratios to quantgpu w8a8 and float, with the roofline on the first batch', () => {
    expect(lines).toContain('| model | batch | quantgpu w8a8 | quantgpu float | quantgpu w4a8 | ort-webgpu | ort-wasm | w8a8 floor ms | where w8a8 time goes |');
    expect(lines).toContain('| tiny | 1 | 4.00 | 8.00 | - | 40.0 (10.00x / 5.00x) | 1.00 (0.25x / 0.13x) | 1.50 | GPU 3.00 ms = 2.0x floor, rest of wall 2.00 ms; worst conv 3x3 /conv1 2.00 ms vs floor 0.50 |');
    expect(lines).toContain('| tiny | 8 | 16.0 | 32.0 | - | 160 (10.00x / 5.00x) | 4.00 (0.25x / 0.13x) |  |  |');
  });

  it('lists load, first runs and checks per engine, and what could not run', () => {
    expect(lines).toContain('| tiny | quantgpu-w8a8 | quantgpu-w8a8 | 10.0 | 100 | 200 | 0.00 vs golden w8a8 (max abs 5.00) |');
    expect(lines).toContain('| tiny | ort-wasm | ort-wasm | 10.0 | 100 | 200 | (reference) |');
    expect(lines.slice(-2)).toEqual(['- broken, all: InputError: no such model', '- tiny, ort-webgpu-qdq: QuantConfigError: QDQ holds 8-bit activations only']);
    expect(lines[0]).toBe('Peers bench, 2026-12-02 16:31 UTC; adapter test adapter; Chrome/1; median of 3 runs after 1 warm-up; 2 CPUs, load average 1.0 before, 2.0 after.');
  });
});
