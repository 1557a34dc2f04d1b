/**
 * The WGSL sources as the runtime sees them: the generated module matches
 * shaders/ (else run npm run gen:shaders), shaders compose from named parts,
 * and variant keys are stable. No GPU.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shaderSources } from '../../src/gpu/generated/shaders.js';
import { stableJson, variantKey } from '../../src/gpu/pipeline-cache.js';
import { composeShader, locateLine, shaderSource } from '../../src/gpu/shader-parts.js';
import { GENERATED_FILE, generateShaderModule } from '../../tools/gen-shaders.js';
import { igemmKernel, type IgemmVariant } from '../../src/gpu/ops/conv.js';
import { requantTestKernel, type RequantTestVariant } from './kernels/requant-test-kernel.js';

describe('src/gpu/generated/shaders.ts', () => {
  it('is what tools/gen-shaders.ts makes from shaders/ now (if not: npm run gen:shaders)', () => {
    // toBe, not a boolean: a stale file shows as a diff of the WGSL that changed.
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(generateShaderModule());
  });

  it('holds each .wgsl file verbatim', () => {
    expect(shaderSources['requant.wgsl']).toBe(readFileSync(new URL('../../shaders/requant.wgsl', import.meta.url), 'utf8'));
    expect(Object.keys(shaderSources)).toContain('test/requant_test.wgsl');
  });
});

describe('composeShader', () => {
  const composed = composeShader(['requant.wgsl', 'test/requant_test.wgsl']);

  it('concatenates the parts in order, each after a marker line, unchanged', () => {
    expect(composed.code).toBe(
      `// ---- shaders/requant.wgsl ----\n${shaderSource('requant.wgsl')}// ---- shaders/test/requant_test.wgsl ----\n${shaderSource('test/requant_test.wgsl')}`,
    );
  });

  it('maps a line of the composed code back to its file and line', () => {
    const lines = composed.code.split('\n');
    const i = lines.findIndex((l) => l.startsWith('override PRIMITIVE'));
    const at = locateLine(composed, i + 1);
    expect(at?.part).toBe('test/requant_test.wgsl');
    expect(shaderSource('test/requant_test.wgsl').split('\n')[at!.line - 1]).toBe(lines[i]);
    expect(locateLine(composed, 1)).toBeUndefined(); // the first marker
    expect(locateLine(composed, 2)).toEqual({ part: 'requant.wgsl', line: 1 });
  });

  it('refuses no parts and a part listed twice', () => {
    expect(() => composeShader([])).toThrow(/no parts/);
    expect(() => composeShader(['requant.wgsl', 'requant.wgsl'])).toThrow(/'requant.wgsl' is listed twice/);
  });
});

describe('variant keys', () => {
  it('do not depend on key order, at any depth', () => {
    expect(variantKey({ kernel: 'k', b: 1, a: { y: [1, { q: 2, p: 3 }], x: true } } as { kernel: string })).toBe(
      '{"a":{"x":true,"y":[1,{"p":3,"q":2}]},"b":1,"kernel":"k"}',
    );
    expect(variantKey({ a: 1, kernel: 'k' } as { kernel: string })).toBe(variantKey({ kernel: 'k', a: 1 } as { kernel: string }));
  });

  it('refuse values JSON would drop or change, naming the field', () => {
    expect(() => stableJson({ kernel: 'k', tile: undefined })).toThrow(/variant.tile: undefined has no JSON form/);
    expect(() => stableJson({ kernel: 'k', bits: [8, NaN] })).toThrow(/variant.bits\[1\]: NaN/);
    expect(() => stableJson({ kernel: 'k', shape: new Int32Array(2) })).toThrow(/variant.shape: not a plain object/);
  });
});

describe('final WGSL of representative variants (file snapshots: a kernel change shows as a reviewed diff)', () => {
  it('requant_test, requantize', async () => {
    const variant: RequantTestVariant = { kernel: 'requant_test', primitive: 'requantize', workgroupSize: 64 };
    const header = `// variant ${variantKey(variant)}\n// override constants ${stableJson(requantTestKernel.constants?.(variant) ?? {})}\n`;
    await expect(header + requantTestKernel.shader(variant).code).toMatchFileSnapshot('./__snapshots__/requant_test.requantize.wgsl');
  });

  for (const variant of [
    { kernel: 'igemm', dot4: true, wLaneBits: 8, rows: 2, workgroupX: 4, workgroupY: 16, tiled: false, grouped: false },
    { kernel: 'igemm', dot4: false, wLaneBits: 4, rows: 2, workgroupX: 4, workgroupY: 16, tiled: false, grouped: true },
    { kernel: 'igemm', dot4: true, wLaneBits: 2, rows: 4, workgroupX: 8, workgroupY: 8, tiled: true, grouped: false },
  ] satisfies IgemmVariant[]) {
    it(`igemm, ${variant.dot4 ? 'dot4I8Packed' : 'vec4<i32>'} path, ${variant.wLaneBits}-bit weight lanes${variant.tiled ? ', tiled' : ''}`, async () => {
      const header = `// variant ${variantKey(variant)}\n// override constants ${stableJson(igemmKernel.constants?.(variant) ?? {})}\n`;
      const file = `./__snapshots__/igemm.${variant.dot4 ? 'dot4' : 'vec4'}.w${variant.wLaneBits}${variant.tiled ? '.tiled' : ''}.wgsl`;
      await expect(header + igemmKernel.shader(variant).code).toMatchFileSnapshot(file);
    });
  }
});
