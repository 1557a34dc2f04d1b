/**
 * The command graph and the memory plan, without a GPU: liveness sharing on a
 * residual model, typed refusals (unsupported layers, adapter limits, wrong
 * input shapes), and the graph codec that carries graphs into a browser page.
 */
import { describe, expect, it } from 'vitest';
import { GpuUnsupportedError, ResourceLimitError, ShapeError } from '../../src/errors.js';
import { collectStats } from '../../src/quant/calibrate-graph.js';
import { PRESETS, type LayerQuant } from '../../src/quant/config.js';
import { quantize } from '../../src/quant/pipeline.js';
import { prepareForQuantization } from '../../src/quant/prepare.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { fitsLimits, pickChoice, UNPACKED_MARGIN } from '../../src/gpu/kernel-choice.js';
import { planMemory, rootOf } from '../../src/runtime/memory-plan.js';
import { gpuProblems, validateForGpu } from '../../src/runtime/validate.js';
import { planFloatGraph, planQuantizedGraph, type PlanFacts } from '../../src/runtime/plan-graph.js';
import { decodeGraph, encodeGraph } from '../../src/runtime/graph-codec.js';
import type { CommandGraph } from '../../src/runtime/steps.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { realInputs, zooModels } from '../helpers/zoo.js';

const FACTS: PlanFacts = { dot4I8Packed: true, limits: { maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 } };

async function quantizedZoo(name: string, config = PRESETS.w8a8!, gpu?: PlanFacts): Promise<QuantizedGraph> {
  const model = zooModels().find((m) => m.name === name)!;
  const graph = prepareForQuantization(loadModelFile(model.path));
  const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
  return quantize(graph, tensors, config, gpu === undefined ? {} : { gpu });
}

/** First and last step touching each planned tensor (inputs from -1, outputs to the end), computed independently of planMemory. */
function lifetimes(g: CommandGraph): Map<string, [number, number]> {
  const life = new Map<string, [number, number]>();
  const touch = (key: string, i: number): void => {
    const root = rootOf(g, key);
    if (g.tensors.get(root)?.constant !== undefined) return;
    const l = life.get(root);
    life.set(root, l === undefined ? [i, i] : [Math.min(l[0], i), Math.max(l[1], i)]);
  };
  for (const io of g.inputs) touch(io.key, -1);
  g.steps.forEach((s, i) => {
    for (const r of Object.values(s.plan.buffers)) if (r.role !== 'constant') touch(r.tensor, i);
  });
  for (const o of g.outputs) {
    touch(o.key, g.steps.length);
    if (o.integer) touch(o.integer.key, g.steps.length);
  }
  return life;
}

describe('memory plan', () => {
  for (const name of ['fashion-resnet', 'fashion-mbv3']) {
    it(`${name}: tensors alive together never share a slot, and the plan is below one buffer per tensor`, async () => {
      const qg = await quantizedZoo(name);
      const g = planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [8, 1, 28, 28] }, FACTS);
      const m = planMemory(g);
      const life = [...lifetimes(g)];
      for (let a = 0; a < life.length; a++) {
        for (let b = a + 1; b < life.length; b++) {
          const [ka, [fa, la]] = life[a]!;
          const [kb, [fb, lb]] = life[b]!;
          if (fa <= lb && fb <= la) expect(m.slotOf.get(ka), `${ka} and ${kb} overlap`).not.toBe(m.slotOf.get(kb));
        }
        const [key] = life[a]!;
        expect(m.slotBytes[m.slotOf.get(key)!]!, key).toBeGreaterThanOrEqual(g.tensors.get(key)!.bytes);
      }
      expect(m.plannedBytes).toBeLessThan(m.naiveBytes / 2);
      console.log(`${name} batch 8: activation memory planned ${m.plannedBytes} B in ${m.slotBytes.length} slots, one buffer per tensor ${m.naiveBytes} B`);
    });
  }
});

describe('im2col first layer', () => {
  it('quantizes a 1-channel input into 3x3 windows and runs the first conv as a 1x1 reduction of K = 9', async () => {
    const qg = await quantizedZoo('fashion-vgg');
    const name = qg.inputs[0]!.name;
    const g = planQuantizedGraph(qg, { [name]: [2, 1, 28, 28] }, FACTS, { autotune: false });
    const [quant, conv] = g.steps as [CommandGraph['steps'][number], CommandGraph['steps'][number]];
    expect(quant.op).toBe('quantize+im2col 3x3');
    expect(g.tensors.get(`i:${name}`)!.shape).toEqual([2, 9, 28, 28]);
    expect(conv.op).toBe('conv 3x3 im2col');
    const u = conv.plan.uniforms.params!;
    expect([u.k_h, u.k_w, u.cg, u.cg_words, u.pad_top, u.stride_h]).toEqual([1, 1, 9, 3, 0, 1]);
    // The real MACs of the 3x3 layer, not of a padded reduction.
    expect(conv.macs).toBe(2 * 32 * 28 * 28 * 9);
  });

  it('plans the plain boundary when asked to, or when the quantized input has another reader', async () => {
    const qg = await quantizedZoo('fashion-vgg');
    const name = qg.inputs[0]!.name;
    const plain = planQuantizedGraph(qg, { [name]: [1, 1, 28, 28] }, FACTS, { autotune: false, im2col: false });
    expect(plain.steps.slice(0, 2).map((s) => s.op)).toEqual(['quantize', 'conv 3x3']);
    // The input's codes also a graph output: a second reader of the integer tensor.
    const shared: QuantizedGraph = { ...qg, outputs: [...qg.outputs, { ...qg.inputs[0]!, integer: name }] };
    const g = planQuantizedGraph(shared, { [name]: [1, 1, 28, 28] }, FACTS, { autotune: false });
    expect(g.steps[0]!.op).toBe('quantize');
  });
});

describe('command graph refusals', () => {
  it('names a layer whose activations do not fit 8-bit lanes', async () => {
    const qg = await quantizedZoo('digits-vgg', { name: 'w4a16', default: { ...(PRESETS.w8a8!.default as LayerQuant), weightBits: 4, activationBits: 16 } });
    expect(() => planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [1, 1, 8, 8] }, FACTS)).toThrow(GpuUnsupportedError);
    expect(() => planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [1, 1, 8, 8] }, FACTS)).toThrow(/16-bit .* do not fit the 8-bit lanes/);
  });

  it('refuses a tensor that a layer binds whole beyond maxStorageBufferBindingSize, naming the layer and the limit', async () => {
    const qg = await quantizedZoo('digits-vgg');
    const small: PlanFacts = { ...FACTS, limits: { ...FACTS.limits, maxStorageBufferBindingSize: 4096 } };
    const e = (() => {
      try {
        planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [64, 1, 8, 8] }, small);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ResourceLimitError);
    expect((e as ResourceLimitError).limit).toBe('maxStorageBufferBindingSize');
    // The flatten before the classifier gathers 64 items' features whole (the convolutions, pools and dense layers run in pieces).
    expect((e as Error).message).toMatch(/^layer '\/classifier\/classifier.0\/Flatten' \(flatten\): tensor '[^']+' \[64, [\d, ]+\] needs \d+ bytes, above the adapter's maxStorageBufferBindingSize of 4096, and this layer binds it whole/);
  });

  it('refuses an input of the wrong shape', async () => {
    const qg = await quantizedZoo('digits-vgg');
    expect(() => planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [1, 3, 8, 8] }, FACTS)).toThrow(ShapeError);
    expect(() => planQuantizedGraph(qg, {}, FACTS)).toThrow(/the model needs input '.*' \[.*\]; given: none/);
    expect(() => planQuantizedGraph(qg, { [qg.inputs[0]!.name]: [0, 1, 8, 8] }, FACTS)).toThrow(/has no elements; the GPU runtime needs at least one/);
  });

  it('names a float layer with no GPU kernel', () => {
    const model = zooModels().find((m) => m.name === 'digits-vgg')!;
    const graph = loadModelFile(model.path);
    const out = graph.outputs[0]!.name;
    const bad = { ...graph, layers: [...graph.layers, { name: 'P', op: 'pad' as const, pads: [0, 1, 0, 1], mode: 'reflect' as const, value: 0, inputs: [out], outputs: ['t'] }], outputs: [{ name: 't', shape: ['N', 12] }] };
    expect(() => planFloatGraph(bad, { [graph.inputs[0]!.name]: [2, 1, 8, 8] }, FACTS)).toThrow(GpuUnsupportedError);
    expect(() => planFloatGraph(bad, { [graph.inputs[0]!.name]: [2, 1, 8, 8] }, FACTS)).toThrow(/layer 'P' \(pad\): no float32 GPU kernel/);
    // Validation says the same before any shape is known.
    expect(() => validateForGpu(bad, FACTS)).toThrow(/^1 layer of '.*' cannot run on this GPU: layer 'P' \(pad\): no float32 GPU kernel/);
  });

  it('validation lists every layer the GPU cannot run, in one typed error, before any shape is known', async () => {
    const qg = await quantizedZoo('digits-vgg', { name: 'w4a16', default: { ...(PRESETS.w8a8!.default as LayerQuant), weightBits: 4, activationBits: 16 } });
    const problems = gpuProblems(qg, FACTS);
    const layers = new Set(problems.map((p) => p.layer));
    // Every integer layer holds 16-bit codes: each is named, not just the first.
    const integerLayers = qg.layers.filter((l) => l.kind !== 'float').map((l) => l.name);
    expect([...layers].sort()).toEqual([...new Set(integerLayers)].sort());
    expect(problems.every((p) => /^its (output|input) has 16-bit \w+ codes \[\d+, \d+\], which do not fit the 8-bit lanes$/.test(p.why))).toBe(true);
    const e = (() => {
      try {
        validateForGpu(qg, FACTS);
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(GpuUnsupportedError);
    expect(e!.message).toMatch(new RegExp(`^${layers.size} layers of '.*' cannot run on this GPU: `));
    expect(e!.message).not.toMatch(/\n/);
    // Layers with the same reason are listed together, each named once.
    for (const name of layers) expect(e!.message.split(`layer '${name}' (`).length - 1, name).toBeGreaterThanOrEqual(1);
    // quantize() given an adapter's facts refuses the config at once, and takes a config the GPU runs.
    await expect(quantizedZoo('digits-vgg', qg.config, FACTS)).rejects.toThrow(e!.message);
    expect(gpuProblems(await quantizedZoo('digits-vgg', PRESETS.w8a8!, FACTS), FACTS)).toEqual([]);
  });

  it('asks for dot4I8Packed on an adapter without it: refused at validation, naming the feature', async () => {
    const qg = await quantizedZoo('digits-vgg');
    const problems = gpuProblems(qg, { ...FACTS, dot4I8Packed: false }, { dot4: true });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => (p.op === 'conv' || p.op === 'dense') && /^dot4I8Packed asked for, but the adapter lacks packed_4x8_integer_dot_product$/.test(p.why))).toBe(true);
  });
});

describe('graph codec', () => {
  it('gives back an equal quantized graph (typed arrays, Maps, -0 and infinities included)', async () => {
    const qg = await quantizedZoo('fashion-mbv3', PRESETS.w4a8!);
    const back = decodeGraph<QuantizedGraph>(encodeGraph(qg));
    expect(back).toStrictEqual(qg);
    expect(decodeGraph(encodeGraph({ a: -0, b: Infinity, c: new Map([[1, new Int8Array([-1, 2])]]) }))).toStrictEqual({ a: -0, b: Infinity, c: new Map([[1, new Int8Array([-1, 2])]]) });
  });
});

describe('kernel choice', () => {
  it('offers only tiles the adapter limits allow', () => {
    const small = { maxComputeInvocationsPerWorkgroup: 128, maxComputeWorkgroupSizeX: 128, maxComputeWorkgroupSizeY: 128, maxComputeWorkgroupStorageSize: 4096 };
    expect(fitsLimits({ tiled: false, workgroupX: 8, workgroupY: 8 }, small)).toBe(true);
    expect(fitsLimits({ tiled: false, workgroupX: 16, workgroupY: 16 }, small)).toBe(false);
    expect(fitsLimits({ tiled: true, workgroupX: 8, workgroupY: 8 }, small)).toBe(false);
    expect(fitsLimits({ tiled: true, workgroupX: 8, workgroupY: 8 }, { ...small, maxComputeWorkgroupStorageSize: 16384 })).toBe(true);
  });

  it('picks the fastest variant, but dot4I8Packed over an unpacked one less than UNPACKED_MARGIN faster', () => {
    const choices = [{ dot4: true }, { dot4: true }, { dot4: false }, { dot4: false }];
    expect(pickChoice(choices, [1.0, 0.9, 1.2, 1.1]), 'a dot4I8Packed variant is fastest').toBe(1);
    expect(pickChoice(choices, [1.0, 0.9, 0.85, 1.1]), 'unpacked 6% faster: within the margin').toBe(1);
    expect(pickChoice(choices, [1.0, 0.9, 1.2, 0.9 / (1 + UNPACKED_MARGIN) + 0.001]), 'unpacked just under the margin faster (in rate)').toBe(1);
    expect(pickChoice(choices, [1.0, 0.9, 1.2, 0.9 / (1 + UNPACKED_MARGIN) - 0.001]), 'unpacked more than the margin faster').toBe(3);
    expect(pickChoice([{ dot4: false }, { dot4: false }], [1.0, 0.8]), 'no dot4I8Packed on the adapter').toBe(1);
  });
});
