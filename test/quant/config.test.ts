import { describe, expect, it } from 'vitest';
import { QuantConfigError } from '../../src/errors.js';
import { layerSetting, PRESETS, unusedPatterns, type LayerQuant } from '../../src/quant/config.js';
import { parseQuantConfig, quantConfigToJson, resolveQuantConfig } from '../../src/quant/config-json.js';

describe('QuantConfig', () => {
  it('every preset passes its own schema and survives a JSON round trip', () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      const back = parseQuantConfig(JSON.parse(quantConfigToJson(preset)), name);
      expect(back.default).toEqual(preset.default);
    }
  });

  it('resolves overrides by name and glob, later entries winning', () => {
    const c = parseQuantConfig({
      default: { weightBits: 8, activationBits: 8 },
      layers: { '/features/*': { weightBits: 4 }, '/features/conv3': 'float', '/classifier/fc?': { activationBits: 6, calibrator: 'percentile', calibratorParam: 99.9 } },
    });
    expect((layerSetting(c, '/features/conv1') as LayerQuant).weightBits).toBe(4);
    expect((layerSetting(c, '/features/conv1') as LayerQuant).scheme).toBe('affine');
    expect(layerSetting(c, '/features/conv3')).toBe('float');
    expect(layerSetting(c, '/classifier/fc1')).toMatchObject({ weightBits: 8, activationBits: 6, calibrator: 'percentile', calibratorParam: 99.9 });
    expect(layerSetting(c, 'other')).toMatchObject({ weightBits: 8, activationBits: 8, weightGranularity: 'per-channel' });
    expect(unusedPatterns(c, ['/features/conv1', 'other'])).toEqual(['/features/conv3', '/classifier/fc?']);
  });

  it('a partial override of a float default must give both bitwidths', () => {
    const c = parseQuantConfig({ default: 'float', layers: { conv1: { weightBits: 4 } } });
    expect(() => layerSetting(c, 'conv1')).toThrow(/layers\['conv1'\].*weightBits and activationBits/);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an invalid bitwidth', { default: { weightBits: 9, activationBits: 8 } }, /default.weightBits must be one of 2, 3, 4, 5, 6, 7, 8, 16/],
    ['a bad bitwidth in an override', { default: 'float', layers: { 'conv*': { activationBits: 1 } } }, /layers\['conv\*'\]\.activationBits must be one of/],
    ['an unknown scheme', { default: { weightBits: 8, activationBits: 8, scheme: 'log' } }, /default.scheme must be one of "symmetric", "affine", "pow2"/],
    ['an unknown field', { default: { weightBits: 8, activationBits: 8, wbits: 4 } }, /default.wbits is not a known field/],
    ['a missing default', { layers: {} }, /default is required/],
    ['a percentile out of range', { default: { weightBits: 8, activationBits: 8, calibratorParam: 100 } }, /default.calibratorParam must be < 100/],
    ['a bias bitwidth below 8', { default: { weightBits: 8, activationBits: 8, biasBits: 4 } }, /default.biasBits must be >= 8/],
  ];
  for (const [what, value, message] of bad) {
    it(`rejects ${what} with a QuantConfigError naming the field`, () => {
      expect(() => parseQuantConfig(value)).toThrow(QuantConfigError);
      expect(() => parseQuantConfig(value)).toThrow(message);
    });
  }

  it('names the presets when given neither a preset nor JSON', () => {
    expect(() => resolveQuantConfig('w9a9')).toThrow(/w8a8, w8a8-pow2, w4a8/);
  });
});
