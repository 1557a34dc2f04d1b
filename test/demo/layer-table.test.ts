import { describe, expect, it } from 'vitest';
import { addRule, applyEdit } from '../../demo/app/layer-table.js';
import { layerSetting, PRESETS, type QuantConfig } from '../../src/quant/config.js';
import type { SessionProfile } from '../../src/runtime/profile.js';
import { profileChart } from '../../src/search/report/charts.js';

const w8a8 = (): QuantConfig => structuredClone(PRESETS.w8a8!);

describe("the page's layer table edits", () => {
  it('an edit is an override under the exact name, and only that layer changes', () => {
    const c = applyEdit(w8a8(), '/features/Conv', 'weightBits', '4');
    expect(c.layers).toEqual({ '/features/Conv': { weightBits: 4 } });
    expect(layerSetting(c, '/features/Conv')).toMatchObject({ weightBits: 4, activationBits: 8, scheme: 'affine' });
    expect(layerSetting(c, '/other/Conv')).toMatchObject({ weightBits: 8 });
    const c2 = applyEdit(c, '/features/Conv', 'scheme', 'symmetric');
    expect(c2.layers).toEqual({ '/features/Conv': { weightBits: 4, scheme: 'symmetric' } });
  });

  it('float on and off: a layer a rule or the default makes float gets a whole 8-bit setting when unticked', () => {
    const f = applyEdit(w8a8(), '/fc/Gemm', 'float', true);
    expect(layerSetting(f, '/fc/Gemm')).toBe('float');
    expect(applyEdit(f, '/fc/Gemm', 'float', false).layers).toEqual({});
    const byRule = addRule(w8a8(), '/fc/*', 'float');
    const back = applyEdit(byRule, '/fc/Gemm', 'float', false);
    expect(layerSetting(back, '/fc/Gemm')).toMatchObject({ weightBits: 8, activationBits: 8 });
    const floatDefault = applyEdit(structuredClone(PRESETS.float!), '/fc/Gemm', 'activationBits', '6');
    expect(layerSetting(floatDefault, '/fc/Gemm')).toMatchObject({ weightBits: 8, activationBits: 6 });
  });

  it('a rule added again moves last, so it wins over earlier keys', () => {
    let c = addRule(w8a8(), '/features/*', { weightBits: 4, activationBits: 8 });
    c = applyEdit(c, '/features/Conv', 'weightBits', '2');
    expect(layerSetting(c, '/features/Conv')).toMatchObject({ weightBits: 2 });
    c = addRule(c, '/features/*', { weightBits: 4, activationBits: 8 });
    expect(Object.keys(c.layers!)).toEqual(['/features/Conv', '/features/*']);
    expect(layerSetting(c, '/features/Conv')).toMatchObject({ weightBits: 4 });
  });
});

describe('profileChart', () => {
  const profile = (timestamps: boolean): SessionProfile => ({
    adapter: 'test',
    batch: 4,
    warmup: 1,
    repeats: 3,
    timestamps,
    wallMs: 10,
    gpuMs: timestamps ? 6 : null,
    layers: [
      { layer: '/a/Conv', op: 'conv', shape: [4, 8, 4, 4], bits: 'w4a8', macs: 100, medianMs: timestamps ? 4 : null, gops: null, bytes: 1000, floorMs: null },
      { layer: '/b/Gemm', op: 'dense', shape: [4, 10], bits: 'w8a8', macs: 10, medianMs: timestamps ? 2 : null, gops: null, bytes: 100, floorMs: null },
    ],
  });

  it('bars of ms per image in network order, none without timestamps', () => {
    const spec = profileChart(profile(true))!;
    const series = (spec.option.series as Array<{ data: number[] }>)[0]!;
    expect(series.data).toEqual([1, 0.5]);
    expect((spec.option.xAxis as { data: string[] }).data).toEqual(['a/Conv', 'b/Gemm']);
    expect(profileChart(profile(false))).toBeUndefined();
  });
});
