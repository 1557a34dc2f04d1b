/**
 * The igemm kernel (shaders/igemm.wgsl with conv_io.wgsl and a dot part)
 * against the CPU golden model (intMatmulLayer), with zero tolerance, on both
 * hosts and both dot paths: a named sweep of small convolution and dense
 * layers whose shapes are not multiples of the tiles. Outputs are poisoned
 * before each run; the harness asserts no WebGPU error and no leaked buffer.
 * The planning and layout functions are checked first without a GPU.
 */
import { describe, expect, it } from 'vitest';
import { asNchw, fitWorkgroupWidth, igemmKernel, planConv, type ConvPlan } from '../../src/gpu/ops/conv.js';
import { variantKey } from '../../src/gpu/pipeline-cache.js';
import { reflectShader } from '../../src/gpu/reflect.js';
import { gpuLanePosition, laneBits, laneOffset, packConvWeights, paddedGroupChannels, unpackRows } from '../../src/quant/lanes.js';
import { decodeInt32 } from './harness/codec.js';
import { describeOnHosts, expectClean } from './harness/on-hosts.js';
import { POISON } from './harness/poison.js';
import { buildCase, igemmCodes, igemmPlanArgs, IGEMM_CASES, type BuiltCase, type IgemmCase } from './kernels/igemm-cases.js';

/**
 * Set where the adapter is known to lack packed_4x8_integer_dot_product: the
 * dot4I8Packed cases then check that planning refuses it. Unset (CI, where
 * SwiftShader has the feature), a missing feature fails those cases.
 */
const EXPECT_NO_DOT4 = process.env['QUANTGPU_TEST_EXPECT_NO_DOT4'] === '1';

const FACTS_WITH_DOT4 = { dot4I8Packed: true, limits: { maxComputeWorkgroupsPerDimension: 65535 } };
const FACTS_WITHOUT_DOT4 = { ...FACTS_WITH_DOT4, dot4I8Packed: false };

/** Built once for both hosts. */
const BUILT = new Map<IgemmCase, BuiltCase>(IGEMM_CASES.map((c) => [c, buildCase(c)]));

function plan(c: IgemmCase, dot4: boolean): ConvPlan {
  const b = BUILT.get(c)!;
  return planConv(b.q, b.inP, b.outP, b.inputShape, FACTS_WITH_DOT4, { dot4, ...(c.rows !== undefined ? { rows: c.rows } : {}) });
}

describe('igemm planning and layouts (no GPU)', () => {
  it('fits the workgroup to the layer: the widest of 8, 4, 2, 1 words across that idles the fewest invocations', () => {
    expect(fitWorkgroupWidth(8, 64)).toBe(8);
    expect(fitWorkgroupWidth(24, 64)).toBe(8);
    expect(fitWorkgroupWidth(12, 64)).toBe(4);
    expect(fitWorkgroupWidth(6, 64)).toBe(2);
    expect(fitWorkgroupWidth(3, 64)).toBe(1);
    expect(fitWorkgroupWidth(1, 64)).toBe(1);
    const b = BUILT.get(IGEMM_CASES.find((c) => c.outChannels === 7 && !c.dense)!)!;
    const p = planConv(b.q, b.inP, b.outP, b.inputShape, FACTS_WITH_DOT4, { fitWorkgroup: true, workgroupX: 8, workgroupY: 8 });
    expect([p.variant.workgroupX, p.variant.workgroupY]).toEqual([2, 32]);
  });

  it("plans give a value to every field of conv_io.wgsl's Params, and no other", () => {
    for (const dot4 of [false, true]) {
      const p = plan(IGEMM_CASES[2]!, dot4);
      const reflection = reflectShader(igemmKernel.shader(p.variant).code, igemmKernel.entryPoint);
      const fields = reflection.uniforms['params']!.fields.map((f) => f.name).sort();
      expect(Object.keys(p.uniforms).sort()).toEqual(fields);
      expect(reflection.bindings.map((b) => b.name)).toEqual(['params', 'activations', 'weights', 'bias', 'm0', 'shift', 'outputs']);
    }
  });

  it('the variant key holds what changes the shader, never a shape', () => {
    const small = plan(IGEMM_CASES[0]!, true);
    const big = plan(IGEMM_CASES[8]!, true);
    expect(variantKey(small.variant)).toBe(variantKey(big.variant));
    expect(variantKey(small.variant)).toBe('{"dot4":true,"grouped":false,"kernel":"igemm","rows":4,"tiled":false,"wLaneBits":8,"workgroupX":8,"workgroupY":8}');
    expect(plan(IGEMM_CASES[1]!, false).variant.wLaneBits).toBe(4);
    expect(plan(IGEMM_CASES[2]!, false).variant.wLaneBits).toBe(2);
    expect(plan(IGEMM_CASES[4]!, false).variant.wLaneBits).toBe(8); // 5-bit weights in 8-bit lanes
  });

  it('only the unpacked dot part is chosen, and dot4I8Packed is refused, where the adapter lacks the feature', () => {
    const b = BUILT.get(IGEMM_CASES[0]!)!;
    const p = planConv(b.q, b.inP, b.outP, b.inputShape, FACTS_WITHOUT_DOT4);
    expect(p.variant.dot4).toBe(false);
    const code = igemmKernel.shader(p.variant).code;
    expect(code).not.toMatch(/dot4I8Packed\s*\(|requires/);
    expect(igemmKernel.shader({ ...p.variant, dot4: true }).code).toMatch(/dot4I8Packed\s*\(/);
    expect(() => planConv(b.q, b.inP, b.outP, b.inputShape, FACTS_WITHOUT_DOT4, { dot4: true })).toThrow(/packed_4x8_integer_dot_product/);
    expect(planConv(b.q, b.inP, b.outP, b.inputShape, FACTS_WITH_DOT4).variant.dot4).toBe(true);
  });

  it('weights are reordered to (kh, kw, ci padded to 4) per output channel, lanes plane-major below 8 bits', () => {
    for (const c of IGEMM_CASES.filter((x) => !x.dense)) {
      const { q } = BUILT.get(c)!;
      const [m, cg, kH, kW] = q.weightShape as [number, number, number, number];
      const cgPad = paddedGroupChannels(cg);
      const packed = packConvWeights(q.weights, { m, cg, kH, kW }, q.weightBits);
      const w = laneBits(q.weightBits);
      const perWord = 32 / w;
      // Back to sequential lanes (the inverse of gpuLanePosition), then unpacked.
      const sequential = packed.data.map((word) => {
        let out = 0;
        for (let j = 0; j < perWord; j++) out |= w === 8 ? 0 : ((word >>> (gpuLanePosition(j, w) * w)) & ((1 << w) - 1)) << (j * w);
        return w === 8 ? word : out >>> 0;
      });
      const rows = unpackRows(sequential, m, kH * kW * cgPad, q.weightBits);
      for (let o = 0; o < m; o++)
        for (let ci = 0; ci < cgPad; ci++)
          for (let ky = 0; ky < kH; ky++)
            for (let kx = 0; kx < kW; kx++) {
              const want = ci < cg ? q.weights[((o * cg + ci) * kH + ky) * kW + kx]! : 0;
              expect(rows[o * kH * kW * cgPad + (ky * kW + kx) * cgPad + ci]).toBe(want);
            }
    }
  });

  it('a dense layer sees its input [..., K] as [rows, K, 1, 1]', () => {
    expect(asNchw([4, 7], true)).toEqual([4, 7, 1, 1]);
    expect(asNchw([2, 3, 7], true)).toEqual([6, 7, 1, 1]);
  });
});

describeOnHosts((host) => {
  for (const c of IGEMM_CASES) {
    for (const [dot4, tiled] of [[true, false], [false, false], [true, true], [false, true]] as const) {
      // The tiled core takes layers without groups; it is asked for on every case and must fall back on the others.
      it(`${c.name} [${dot4 ? 'dot4I8Packed' : 'vec4<i32> multiply-adds'}${tiled ? ', workgroup-memory tiles' : ''}] equals the golden model exactly`, async () => {
        const b = BUILT.get(c)!;
        const facts = host().facts;
        if (dot4 && !facts.dot4I8Packed) {
          expect(EXPECT_NO_DOT4, `the ${host().name} adapter lacks packed_4x8_integer_dot_product, so the dot4I8Packed path went untested (set QUANTGPU_TEST_EXPECT_NO_DOT4=1 where that is expected)`).toBe(true);
          expect(() => planConv(b.q, b.inP, b.outP, b.inputShape, facts, { dot4 })).toThrow(/packed_4x8_integer_dot_product/);
          return;
        }
        const p = planConv(b.q, b.inP, b.outP, b.inputShape, facts, { dot4, tiled, ...(c.rows !== undefined ? { rows: c.rows } : {}) });
        expect(p.variant.tiled).toBe(tiled && (c.group ?? 1) === 1);
        // The plan a session runs: the step's KernelPlan through prepareKernel.
        const value = expectClean(await host().run('plan', igemmPlanArgs(b, p)), c.name);
        const words = new Uint32Array(decodeInt32(value.output).buffer);
        expect(words.length).toBe(p.outputWords);
        const poisoned = words.filter((w) => w === POISON).length;
        expect(poisoned, 'output words never written').toBe(0);
        const offOut = laneOffset(b.outP);
        const actual = igemmCodes(b, p, words);
        const bad: string[] = [];
        for (let i = 0; i < actual.length; i++) {
          if (actual[i] !== b.expected[i]) bad.push(`element ${i}: gpu ${actual[i]}, golden ${b.expected[i]}`);
        }
        expect(bad.length, `${bad.length} of ${actual.length} outputs differ:\n${bad.slice(0, 12).join('\n')}`).toBe(0);
        // Channel padding lanes hold the real zero, Z_out - off_out.
        const m = p.outputNchw[1];
        if (m % 4 !== 0) {
          const padLane = (b.outP.zeroPoint - offOut) & 0xff;
          for (let w = Math.floor(m / 4); w < words.length; w += Math.ceil(m / 4)) {
            for (let lane = m % 4; lane < 4; lane++) expect((words[w]! >>> (8 * lane)) & 0xff).toBe(padLane);
          }
        }
      });
    }
  }
});
