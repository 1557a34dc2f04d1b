/**
 * Grids past maxComputeWorkgroupsPerDimension fold rather than refuse: the
 * igemm cores' row blocks into z (conv_io.wgsl, row_block), the grid
 * kernels' 1-D grid into y (grid.wgsl, flat_index). Each case is planned
 * with the limit lowered in the facts (to about the square root of the
 * workgroups it needs, so the last row of the folded grid has surplus
 * workgroups) and run through the plan a session runs, on both hosts,
 * against the golden model with zero tolerance: the direct core, the tiled
 * one, groups, a dense layer, and the depthwise kernel. Where even a folded
 * grid cannot fit, the refusal names the limit.
 */
import { describe, expect, it } from 'vitest';
import { ResourceLimitError } from '../../src/errors.js';
import { planConv, type ConvPlan, type ConvPlanOptions } from '../../src/gpu/ops/conv.js';
import { planDepthwise } from '../../src/gpu/ops/depthwise.js';
import { dispatch1d, foldGroups } from '../../src/gpu/ops/dispatch.js';
import type { AdapterFacts } from '../../src/gpu/adapter-info.js';
import { actShape, laneOffset, packActivations, unpackActivations } from '../../src/quant/lanes.js';
import { decodeInt32, encodeInt32 } from './harness/codec.js';
import { describeOnHosts, expectClean } from './harness/on-hosts.js';
import { encodePlan } from './harness/programs-kernels.js';
import { POISON } from './harness/poison.js';
import { buildCase, igemmCodes, igemmPlanArgs, IGEMM_CASES, type BuiltCase, type IgemmCase } from './kernels/igemm-cases.js';

const caseNamed = (start: string): IgemmCase => IGEMM_CASES.find((c) => c.name.startsWith(start))!;

/** Small workgroups and one row each, so that even these small layers need several row blocks. */
const SMALL: ConvPlanOptions = { rows: 1, workgroupX: 2, workgroupY: 2 };

interface FoldCase {
  readonly name: string;
  readonly igemm: IgemmCase;
  readonly options: ConvPlanOptions;
}

const FOLD_CASES: readonly FoldCase[] = [
  { name: 'direct core, stride 2, batch 2', igemm: caseNamed('3x3 conv stride 2, pads (t0'), options: SMALL },
  { name: 'direct core, 16->21 ch on 9x9', igemm: caseNamed('3x3 conv pad 1, 16->21'), options: SMALL },
  { name: 'direct core, groups spanning words', igemm: caseNamed('1x3 conv, 2 groups'), options: SMALL },
  { name: 'tiled core, 16->21 ch on 9x9', igemm: caseNamed('3x3 conv pad 1, 16->21'), options: { ...SMALL, tiled: true } },
  { name: 'tiled core, stride 2, pow2', igemm: caseNamed('3x3 conv stride 2, pads (t1'), options: { ...SMALL, tiled: true } },
  { name: 'dense, batch 3', igemm: caseNamed('dense 37 -> 10'), options: { rows: 1, workgroupX: 4, workgroupY: 1 } },
];

/** A depthwise layer large enough for several workgroups of the grid kernel. */
const DEPTHWISE: IgemmCase = { name: 'depthwise 3x3 pad 1, 12 ch on 16x16, batch 2', input: [2, 12, 16, 16], outChannels: 12, kernel: [3, 3], pads: [1, 1, 1, 1], group: 12, wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', act: 'relu6', seed: 21 };

const BUILT = new Map<IgemmCase, BuiltCase>([...FOLD_CASES.map((c) => c.igemm), DEPTHWISE].map((c) => [c, buildCase(c)]));

type Facts = Pick<AdapterFacts, 'dot4I8Packed' | 'limits'>;
const withLimit = (facts: Facts, max: number): Facts => ({ ...facts, limits: { ...facts.limits, maxComputeWorkgroupsPerDimension: max } });
const UNLIMITED: Facts = { dot4I8Packed: false, limits: { maxComputeWorkgroupsPerDimension: 65535 } };

/** The smallest limit that folds `groups` workgroups (groups above it, at most its square). */
function foldingLimit(groups: number): number {
  expect(groups, 'the case needs several workgroups to fold').toBeGreaterThan(2);
  return Math.max(2, Math.ceil(Math.sqrt(groups)));
}

/** The case's plan with the limit lowered until its row blocks fold into z. */
function foldedPlan(c: FoldCase, facts: Facts): ConvPlan {
  const b = BUILT.get(c.igemm)!;
  const open = planConv(b.q, b.inP, b.outP, b.inputShape, withLimit(facts, 65535), c.options);
  const [x, y] = open.dispatch;
  const plan = planConv(b.q, b.inP, b.outP, b.inputShape, withLimit(facts, foldingLimit(y)), c.options);
  expect(plan.dispatch[0]).toBe(x);
  expect(plan.dispatch[2], 'folded into z').toBeGreaterThan(1);
  return plan;
}

describe('folded grids (no GPU)', () => {
  it('foldGroups lays one dimension over two within the limit, and names the limit where even that cannot fit', () => {
    expect(foldGroups(5, 8, 'w')).toEqual([5, 1]);
    expect(foldGroups(0, 8, 'w')).toEqual([1, 1]);
    expect(foldGroups(9, 3, 'w')).toEqual([3, 3]);
    expect(foldGroups(10, 4, 'w')).toEqual([4, 3]);
    expect(() => foldGroups(17, 4, 'the layer')).toThrow(/^the layer need 17 workgroups, more than 4\^2 even folded over two dimensions \(maxComputeWorkgroupsPerDimension 4\)$/);
  });

  it('the igemm grid folds its row blocks into z, keeps the output words in x, and covers every block', () => {
    for (const c of FOLD_CASES) {
      const plan = foldedPlan(c, UNLIMITED);
      const b = BUILT.get(c.igemm)!;
      const open = planConv(b.q, b.inP, b.outP, b.inputShape, UNLIMITED, c.options);
      const [, y, z] = plan.dispatch;
      expect(y * z, c.name).toBeGreaterThanOrEqual(open.dispatch[1]);
      expect(y * (z - 1), `${c.name}: no row of the fold is wholly surplus`).toBeLessThan(open.dispatch[1]);
    }
  });

  it('refuses, naming the limit, where the row blocks exceed its square or the output words exceed it', () => {
    const c = FOLD_CASES[1]!;
    const b = BUILT.get(c.igemm)!;
    const blocks = planConv(b.q, b.inP, b.outP, b.inputShape, UNLIMITED, c.options).dispatch[1];
    const tight = Math.ceil(Math.sqrt(blocks)) - 1;
    const e = (() => {
      try {
        planConv(b.q, b.inP, b.outP, b.inputShape, withLimit(UNLIMITED, tight), c.options);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ResourceLimitError);
    expect((e as ResourceLimitError).limit).toBe('maxComputeWorkgroupsPerDimension');
    expect((e as Error).message).toMatch(new RegExp(`layer '.*': 81 output positions need ${blocks} workgroups, more than ${tight}\\^2 even folded over two dimensions \\(maxComputeWorkgroupsPerDimension ${tight}\\)`));
    // 21 channels are 6 output words, one workgroup each across: 6 > 4 does not fold.
    expect(() => planConv(b.q, b.inP, b.outP, b.inputShape, withLimit(UNLIMITED, 4), { ...c.options, workgroupX: 1 })).toThrow(/6 output words need 6 workgroups across, above maxComputeWorkgroupsPerDimension 4 \(output channels do not fold\)/);
  });

  it('the grid kernels wrap into y, and refuse past the square of the limit', () => {
    expect(dispatch1d(64 * 9, 3)).toEqual([3, 3, 1]);
    expect(dispatch1d(64 * 7 + 1, 3)).toEqual([3, 3, 1]);
    expect(() => dispatch1d(64 * 10, 3)).toThrow(ResourceLimitError);
  });
});

describeOnHosts((host) => {
  for (const c of FOLD_CASES) {
    it(`${c.name}: row blocks folded into z equal the golden model exactly`, async () => {
      const b = BUILT.get(c.igemm)!;
      const plan = foldedPlan(c, host().facts);
      expect(plan.variant.tiled).toBe(c.options.tiled === true);
      const value = expectClean(await host().run('plan', igemmPlanArgs(b, plan)), c.name);
      const words = new Uint32Array(decodeInt32(value.output).buffer);
      expect(words.filter((w) => w === POISON).length, 'output words never written').toBe(0);
      expect(Array.from(igemmCodes(b, plan, words))).toEqual(Array.from(b.expected));
    });
  }

  it(`${DEPTHWISE.name}: the depthwise kernel's grid wrapped into y equals the golden model exactly`, async () => {
    const b = BUILT.get(DEPTHWISE)!;
    const s = actShape(b.inputShape, DEPTHWISE.name);
    const open = planDepthwise(b.q, b.inP, b.outP, s, 65535);
    const plan = planDepthwise(b.q, b.inP, b.outP, s, foldingLimit(open.dispatch[0]));
    expect(plan.dispatch[1], 'wrapped into y').toBeGreaterThan(1);
    const input = packActivations(b.x, s, laneOffset(b.inP), b.inP.zeroPoint);
    const value = expectClean(await host().run('plan', { plan: encodePlan(plan), inputs: { x: encodeInt32(new Int32Array(input.buffer)) } }), DEPTHWISE.name);
    const words = new Uint32Array(decodeInt32(value.output).buffer);
    expect(Array.from(unpackActivations(words, plan.outShape, laneOffset(b.outP)))).toEqual(Array.from(b.expected));
  });
}, { title: 'folded grids' });
