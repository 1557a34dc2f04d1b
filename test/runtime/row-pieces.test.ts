/**
 * One item's tensors beyond maxStorageBufferBindingSize (src/gpu/ops/pieces.ts):
 * a layer that can runs as several dispatches, each binding a range of each
 * large tensor. Checked without a GPU: the ranges (aligned, within the limit,
 * covering every word a piece reads and writes), the command graph of a model
 * whose middle tensors pass a lowered limit (every layer touching them in
 * pieces, every binding within the limit), and the refusal of a layer that
 * binds a tensor whole, naming the layer and the limit. On both hosts: the
 * igemm cores run piece by piece through the plans a session runs (direct,
 * tiled, groups, dense), and whole sessions with the limit lowered
 * (PlanOptions.limits), equal to the golden model bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { ResourceLimitError } from '../../src/errors.js';
import { convGeometry, convKernelPlan, convPieces, convWindow, planConv, type ConvPiece, type ConvPlan, type ConvPlanOptions } from '../../src/gpu/ops/conv.js';
import { flatPieces, windowInputWords, wordRange } from '../../src/gpu/ops/pieces.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { planMemory } from '../../src/runtime/memory-plan.js';
import { stepBytes } from '../../src/runtime/profile.js';
import type { CommandGraph } from '../../src/runtime/steps.js';
import type { PlanFacts, PlanOptions } from '../../src/runtime/plan-graph.js';
import { planFloatGraph, planQuantizedGraph } from '../../src/runtime/plan-graph.js';
import { runGraph } from '../../src/cpu/float-executor.js';
import { decodeInt32 } from '../gpu/harness/codec.js';
import { describeOnHosts, expectClean } from '../gpu/harness/on-hosts.js';
import { POISON } from '../gpu/harness/poison.js';
import { encodePlan } from '../gpu/harness/programs-kernels.js';
import { buildCase, igemmCodes, igemmPlanArgs, type BuiltCase, type IgemmCase } from '../gpu/kernels/igemm-cases.js';
import { mulberry32 } from '../helpers/random.js';
import { realInputs, zooModels } from '../helpers/zoo.js';
import { loadModelFile } from '../../src/model/load-model-file.js';

const ALIGN = 256;
const FACTS: PlanFacts = { dot4I8Packed: false, limits: { maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28, minStorageBufferOffsetAlignment: ALIGN } };
const limited = (bytes: number): PlanFacts => ({ ...FACTS, limits: { ...FACTS.limits, maxStorageBufferBindingSize: bytes } });

/** Layers of the igemm cores whose tensors are some KiB, split under a limit of `limit` bytes. */
interface PieceCase {
  readonly igemm: IgemmCase;
  readonly limit: number;
  readonly options: ConvPlanOptions;
}

const conv = (name: string, input: number[], outChannels: number, extra: Partial<IgemmCase>, seed: number): IgemmCase => ({
  name, input, outChannels, kernel: [3, 3], pads: [1, 1, 1, 1], wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', seed, ...extra,
});

const PIECE_CASES: readonly PieceCase[] = [
  { igemm: conv('3x3 pad 1, 16->21 ch on 12x11, batch 2', [2, 16, 12, 11], 21, { act: 'relu6' }, 31), limit: 1024, options: {} },
  { igemm: conv('3x3 stride 2 dilation 2 pads (t2 l1 b0 r2), 8->6 ch on 13x12', [1, 8, 13, 12], 6, { strides: [2, 2], dilations: [2, 2], pads: [2, 1, 0, 2], inScheme: 'symmetric' }, 32), limit: 1024, options: { rows: 3 } },
  { igemm: conv('tiled: 3x3 pad 1, 12->20 ch on 10x10, w4', [1, 12, 10, 10], 20, { wBits: 4 }, 33), limit: 768, options: { tiled: true, workgroupX: 8, workgroupY: 8 } },
  { igemm: conv('2 groups (6 in, 5 out each: words span groups), 1x3 on 9x14', [1, 12, 9, 14], 10, { kernel: [1, 3], pads: [0, 1, 0, 1], group: 2, wBits: 5 }, 34), limit: 600, options: { rows: 2 } },
  { igemm: { name: 'dense 37 -> 10, batch 40', input: [40, 37], outChannels: 10, dense: true, wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'symmetric', seed: 35 }, limit: 512, options: { rows: 4 } },
  // Weights beyond the binding: runs of output channels (with rows where the tensors pass it too).
  { igemm: conv('weights in runs of channels: 3x3 pad 1, 64->38 ch on 6x6, w8 (21888 bytes of weights)', [1, 64, 6, 6], 38, { act: 'relu' }, 36), limit: 4096, options: {} },
  { igemm: conv('weights and rows: 3x3 pad 1, 32->23 ch on 12x12, w4, tiled', [1, 32, 12, 12], 23, { wBits: 4 }, 37), limit: 2048, options: { tiled: true, workgroupX: 8, workgroupY: 8 } },
  { igemm: { name: 'weights in runs of channels: dense 300 -> 50, batch 4, w8', input: [4, 300], outChannels: 50, dense: true, wBits: 8, perChannel: true, inScheme: 'affine', outScheme: 'affine', seed: 38 }, limit: 2048, options: {} },
];

const BUILT = new Map<IgemmCase, BuiltCase>(PIECE_CASES.map((c) => [c.igemm, buildCase(c.igemm)]));

function piecesOf(c: PieceCase, facts: PlanFacts): { plan: ConvPlan; pieces: ConvPiece[] } {
  const b = BUILT.get(c.igemm)!;
  const plan = planConv(b.q, b.inP, b.outP, b.inputShape, facts, c.options);
  const pieces = convPieces(plan, { maxBytes: c.limit, alignment: facts.limits.minStorageBufferOffsetAlignment ?? ALIGN }, 65535, c.igemm.name);
  expect(pieces, `${c.igemm.name}: beyond ${c.limit} bytes, in pieces`).toBeDefined();
  expect(pieces!.length).toBeGreaterThan(1);
  return { plan, pieces: pieces! };
}

/** The tiny model's shape with a wide middle: conv 1->16 (ReLU), a sigmoid table, an add of the two, a 3x3 max pool, conv 16->2 stride 2. */
function wideGraph(size: number): Graph {
  const rnd = mulberry32(23);
  const data = (n: number): Float32Array => Float32Array.from({ length: n }, () => rnd() - 0.5);
  const window = { dilations: [1, 1] as [number, number], autoPad: 'NOTSET' as const, group: 1 };
  const graph: Graph = {
    name: 'wide',
    inputs: [{ name: 'x', shape: ['N', 1, size, size] }],
    outputs: [{ name: 'y', shape: [] }],
    layers: [
      { op: 'conv', name: 'c1', inputs: ['x', 'w1', 'b1'], outputs: ['h'], strides: [1, 1], pads: [1, 1, 1, 1], activation: { kind: 'relu' }, ...window },
      { op: 'activation', name: 's1', inputs: ['h'], outputs: ['g'], fn: { kind: 'sigmoid' } },
      { op: 'add', name: 'a1', inputs: ['h', 'g'], outputs: ['r'] },
      { op: 'maxPool', name: 'p1', inputs: ['r'], outputs: ['m'], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], autoPad: 'NOTSET', ceilMode: false, countIncludePad: false },
      { op: 'conv', name: 'c2', inputs: ['m', 'w2', 'b2'], outputs: ['y'], strides: [2, 2], pads: [1, 1, 1, 1], ...window },
    ],
    constants: new Map([
      ['w1', { shape: [16, 1, 3, 3], data: data(144) }],
      ['b1', { shape: [16], data: data(16) }],
      ['w2', { shape: [2, 16, 3, 3], data: data(288) }],
      ['b2', { shape: [2], data: data(2) }],
    ]),
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  graph.outputs[0]!.shape = graph.shapes.get('y')!;
  return graph;
}

const SIZE = 16;
function wideInput(batch: number, seed: number): Tensor {
  const rnd = mulberry32(seed);
  return { shape: [batch, 1, SIZE, SIZE], data: Float32Array.from({ length: batch * SIZE * SIZE }, () => rnd() * 2 - 1) };
}

/** A float add (of the input to itself: the runners take one input), then ReLU: 5 x 16 x 16 floats, 5120 bytes. */
function floatGraph(): Graph {
  const shape = [1, 5, SIZE, SIZE];
  const graph: Graph = {
    name: 'float-flat',
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'y', shape }],
    layers: [
      { op: 'add', name: 'a', inputs: ['x', 'x'], outputs: ['s'] },
      { op: 'activation', name: 'r', inputs: ['s'], outputs: ['y'], fn: { kind: 'relu' } },
    ],
    constants: new Map(),
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  return graph;
}
const floatInput = (seed: number): Tensor => {
  const rnd = mulberry32(seed);
  return { shape: [1, 5, SIZE, SIZE], data: Float32Array.from({ length: 5 * SIZE * SIZE }, () => rnd() * 2 - 1) };
};
const FLOAT_LIMIT = 2048;

/** One item's h, g, r and m are 16 channels x 16 x 16 = 4096 bytes; x 1024, its im2col copy 3072 (not made: above the limit), y 256. */
const LIMIT = 2048;

/**
 * Every zoo model within bindings of a few KiB (batch 2): convolutions (im2col, depthwise,
 * pointwise; weights in runs of channels), pools, adds, multiplies (broadcast too), tables and
 * dense layers run in pieces. The MobileNets need 12288 bytes: their global pool reads a whole
 * 9408-byte plane, their depthwise layers wide rows.
 */
const ZOO: ReadonlyArray<{ readonly name: string; readonly limit: number }> = [
  { name: 'digits-resnet', limit: 4096 },
  { name: 'digits-vgg', limit: 4096 },
  { name: 'fashion-resnet', limit: 4096 },
  { name: 'fashion-vgg', limit: 4096 },
  { name: 'fashion-mbv2', limit: 12288 },
  { name: 'fashion-mbv3', limit: 12288 },
];

let qg: QuantizedGraph;
const zoo = new Map<string, { qg: QuantizedGraph; x: Tensor }>();
beforeAll(async () => {
  const graph = prepareForQuantization(wideGraph(SIZE));
  const { tensors } = await collectStats(graph, [wideInput(8, 99)]);
  qg = quantize(graph, tensors, PRESETS.w8a8!);
  for (const { name } of ZOO) {
    const model = zooModels().find((m) => m.name === name)!;
    const zooGraph = prepareForQuantization(loadModelFile(model.path));
    const zooStats = await collectStats(zooGraph, [await realInputs(model, 100, 32)]);
    zoo.set(name, { qg: quantize(zooGraph, zooStats.tensors, PRESETS.w8a8!), x: await realInputs(model, 0, 2) });
  }
}, 60_000);

describe('pieces (no GPU)', () => {
  it('wordRange binds from the aligned offset at or before the first word; flatPieces cuts on units that are also aligned', () => {
    expect(wordRange(100, 300, 256)).toEqual({ range: { offset: 256, bytes: 944 }, base: 64 });
    expect(wordRange(0, 10, 256)).toEqual({ range: { offset: 0, bytes: 40 }, base: 0 });
    // Units of 3 words on a 64-word alignment: runs of 192 words, as many as 1024 bytes hold (one).
    expect(flatPieces(500, 3, { maxBytes: 1024, alignment: 256 })).toEqual([[0, 192], [192, 384], [384, 500]]);
    expect(flatPieces(500, 3, { maxBytes: 700, alignment: 256 }), 'not one aligned unit fits').toBeUndefined();
  });

  for (const c of PIECE_CASES) {
    it(`${c.igemm.name}: pieces cover every output position once, bind aligned ranges within ${c.limit} bytes holding every word they read and write`, () => {
      const { plan, pieces } = piecesOf(c, FACTS);
      const u = convGeometry(plan);
      // Every (position, output word) once.
      const covered = new Uint8Array(u.rows * u.out_words);
      for (const p of pieces) for (let row = p.first; row < p.end; row++) for (let cw = p.cwFirst; cw < p.cwEnd; cw++) covered[row * u.out_words + cw]! += 1;
      expect(covered.every((n) => n === 1)).toBe(true);
      pieces.forEach((p) => {
        const c1 = Math.min(4 * p.cwEnd, u.out_channels);
        expect(p.weights.base).toBeLessThanOrEqual(4 * p.cwFirst * u.w_words_per_row);
        expect(p.weights.base + p.weights.range.bytes / 4).toBe(c1 * u.w_words_per_row);
        expect(p.channels.base).toBeLessThanOrEqual(4 * p.cwFirst);
        expect(p.channels.base + p.channels.range.bytes / 4).toBe(c1);
        for (const r of [p.input, p.output, p.weights, p.channels]) {
          expect(r.range.offset % ALIGN).toBe(0);
          expect(r.range.bytes).toBeLessThanOrEqual(c.limit);
          expect(r.base * 4).toBe(r.range.offset);
        }
        const [lo, hi] = windowInputWords(convWindow(plan), p.first, p.end);
        expect(p.input.base).toBeLessThanOrEqual(lo);
        expect(p.input.base + p.input.range.bytes / 4).toBe(hi);
        // Every tap inside the image of every position of the piece, word by word.
        const [outH, outW, inH, inW, inWords] = [u.out_h, u.out_w, u.in_h, u.in_w, u.in_words];
        for (let row = p.first; row < p.end; row++) {
          const [n, oy, ox] = [Math.floor(row / (outH * outW)), Math.floor(row / outW) % outH, row % outW];
          for (let ky = 0; ky < u.k_h; ky++)
            for (let kx = 0; kx < u.k_w; kx++) {
              const iy = oy * u.stride_h - u.pad_top + ky * u.dil_h;
              const ix = ox * u.stride_w - u.pad_left + kx * u.dil_w;
              if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
              const first = ((n * inH + iy) * inW + ix) * inWords;
              expect(first >= lo && first + inWords <= hi, `position ${row} tap (${ky}, ${kx})`).toBe(true);
            }
        }
        expect(p.output.base).toBeLessThanOrEqual(p.first * u.out_words);
        expect(p.output.base + p.output.range.bytes / 4).toBe(p.end * u.out_words);
      });
    });
  }

  it(`a model whose middle tensors pass a ${LIMIT}-byte binding runs every layer touching them in pieces, every binding within the limit`, () => {
    const g = planQuantizedGraph(qg, { x: [2, 1, SIZE, SIZE] }, limited(LIMIT), { autotune: false });
    const stepsOf = (layer: string): number => g.steps.filter((s) => s.layer === layer).length;
    for (const layer of ['c1', 's1', 'a1', 'p1', 'c2']) expect(stepsOf(layer), layer).toBeGreaterThan(1);
    for (const s of g.steps) {
      for (const role of Object.values(s.plan.buffers)) {
        if (role.role === 'constant') continue;
        const bytes = role.range?.bytes ?? g.tensors.get(role.tensor)!.bytes;
        expect(bytes, `${s.layer}: ${role.tensor}`).toBeLessThanOrEqual(LIMIT);
        if (role.range !== undefined) expect(role.range.offset % ALIGN).toBe(0);
      }
    }
    expect(g.tensors.get('i:h')!.bytes).toBe(2 * 4096);
    // Three items' one-channel input, 3072 bytes: the quantize step in runs of positions too.
    const g3 = planQuantizedGraph(qg, { x: [3, 1, SIZE, SIZE] }, limited(LIMIT), { autotune: false });
    expect(g3.steps.filter((st) => st.op === 'quantize').length).toBeGreaterThan(1);
    // The pieces of a layer share its weights: the same arrays in every step.
    const weights = new Set(g.steps.filter((s) => s.layer === 'c1').map((s) => (s.plan.buffers['weights'] as { data: unknown }).data));
    expect(weights.size).toBe(1);
    // The memory plan sees the pieces as steps: slots as large as the tensors, above the limit.
    expect(Math.max(...planMemory(g).slotBytes)).toBeGreaterThanOrEqual(2 * 4096);
    // Each piece its share of the layer's MACs.
    const whole = planQuantizedGraph(qg, { x: [2, 1, SIZE, SIZE] }, FACTS, { autotune: false });
    const macs = (graph: typeof g, layer: string): number => graph.steps.filter((s) => s.layer === layer).reduce((a, s) => a + s.macs, 0);
    expect(macs(g, 'c2')).toBe(macs(whole, 'c2'));
  });

  it("a convolution where not even one position's window rows fit a binding is planned whole (for the builder to refuse)", () => {
    // Five input rows of 96 bytes (3 taps at dilation 2) and up to 252 bytes before the first, aligned: beyond 512.
    const c = PIECE_CASES[1]!;
    const b = BUILT.get(c.igemm)!;
    const plan = planConv(b.q, b.inP, b.outP, b.inputShape, FACTS, c.options);
    expect(convPieces(plan, { maxBytes: 512, alignment: ALIGN }, 65535, c.igemm.name)).toBeUndefined();
    expect(convPieces(plan, { maxBytes: plan.inputWords * 4, alignment: ALIGN }, 65535, c.igemm.name), 'it fits whole').toBeUndefined();
  });

  for (const { name, limit } of ZOO) {
    it(`${name} within ${limit}-byte bindings: layers in pieces, every binding within the limit`, () => {
      const { qg: zq, x } = zoo.get(name)!;
      const g = planQuantizedGraph(zq, { [zq.inputs[0]!.name]: x.shape }, limited(limit), { autotune: false });
      const split = [...new Set(g.steps.map((st) => st.layer))].filter((layer) => g.steps.filter((st) => st.layer === layer).length > 1);
      expect(split.length).toBeGreaterThanOrEqual(4);
      for (const st of g.steps) {
        for (const role of Object.values(st.plan.buffers)) {
          const bytes = role.range?.bytes ?? (role.role === 'constant' ? role.data.byteLength : g.tensors.get(role.tensor)!.bytes);
          expect(bytes, `${st.layer}: ${role.role === 'constant' ? 'a constant' : role.tensor}`).toBeLessThanOrEqual(limit);
        }
      }
    });
  }

  it('a layer that binds a tensor whole is refused with the layer, the tensor and the limit named', () => {
    // The dequantize step writes the float output whole: 512 bytes an item (the one-channel input's quantize step runs in pieces).
    const e = (() => {
      try {
        planQuantizedGraph(qg, { x: [4, 1, SIZE, SIZE] }, limited(1024), { autotune: false });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ResourceLimitError);
    expect((e as ResourceLimitError).limit).toBe('maxStorageBufferBindingSize');
    expect((e as Error).message).toMatch(/^layer 'dequantize:y' \(dequantize\): tensor 'y' \[4, 2, 8, 8\] needs 2048 bytes, above the adapter's maxStorageBufferBindingSize of 1024, and this layer binds it whole \(it does not run in pieces\)$/);
  });
});

describeOnHosts(
  (host) => {
    for (const c of PIECE_CASES) {
      it(`${c.igemm.name}: run piece by piece within ${c.limit}-byte bindings, equal to the golden model exactly`, async () => {
        const b = BUILT.get(c.igemm)!;
        const { plan, pieces } = piecesOf(c, host().facts);
        const wire = igemmPlanArgs(b, plan);
        const value = expectClean(await host().run('plans', { cases: pieces.map((p) => ({ ...wire, plan: encodePlan(convKernelPlan(plan, 'x', 'y', p)) })) }), c.igemm.name);
        // Each run wrote its piece's words of a poisoned output: the words of all pieces, each from its own run.
        const outWords = convGeometry(plan).out_words;
        const words = new Uint32Array(plan.outputWords).fill(POISON);
        pieces.forEach((p, k) => {
          const run = new Uint32Array(decodeInt32(value.outputs[k]!).buffer);
          for (let row = p.first; row < p.end; row++) words.set(run.subarray(row * outWords + p.cwFirst, row * outWords + p.cwEnd), row * outWords + p.cwFirst);
        });
        expect(words.filter((w) => w === POISON).length, 'output words never written').toBe(0);
        expect(Array.from(igemmCodes(b, plan, words))).toEqual(Array.from(b.expected));
      });
    }

    it(`a float graph within ${FLOAT_LIMIT}-byte bindings: an add and an activation in flat runs, equal to the CPU float executor`, async () => {
      const graph = floatGraph();
      const x = floatInput(7);
      const g = planFloatGraph(graph, { x: x.shape }, limited(FLOAT_LIMIT));
      for (const layer of ['a', 'r']) expect(g.steps.filter((st) => st.layer === layer).length, layer).toBeGreaterThan(1);
      const session = await host().runner.createSession(graph, { limits: { maxStorageBufferBindingSize: FLOAT_LIMIT } });
      try {
        const result = await session.run(x);
        expect(Array.from(result.outputs['y']!.data)).toEqual(Array.from(runGraph(graph, { x }).y!.data));
      } finally {
        await session.dispose();
      }
    });

    for (const { name, limit } of ZOO) {
      it(`${name} within ${limit}-byte bindings: equal to the golden model`, async () => {
        const { qg: zq, x } = zoo.get(name)!;
        const session = await host().runner.createSession(zq, { autotune: false, limits: { maxStorageBufferBindingSize: limit } });
        try {
          const result = await session.run(x);
          const golden = runQuantized(zq, { [zq.inputs[0]!.name]: x }).integers;
          expect(Object.keys(golden).length).toBeGreaterThan(0);
          for (const [output, codes] of Object.entries(golden)) expect(result.integers[output], output).toEqual(codes);
        } finally {
          await session.dispose();
        }
      }, 120_000);
    }

    const variants: ReadonlyArray<[string, PlanOptions]> = [
      ['the direct core', { autotune: false }],
      ['the tiled core', { autotune: false, tiled: true, workgroupX: 8, workgroupY: 8 }],
    ];
    for (const [name, options] of variants) {
      it(`a session within ${LIMIT}-byte bindings (PlanOptions.limits), ${name}: equal to the golden model`, async () => {
        const session = await host().runner.createSession(qg, { ...options, limits: { maxStorageBufferBindingSize: LIMIT } });
        try {
          for (const [batch, seed] of [[1, 1], [3, 2]] as const) {
            const x = wideInput(batch, seed);
            const result = await session.run(x);
            expect(result.integers['y'], `batch ${batch}`).toEqual(runQuantized(qg, { x }).integers['y']);
          }
          // profile() and memory() see the steps the session runs: each layer once, with the bytes of its
          // pieces' ranges, the slots as large as the tensors.
          const x = wideInput(1, 3);
          const facts = host().facts;
          const planned = (limit: number): CommandGraph => planQuantizedGraph(qg, { x: [1, 1, SIZE, SIZE] }, { ...facts, limits: { ...facts.limits, maxStorageBufferBindingSize: limit } }, options);
          const bytesOf = (g: CommandGraph, layer: string): number => g.steps.filter((st) => st.layer === layer).reduce((a, st) => a + stepBytes(st, g), 0);
          const profile = await session.profile(x, { warmup: 0, repeats: 1 });
          expect(new Set(profile.layers.map((l) => l.layer)).size).toBe(profile.layers.length);
          for (const layer of ['c1', 's1', 'a1', 'p1', 'c2']) {
            const bytes = profile.layers.find((l) => l.layer === layer)?.bytes;
            expect(bytes, layer).toBe(bytesOf(planned(LIMIT), layer));
            expect(planned(LIMIT).steps.filter((st) => st.layer === layer).length, `${layer} in pieces`).toBeGreaterThan(1);
          }
          // c2's pieces read their halos twice: more bytes than c2 whole.
          expect(profile.layers.find((l) => l.layer === 'c2')?.bytes).toBeGreaterThan(bytesOf(planned(1 << 27), 'c2'));
          const memory = await session.memory(x);
          expect(memory.plannedBytes).toBe(planMemory(planned(LIMIT)).plannedBytes);
        } finally {
          await session.dispose();
        }
      }, 120_000);
    }
  },
  { title: 'row pieces' },
);
