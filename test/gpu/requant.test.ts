/**
 * The WGSL requantization primitives (shaders/requant.wgsl) and the quantize
 * step's rounded quotient (shaders/quotient.wgsl) against the TypeScript
 * golden model (src/quant/fixed-point.ts, rounding.ts), with zero tolerance, on
 * both hosts: edge values and seeded random ones (STYLE.md point 8). Also the
 * adapter's facts, printed so that a CI log shows what ran the tests.
 */
import { expect, it } from 'vitest';
import { formatAdapterFacts } from '../../src/gpu/adapter-info.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { decodeInt32, encodeInt32 } from './harness/codec.js';
import { describeOnHosts, expectClean } from './harness/on-hosts.js';
import { edgeCases, golden, mismatches, randomCases } from './kernels/requant-cases.js';
import { ARGS_PER_CASE, PRIMITIVES, type Primitive } from './kernels/requant-test-kernel.js';

const SEED = 20240607;
const RANDOM_CASES = 4096;

/** Cases for each primitive, made once for both hosts. */
const CASES: Record<Primitive, { edge: Int32Array; random: Int32Array }> = Object.fromEntries(
  PRIMITIVES.map((p, i) => [p, { edge: edgeCases(p), random: randomCases(p, RANDOM_CASES, SEED + i) }]),
) as Record<Primitive, { edge: Int32Array; random: Int32Array }>;

it('round_quotient_off cases are ones where trusting an off division would give another code (else its test proves nothing)', () => {
  const cases = CASES.round_quotient_off.edge;
  const expected = golden('round_quotient_off', cases);
  const f32 = new Float32Array(1);
  const i32 = new Int32Array(f32.buffer);
  let differ = 0;
  for (let i = 0; i < expected.length; i++) {
    const [xBits, sBits, off] = cases.subarray(i * ARGS_PER_CASE, i * ARGS_PER_CASE + 3) as unknown as [number, number, number];
    i32[0] = xBits;
    const x = f32[0]!;
    i32[0] = sBits;
    const s = f32[0]!;
    f32[0] = x / s;
    i32[0] = i32[0]! + off;
    if (Math.max(-4096, Math.min(4096, roundHalfEven(f32[0]!))) !== expected[i]) differ++;
  }
  expect(differ).toBeGreaterThan(expected.length / 10);
});

describeOnHosts((host) => {
  it('reports the adapter facts', async () => {
    const facts = expectClean(await host().run('adapterFacts', null), 'adapterFacts');
    console.log(formatAdapterFacts(facts));
    expect(facts.host).toBe(host().name);
    expect(facts.features).toEqual([...facts.features].sort());
    expect(facts.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(facts.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(facts.dot4I8Packed).toBe(facts.wgslLanguageFeatures.includes('packed_4x8_integer_dot_product'));
    expect(facts.timestampQuery).toBe(facts.features.includes('timestamp-query'));
    // Every optional feature the adapter has is enabled on the device.
    for (const f of ['timestamp-query', 'subgroups', 'shader-f16']) {
      expect(facts.features.includes(f), f).toBe(facts.adapterFeatures.includes(f));
    }
  });

  for (const primitive of PRIMITIVES) {
    for (const kind of ['edge', 'random'] as const) {
      const cases = CASES[primitive][kind];
      const n = cases.length / ARGS_PER_CASE;
      it(`${primitive}: ${n} ${kind === 'edge' ? 'edge' : 'seeded random'} cases equal the TypeScript golden model exactly`, async () => {
        const value = expectClean(await host().run('requant', { primitive, cases: encodeInt32(cases) }), primitive);
        const actual = decodeInt32(value.results);
        expect(actual.length).toBe(n);
        const diff = mismatches(primitive, cases, golden(primitive, cases), actual);
        expect(diff.count, `${diff.count} of ${n} cases differ:\n${diff.lines.join('\n')}`).toBe(0);
      });
    }
  }
});
