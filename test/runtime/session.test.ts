/**
 * Whole models on the GPU, through both runners (Node's `webgpu` package and
 * headless Chromium): every zoo model equals the golden executor bit for bit
 * at w8a8, w4a8, w8a8-pow2 and a mixed config with a "float" layer, batch 1
 * and 8, and its float path matches the CPU float executor; device loss and
 * disposal behave. Through describeOnHosts, so every test also fails on a
 * WebGPU error or a buffer left alive after its sessions were disposed; a
 * host that cannot start fails every test (no skip).
 */
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { DeviceLostError, GpuUnsupportedError, ShapeError } from '../../src/errors.js';
import { BufferTracker } from '../../src/gpu/buffer-tracker.js';
import { requestGpu } from '../../src/gpu/device.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { createSession } from '../../src/runtime/session.js';
import { importTfjs } from '../../src/import/tfjs/import-tfjs.js';
import { simplify } from '../../src/ir/simplify.js';
import { calibrate } from '../../src/quant/pipeline.js';
import { nsfwjsArtifacts } from '../helpers/tfjs-nsfwjs.js';
import { photoBatch, requirePhotos } from '../helpers/tfjs-reference.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { realInputs, zooModels } from '../helpers/zoo.js';
import { mulberry32 } from '../helpers/random.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferGraphShapes } from '../../src/ir/infer-shapes.js';

function slice(x: Tensor, n: number): Tensor {
  const per = x.data.length / x.shape[0]!;
  return { shape: [n, ...x.shape.slice(1)], data: x.data.slice(0, n * per) };
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(a[i]!));
  }
  return d / m;
}

/**
 * A 3-channel first convolution (3x3, stride 2, padding 1, ReLU) and a 1x1 after it, weights
 * seeded; with `nhwc`, the input is NHWC and a transpose to NCHW comes first (as in TF.js models).
 */
function rgbStem(nhwc = false): Graph {
  const rnd = mulberry32(4);
  const data = (n: number): Float32Array => Float32Array.from({ length: n }, () => rnd() - 0.5);
  const window = { dilations: [1, 1] as [number, number], autoPad: 'NOTSET' as const, group: 1 };
  const graph: Graph = {
    name: 'rgb-stem',
    inputs: [{ name: 'x', shape: nhwc ? ['N', 11, 10, 3] : ['N', 3, 11, 10] }],
    outputs: [{ name: 'y', shape: [] }],
    layers: [
      ...(nhwc ? [{ op: 'transpose' as const, name: 'to_nchw', inputs: ['x'], outputs: ['x_nchw'], perm: [0, 3, 1, 2] }] : []),
      { op: 'conv', name: 'stem', inputs: [nhwc ? 'x_nchw' : 'x', 'w1', 'b1'], outputs: ['h'], strides: [2, 2], pads: [1, 1, 1, 1], activation: { kind: 'relu' }, ...window },
      { op: 'conv', name: 'pointwise', inputs: ['h', 'w2', 'b2'], outputs: ['y'], strides: [1, 1], pads: [0, 0, 0, 0], ...window },
    ],
    constants: new Map([
      ['w1', { shape: [6, 3, 3, 3], data: data(6 * 27) }],
      ['b1', { shape: [6], data: data(6) }],
      ['w2', { shape: [5, 6, 1, 1], data: data(30) }],
      ['b2', { shape: [5], data: data(5) }],
    ]),
    shapes: new Map(),
  };
  inferGraphShapes(graph);
  graph.outputs[0]!.shape = graph.shapes.get('y')!;
  return graph;
}

describeOnHosts(
  (host) => {
    const get = () => host().runner;
    for (const model of zooModels()) {
      it(`${model.name}: equal to the golden executor at w8a8, w4a8, w8a8-pow2 and mixed, batch 1 and 8; float within 1e-4`, async () => {
        const r = get();
        const graph = prepareForQuantization(loadModelFile(model.path));
        const input = graph.inputs[0]!.name;
        const { tensors } = await collectStats(graph, [await realInputs(model, 100, 64)]);
        const x8 = await realInputs(model, 0, 8);
        const second = graph.layers.find((l) => l.op === 'conv' && l !== graph.layers[0])!.name;
        const configs: QuantConfig[] = [PRESETS.w8a8!, PRESETS.w4a8!, PRESETS['w8a8-pow2']!, { name: 'mixed', default: PRESETS.w8a8!.default, layers: { [second]: 'float' } }];
        for (const config of configs) {
          const qg = quantize(graph, tensors, config);
          const session = await r.createSession(qg);
          try {
            for (const x of [slice(x8, 1), x8]) {
              const golden = runQuantized(qg, { [input]: x });
              const gpu = await session.run(x);
              for (const [name, ints] of Object.entries(golden.integers)) {
                const got = gpu.integers[name]!;
                expect(got.length, `${config.name} batch ${x.shape[0]} ${name}`).toBe(ints.length);
                const bad = ints.findIndex((v, i) => v !== got[i]);
                if (config.layers === undefined) {
                  expect(bad, `${config.name} batch ${x.shape[0]}: first differing code of '${name}' (golden ${ints[bad]}, gpu ${got[bad]})`).toBe(-1);
                  // Dequantization is one float32 product on the GPU and a double product rounded once on the CPU.
                  expect(maxRelative(golden.outputs[name]!.data, gpu.outputs[name]!.data), `${config.name} logits`).toBeLessThan(1e-6);
                } else {
                  // A float layer in between (the mixed config) sums on the GPU in float32 in another
                  // order than the CPU's float kernels: its outputs differ in the last bits, and
                  // the quantize step after it may round a value lying at a level boundary the
                  // other way; that one code then reaches the logits through the integer layers
                  // after it (fashion-mbv3 at batch 8: 7 of 80 logits, since scales are float32
                  // values). The integer layers stay exact (the configs above); across a float
                  // island the promise is one output step.
                  const steps = ints.map((v, i) => Math.abs(v - got[i]!));
                  expect(Math.max(...steps), `${config.name} batch ${x.shape[0]}: '${name}' beyond one step of the golden model`).toBeLessThanOrEqual(1);
                }
              }
            }
          } finally {
            await session.dispose();
          }
        }
        const session = await r.createSession(graph);
        try {
          const ref = runGraph(graph, { [input]: x8 });
          const gpu = await session.run(x8);
          for (const [name, t] of Object.entries(ref)) expect(maxRelative(t.data, gpu.outputs[name]!.data), `float ${name}`).toBeLessThan(1e-4);
        } finally {
          await session.dispose();
        }
      }, 300_000);
    }

    it('an RGB first convolution through its im2col copy equals the golden executor at w8a8, w3a8 and w2a8, as does the direct form; NCHW input, and NHWC through a transpose folded into the quantize step', async () => {
      const r = get();
      for (const nhwc of [false, true]) {
        const graph = rgbStem(nhwc);
        const rnd = mulberry32(9);
        const shape = nhwc ? [2, 11, 10, 3] : [2, 3, 11, 10];
        const x: Tensor = { shape, data: Float32Array.from({ length: 2 * 3 * 11 * 10 }, () => 2 * rnd() - 1) };
        const { tensors } = await collectStats(graph, [x]);
        for (const bits of [8, 3, 2] as const) {
          const qg = quantize(graph, tensors, { name: `w${bits}a8`, default: { ...(PRESETS.w8a8!.default as LayerQuant), weightBits: bits } });
          const golden = runQuantized(qg, { x });
          for (const im2col of [true, false]) {
            const session = await r.createSession(qg, { im2col });
            try {
              const ops = (await session.profile(x, { warmup: 0, repeats: 1 })).layers.map((l) => l.op);
              const boundary = ['quantize', ...(nhwc ? ['transpose'] : []), ...(im2col ? ['im2col 3x3'] : [])].join('+');
              expect(ops.slice(0, 2)).toEqual([boundary, im2col ? 'conv 3x3/2 im2col' : 'conv 3x3/2']);
              const gpu = await session.run(x);
              for (const [name, ints] of Object.entries(golden.integers)) expect(gpu.integers[name], `w${bits}a8 nhwc ${nhwc} im2col ${im2col}: ${name}`).toEqual(ints);
            } finally {
              await session.dispose();
            }
          }
        }
      }
    }, 180_000);

    it('a constant Pad between convolutions runs on the GPU as an integer layer and equals the golden executor, crops and channel pads included', async () => {
      const r = get();
      const base = rgbStem();
      const cases: Array<{ pads: number[]; value: number }> = [
        { pads: [0, 0, 1, 2, 0, 0, 2, 1], value: 0 },
        { pads: [0, 1, -1, 0, 0, 2, 0, -2], value: 0.25 },
      ];
      for (const { pads, value } of cases) {
        // stem -> pad -> a 1x1 convolution over the padded tensor (channels as the pad leaves them).
        const c = 6 + pads[1]! + pads[5]!;
        const rnd = mulberry32(5);
        const graph: Graph = {
          ...base,
          outputs: [{ name: 'y', shape: [] }],
          layers: [
            base.layers[0]!,
            { op: 'pad', name: 'pad', inputs: ['h'], outputs: ['hp'], pads, mode: 'constant', value },
            { op: 'conv', name: 'pointwise', inputs: ['hp', 'wp', 'b2'], outputs: ['y'], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], autoPad: 'NOTSET', group: 1 },
          ],
          constants: new Map([...base.constants, ['wp', { shape: [5, c, 1, 1], data: Float32Array.from({ length: 5 * c }, () => rnd() - 0.5) }]]),
          shapes: new Map(),
        };
        inferGraphShapes(graph);
        graph.outputs[0]!.shape = graph.shapes.get('y')!;
        const x: Tensor = { shape: [2, 3, 11, 10], data: Float32Array.from({ length: 2 * 3 * 11 * 10 }, () => 2 * rnd() - 1) };
        const { tensors } = await collectStats(graph, [x]);
        const qg = quantize(graph, tensors, PRESETS.w8a8!);
        expect(qg.layers.find((l) => l.name === 'pad')?.kind, 'the pad is an integer layer').toBe('move');
        const golden = runQuantized(qg, { x });
        const session = await r.createSession(qg);
        try {
          const ops = (await session.profile(x, { warmup: 0, repeats: 1 })).layers.map((l) => l.op);
          expect(ops).toContain('pad');
          const gpu = await session.run(x);
          for (const [name, ints] of Object.entries(golden.integers)) expect(gpu.integers[name], `pads [${pads}]: ${name}`).toEqual(ints);
        } finally {
          await session.dispose();
        }
      }
    }, 120_000);

    it('nsfwjs MobileNetV2 (TF.js layers, NHWC input, ZeroPadding2D) equals the golden executor at w8a8; float within 1e-4', async () => {
      const r = get();
      const graph = simplify(importTfjs(nsfwjsArtifacts()));
      const pre = { scale: 1 / 255, mean: [0], std: [1] };
      const stats = await calibrate(graph, photoBatch(['coffee.png', 'rocket.jpg', 'motorcycle_left.png'], 224, 224, 3, pre));
      const qg = quantize(graph, stats, PRESETS.w8a8!);
      const x = photoBatch(['astronaut.png'], 224, 224, 3, pre);
      const golden = runQuantized(qg, { [graph.inputs[0]!.name]: x });
      const session = await r.createSession(qg);
      const gpu = await session.run(x);
      await session.dispose();
      for (const [name, ints] of Object.entries(golden.integers)) expect(gpu.integers[name], name).toEqual(ints);
      const floatSession = await r.createSession(graph);
      const out = (await floatSession.run(x)).outputs;
      await floatSession.dispose();
      for (const [name, t] of Object.entries(runGraph(graph, { [graph.inputs[0]!.name]: x }))) expect(maxRelative(t.data, out[name]!.data), name).toBeLessThan(1e-4);
    }, 300_000);

    it('plans activation memory below one buffer per tensor on a residual model', async () => {
      const model = zooModels().find((m) => m.name === 'fashion-resnet')!;
      const graph = prepareForQuantization(loadModelFile(model.path));
      const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
      const session = await get().createSession(quantize(graph, tensors, PRESETS.w8a8!));
      const m = await session.memory(await realInputs(model, 0, 8));
      await session.dispose();
      expect(m.plannedBytes).toBeLessThan(m.naiveBytes);
      expect(m.slots).toBeGreaterThanOrEqual(2);
    });

    it('refuses a layer without a GPU kernel with GpuUnsupportedError naming it, when the session is made', async () => {
      const model = zooModels().find((m) => m.name === 'digits-vgg')!;
      const graph = loadModelFile(model.path);
      const out = graph.outputs[0]!.name;
      const bad = { ...graph, layers: [...graph.layers, { name: 'P', op: 'pad' as const, pads: [0, 1, 0, 1], mode: 'reflect' as const, value: 0, inputs: [out], outputs: ['t'] }], outputs: [{ name: 't', shape: ['N', 12] }] };
      // Refused when the session is made, before any buffer: validation reads the operator table.
      const e = await get().createSession(bad).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(GpuUnsupportedError);
      expect((e as Error).message).toMatch(/^1 layer of '.*' cannot run on this GPU: layer 'P' \(pad\): no float32 GPU kernel/);
    });

    it("sees, through the wrapper's checks, the buffers of a session left undisposed, by label", async () => {
      const r = get();
      const graph = rgbStem();
      const session = await r.createSession(graph);
      await session.run({ shape: [1, 3, 11, 10], data: new Float32Array(3 * 11 * 10) });
      // End the wrapper's frame early to look at it, and open a fresh one for its afterEach.
      const report = await r.endChecks();
      await r.beginChecks();
      await session.dispose(); // its buffers are destroyed already; destroying twice is allowed
      expect(report.gpuErrors).toEqual([]);
      expect(report.leakedBuffers).toEqual(expect.arrayContaining(['const:f:w1', 'staging']));
    });

    it('rejects runs pending when the device is lost with DeviceLostError; a new session works', async () => {
      const r = get();
      const model = zooModels().find((m) => m.name === 'fashion-vgg')!;
      const graph = prepareForQuantization(loadModelFile(model.path));
      const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
      const qg = quantize(graph, tensors, PRESETS.w8a8!);
      const x = await realInputs(model, 0, 64);
      const session = await r.createSession(qg);
      await session.run(slice(x, 1)); // prepared and compiled: the runs below go straight to the queue
      const pending = [1, 2, 3].map(() => session.run(x).then(() => 'done', (e: unknown) => e));
      await r.loseDevice();
      const outcomes = await Promise.all(pending);
      expect(outcomes.at(-1), 'the last run in flight').toBeInstanceOf(DeviceLostError);
      for (const o of outcomes) if (o !== 'done') expect(o).toBeInstanceOf(DeviceLostError);
      const later = await session.run(x).catch((e: unknown) => e);
      expect(later).toBeInstanceOf(DeviceLostError);
      expect((later as Error).message).toMatch(/^the GPU device was lost \(destroyed\).*create a new session/);
      await session.dispose();
      const fresh = await r.createSession(qg);
      const again = await fresh.run(slice(x, 4));
      await fresh.dispose();
      const golden = runQuantized(qg, { [graph.inputs[0]!.name]: slice(x, 4) });
      expect(Object.values(again.integers)[0]).toEqual(Object.values(golden.integers)[0]);
    }, 120_000);
  },
  { title: 'runtime', before: requirePhotos },
);

describe('session buffers (Node)', () => {
  it('a dispose during the first build leaves no buffer, and a bad input neither leaks nor breaks the session', async () => {
    const gpu = await requestGpu();
    try {
      const model = zooModels().find((m) => m.name === 'digits-vgg')!;
      const graph = prepareForQuantization(loadModelFile(model.path));
      const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
      const qg = quantize(graph, tensors, PRESETS.w8a8!);
      const x = await realInputs(model, 0, 4);
      const early = await createSession(qg, { gpu });
      const pending = early.run(x);
      early.dispose();
      await expect(pending).rejects.toThrow(/disposed/);
      expect(early.liveBuffers()).toEqual([]);

      const session = await createSession(qg, { gpu });
      await session.run(x);
      const held = session.liveBuffers();
      const bad = { shape: x.shape, data: x.data.subarray(1) };
      await expect(session.run(bad)).rejects.toThrow(ShapeError);
      expect(session.liveBuffers()).toEqual(held);
      const again = await session.run(x);
      expect(Object.values(again.integers)[0]).toEqual(Object.values(runQuantized(qg, { [graph.inputs[0]!.name]: x }).integers)[0]);
      session.dispose();
    } finally {
      gpu.destroy();
    }
  });

  it('runs several inferences in flight at once, each with its own result', async () => {
    const gpu = await requestGpu();
    try {
      const model = zooModels().find((m) => m.name === 'fashion-resnet')!;
      const graph = prepareForQuantization(loadModelFile(model.path));
      const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
      const qg = quantize(graph, tensors, PRESETS.w8a8!);
      const session = await createSession(qg, { gpu });
      const batches = await Promise.all([0, 4, 8, 12, 16].map((start) => realInputs(model, start, 4)));
      // Submitted together: none waits for another's readback, and staging buffers are not shared.
      const results = await Promise.all(batches.map((x) => session.run(x)));
      results.forEach((r, i) => {
        const golden = runQuantized(qg, { [graph.inputs[0]!.name]: batches[i]! });
        expect(Object.values(r.integers)[0], `batch ${i}`).toEqual(Object.values(golden.integers)[0]);
      });
      session.dispose();
    } finally {
      gpu.destroy();
    }
  });

  it('a second inference makes no buffer, and dispose destroys every buffer the session made', async () => {
    const gpu = await requestGpu();
    try {
      const model = zooModels().find((m) => m.name === 'fashion-mbv2')!;
      const graph = prepareForQuantization(loadModelFile(model.path));
      const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
      const session = await createSession(quantize(graph, tensors, PRESETS.w4a8!), { gpu });
      const x = await realInputs(model, 0, 4);
      const first = await session.run(x);
      const held = session.liveBuffers();
      const tracker = new BufferTracker(gpu.device);
      const unwatch = tracker.watch();
      let second;
      try {
        second = await session.run(x);
      } finally {
        unwatch();
      }
      expect(tracker.live(), 'buffers made by the second run').toEqual([]);
      expect(second.integers).toEqual(first.integers);
      expect(session.liveBuffers()).toEqual(held);
      session.dispose();
      expect(session.liveBuffers()).toEqual([]);
      await expect(session.run(x)).rejects.toThrow(/disposed/);
    } finally {
      gpu.destroy();
    }
  });
});
