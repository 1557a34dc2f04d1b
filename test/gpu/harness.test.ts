/**
 * The harness checks itself: programs that leak a buffer, raise a validation
 * error or leave outputs unwritten must be caught, on both hosts; and the
 * pipeline cache reuses pipelines on a real device.
 */
import { expect, it } from 'vitest';
import { decodeInt32, encodeInt32 } from './harness/codec.js';
import { describeOnHosts, expectClean } from './harness/on-hosts.js';
import { POISON_I32 } from './harness/poison.js';
import { golden, randomCases } from './kernels/requant-cases.js';
import { shaderSource } from '../../src/gpu/shader-parts.js';

describeOnHosts((host) => {
  it('reports a buffer made with device.createBuffer and never destroyed, by its label', async () => {
    const run = await host().run('leakBuffer', { label: 'leaky-buffer' });
    expect(run.thrown).toBeUndefined();
    expect(run.gpuErrors).toEqual([]);
    expect(run.leakedBuffers).toEqual(['leaky-buffer']);
  });

  it('reports a validation error raised during the run', async () => {
    const run = await host().run('invalidBuffer', null);
    expect(run.thrown).toBeUndefined();
    expect(run.gpuErrors).toHaveLength(1);
    expect(run.gpuErrors[0]).toMatch(/^validation: .*MapRead/i);
    expect(run.leakedBuffers).toEqual([]);
  });

  it('leaves unwritten output elements poisoned (0xDEADBEEF), so they fail exact comparisons', async () => {
    const cases = randomCases('high_mul', 100, 7);
    const value = expectClean(await host().run('requant', { primitive: 'high_mul', cases: encodeInt32(cases), count: 97 }), 'requant');
    const actual = decodeInt32(value.results);
    const expected = golden('high_mul', cases);
    expect([...actual.subarray(0, 97)]).toEqual([...expected.subarray(0, 97)]);
    expect([...actual.subarray(97)]).toEqual([POISON_I32, POISON_I32, POISON_I32]);
  });

  it('compiles one pipeline per variant, keyed by its stable JSON and labelled kernel:key', async () => {
    const r = expectClean(await host().run('pipelineCache', null), 'pipelineCache');
    expect(r.sameObject).toBe(true);
    expect(r.addedByEqualVariant).toBe(0);
    expect(r.addedByChangedField).toBe(1);
    expect(r.keptAfterFailure).toBe(0); // a failed compile is not cached
    expect(r.labels).toEqual([
      'requant_test:{"kernel":"requant_test","primitive":"high_mul","workgroupSize":64}',
      'requant_test:{"kernel":"requant_test","primitive":"high_mul","workgroupSize":32}',
    ]);
    expect(r.unknownOverride).toMatch(/no override named TILE/);
  });

  it('reports a WGSL compile error with the variant and the shaders/ file and line', async () => {
    const run = await host().run('compileError', null);
    expect(run.thrown).toBeUndefined();
    expect(run.leakedBuffers).toEqual([]);
    const line = shaderSource('test/requant_test.wgsl').split('\n').findIndex((l) => l.includes('high_mul(k.a, k.b)')) + 1;
    expect(run.value?.name).toBe('ShaderCompileError');
    expect(run.value?.message).toMatch(/^kernel requant_test:\{"kernel":"requant_test","primitive":"high_mul","workgroupSize":8\} did not compile: /);
    expect(run.value?.message).toContain(`error at shaders/test/requant_test.wgsl:${line}:`);
    expect(run.value?.location).toMatch(new RegExp(`^shaders/test/requant_test\\.wgsl:${line}:\\d+$`));
    // The invalid module's validation error is the compile's to report, as the typed error; none escapes to the device.
    expect(run.gpuErrors).toEqual([]);
  });
});
