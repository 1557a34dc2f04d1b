/**
 * Batches beyond the adapter, run in pieces (src/runtime/batch-pieces.ts):
 * with the limits lowered in the facts the planner reads (a session on a Gpu
 * whose facts say less than the device has), the tiny model's batch of 8 is
 * refused by the planner for a tensor beyond maxStorageBufferBindingSize or a
 * dispatch beyond maxComputeWorkgroupsPerDimension, and the session runs it in
 * pieces, equal to the golden model bit for bit; with too little memory (an
 * injected allocation limit, on both runners) likewise. Where one item alone
 * exceeds a limit, the refusal names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { GpuOutOfMemoryError, ResourceLimitError, ShapeError } from '../../src/errors.js';
import { joinPieces, largestPiece, splittableBatch } from '../../src/runtime/batch-pieces.js';
import { requestGpu, type Gpu } from '../../src/gpu/device.js';
import type { SessionResult } from '../../src/runtime/session.js';
import { createSession } from '../../src/runtime/session.js';
import { planQuantizedGraph } from '../../src/runtime/plan-graph.js';
import { formatProfile } from '../../src/runtime/profile.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { tinyInput, tinyQuantized } from '../helpers/tiny-model.js';

const PLAN = { autotune: false } as const;

let qg: QuantizedGraph;
beforeAll(async () => {
  qg = (await tinyQuantized()).qg;
});

/** Pieces give the integer codes of the golden model, and the floats of the whole batch run at once (the GPU's dequantization is not the CPU's to the bit). */
function expectWhole(result: SessionResult, x: Tensor, whole?: SessionResult): void {
  expect(result.integers.y, 'integer codes').toEqual(runQuantized(qg, { x }).integers.y);
  expect(result.outputs.y!.shape).toEqual([x.shape[0], 3, 8, 8]);
  if (whole !== undefined) expect(result.outputs.y!.data, 'dequantized outputs').toEqual(whole.outputs.y!.data);
}

describe('cutting a batch (pure)', () => {
  const limit = (): ResourceLimitError => new ResourceLimitError('too big', 'maxBufferSize');

  it('largestPiece tries one item first, then halves from the batch to the first size that fits', async () => {
    const tried: number[] = [];
    const size = await largestPiece(13, async (n) => {
      tried.push(n);
      if (n > 3) throw limit();
    });
    expect(tried).toEqual([1, 7, 4, 2]);
    expect(size).toBe(2);
  });

  it("largestPiece throws one item's refusal as it is, and any other error at once", async () => {
    const one = limit();
    await expect(largestPiece(8, async () => Promise.reject(one))).rejects.toBe(one);
    const tried: number[] = [];
    const other = new ShapeError('not a limit');
    const fits = async (n: number): Promise<void> => {
      tried.push(n);
      if (n > 1) throw other;
    };
    await expect(largestPiece(8, fits)).rejects.toBe(other);
    expect(tried).toEqual([1, 4]);
  });

  it('splittableBatch: limit and memory refusals of a batch above 1 on a symbolic batch dimension only', () => {
    const x = { shape: [4, 2], data: new Float32Array(8) };
    const symbolic = [{ name: 'x', shape: ['N', 2] }];
    expect(splittableBatch(limit(), symbolic, x)).toBe(4);
    expect(splittableBatch(new GpuOutOfMemoryError('oom', 64), symbolic, x)).toBe(4);
    expect(splittableBatch(new ShapeError('no'), symbolic, x)).toBeUndefined();
    expect(splittableBatch(limit(), [{ name: 'x', shape: [4, 2] }], x), 'a fixed batch').toBeUndefined();
    expect(splittableBatch(limit(), symbolic, { shape: [1, 2], data: new Float32Array(2) }), 'one item').toBeUndefined();
  });

  it('joinPieces concatenates along the batch, and gives undefined for an output without a batch dimension', () => {
    const piece = (rows: number, from: number): SessionResult => ({
      outputs: { y: { shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => from + i) } },
      integers: { y: Int32Array.from({ length: rows * 2 }, (_, i) => from + i) },
    });
    const joined = joinPieces([piece(2, 0), piece(1, 4)], 3)!;
    expect(joined.outputs.y).toEqual({ shape: [3, 2], data: Float32Array.from([0, 1, 2, 3, 4, 5]) });
    expect(joined.integers.y).toEqual(Int32Array.from([0, 1, 2, 3, 4, 5]));
    const flat = (n: number): SessionResult => ({ outputs: { y: { shape: [n * 2], data: new Float32Array(n * 2) } }, integers: {} });
    expect(joinPieces([flat(2), flat(1)], 3)).toBeUndefined();
  });
});

describe('batches beyond lowered adapter limits (Node)', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await requestGpu();
  });
  afterAll(() => gpu.destroy());

  /** The device as it is, with facts that claim lower limits: the planner plans for those. */
  const lowered = (limits: Record<string, number>): Gpu => ({ device: gpu.device, facts: { ...gpu.facts, limits: { ...gpu.facts.limits, ...limits } }, destroy: () => {} });

  const cases: ReadonlyArray<{ limit: string; value: number; piece: number }> = [
    // Batch 8's input is 2048 bytes and its dequantized output 6144 (bound whole), batch 2's 512 and 1536: pieces of 2.
    { limit: 'maxStorageBufferBindingSize', value: 2000, piece: 2 },
    { limit: 'maxBufferSize', value: 2000, piece: 2 },
    // Grids fold past the limit (a convolution's row blocks into z, a grid kernel's into y): batch 8's
    // quantize step needs 24 workgroups, more than 4^2 even folded, batch 4's 12: pieces of 4.
    { limit: 'maxComputeWorkgroupsPerDimension', value: 4, piece: 4 },
  ];
  for (const { limit, value, piece } of cases) {
    it(`${limit} ${value}: the planner refuses batch 8, the session runs 8 and 7 in pieces, equal to the golden model`, async () => {
      const facts = lowered({ [limit]: value }).facts;
      const refusal = (() => {
        try {
          planQuantizedGraph(qg, { x: [8, 1, 8, 8] }, facts, PLAN);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(refusal, 'the whole batch is beyond the lowered limit').toBeInstanceOf(ResourceLimitError);
      expect((refusal as ResourceLimitError).limit).toBe(limit);
      const session = await createSession(qg, { ...PLAN, gpu: lowered({ [limit]: value }) });
      const reference = await createSession(qg, { ...PLAN, gpu });
      try {
        for (const [batch, seed] of [[8, 8], [7, 7], [8, 3]] as const) {
          // The second batch of 8 goes straight to the pieces found for the first.
          const x = tinyInput(batch, seed);
          expectWhole(await session.run(x), x, await reference.run(x));
        }
        // profile and memory report one piece of the cut that run uses, and say so; a batch that fits reports no pieces.
        const x8 = tinyInput(8, 8);
        const profile = await session.profile(x8, { warmup: 0, repeats: 1 });
        expect(profile.pieces).toEqual({ size: piece, count: 8 / piece });
        expect(profile.batch).toBe(piece);
        expect(formatProfile(profile)).toContain(`the batch runs in ${8 / piece} pieces of at most ${piece}`);
        const memory = await session.memory(x8);
        expect(memory.pieces).toEqual({ size: piece, count: 8 / piece });
        expect(memory.plannedBytes).toBe((await reference.memory(tinyInput(piece, 1))).plannedBytes);
        expect((await reference.profile(x8, { warmup: 0, repeats: 1 })).pieces).toBeUndefined();
        expect((await reference.memory(x8)).pieces).toBeUndefined();
      } finally {
        session.dispose();
        reference.dispose();
      }
      expect(session.liveBuffers()).toEqual([]);
    }, 60_000);
  }

  it('one item beyond the limit is refused with the limit and the tensor named, nothing allocated', async () => {
    // One item's im2col input would be 768 bytes (not made: the quantize step writes the plain input), and its
    // dequantized output is 768 bytes, which the dequantize step binds whole (it does not run in pieces).
    const session = await createSession(qg, { ...PLAN, gpu: lowered({ maxStorageBufferBindingSize: 700 }) });
    try {
      const e = await session.run(tinyInput(4)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ResourceLimitError);
      expect((e as ResourceLimitError).limit).toBe('maxStorageBufferBindingSize');
      expect((e as Error).message).toMatch(/^layer 'dequantize:y' \(dequantize\): tensor 'y' \[1, 3, 8, 8\] needs 768 bytes, above the adapter's maxStorageBufferBindingSize of 700, and this layer binds it whole/);
      expect(session.liveBuffers()).toEqual([]);
    } finally {
      session.dispose();
    }
  });
});

describeOnHosts(
  (host) => {
    it('a batch whose buffers do not fit the memory runs in pieces, equal to the golden model, and leaves nothing', async () => {
      const r = host().runner;
      const x = tinyInput(8, 4);
      const reference = await r.createSession(qg, PLAN);
      const whole = await reference.run(x);
      await reference.dispose();
      const session = await r.createSession(qg, PLAN);
      try {
        // No buffer above 700 bytes: not even one item fits (768 bytes for its im2col input), and that item's refusal is the error.
        await r.injectFaults({ oversizeAbove: 700 });
        const e = await session.run(x).catch((err: unknown) => err);
        expect(e).toBeInstanceOf(GpuOutOfMemoryError);
        expect((e as Error).message).toMatch(/^out of GPU memory making the buffers for input 'x' \[1, 1, 8, 8\]/);
        // No buffer above 2000 bytes: batch 8 needs 6144 for its im2col input, batch 2 1536.
        await r.injectFaults({ oversizeAbove: 2000 });
        expectWhole(await session.run(x), x, whole);
      } finally {
        await r.injectFaults({});
        await session.dispose();
      }
    }, 60_000);
  },
  { title: 'batches beyond memory' },
);
