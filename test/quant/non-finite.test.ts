/**
 * Numbers that do not belong: NaN or infinity in weights, in calibration or
 * run inputs, or produced inside the float model during calibration, is
 * reported by name and never carried into scales; a constant-zero input and
 * a layer whose weights are all zero quantize to something valid.
 */
import { describe, expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../../src/cpu/tensor.js';
import { InputError, ModelFormatError, QuantConfigError } from '../../src/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { PRESETS } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';

const MODEL = 'models/fashion-vgg.onnx';
const images = (n: number, f: (i: number) => number): Tensor => ({ shape: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, (_, i) => f(i)) });

/** The model with constant `name` replaced by `f` of its values. */
function withConstant(graph: Graph, name: string, f: (data: Float32Array) => Float32Array): Graph {
  const constants = new Map(graph.constants);
  const c = constants.get(name)!;
  constants.set(name, { ...c, data: f(Float32Array.from(c.data)) });
  return { ...graph, constants };
}

describe('numbers that do not belong', () => {
  const graph = loadModelFile(MODEL);
  const dense = graph.layers.find((l) => l.op === 'dense')!;
  const x = images(4, (i) => (i % 7) / 7);

  it('NaN in a weight is a ModelFormatError naming the layer, the constant and the element', async () => {
    const broken = withConstant(graph, dense.inputs[1]!, (d) => ((d[3] = NaN), d));
    const stats = await calibrate(graph, x, { executor: 'js' });
    expect(() => quantize(broken, stats, PRESETS.w8a8!)).toThrow(ModelFormatError);
    expect(() => quantize(broken, stats, PRESETS.w8a8!)).toThrow(new RegExp(`layer '${dense.name}' \\(dense\\): its constant '${dense.inputs[1]}' holds NaN at element 3`));
  });

  it('NaN or infinity in a calibration or run input is an InputError naming the image and element', async () => {
    const bad = images(3, (i) => (i === 784 + 5 ? Infinity : 0.5));
    await expect(calibrate(graph, bad, { executor: 'js' })).rejects.toThrow(/^calibration input '.*' holds Infinity at image 1, element 5; quantized models take finite values only$/);
    const qg = quantize(graph, await calibrate(graph, x, { executor: 'js' }), PRESETS.w8a8!);
    const nan = images(2, (i) => (i === 10 ? NaN : 0.5));
    expect(() => runQuantized(qg, { [graph.inputs[0]!.name]: nan })).toThrow(InputError);
    expect(() => runQuantized(qg, { [graph.inputs[0]!.name]: nan })).toThrow(/input '.*' holds NaN at image 0, element 10/);
  });

  it('a float model that overflows during calibration is refused at quantize time, naming the tensor', async () => {
    const huge = withConstant(graph, dense.inputs[1]!, (d) => d.map((v) => v * 1e38));
    const stats = await calibrate(huge, x, { executor: 'js' });
    expect(() => quantize(huge, stats, PRESETS.w8a8!)).toThrow(QuantConfigError);
    expect(() => quantize(huge, stats, PRESETS.w8a8!)).toThrow(/^tensor '.*': calibration saw \d+ NaN or infinite value\(s\) of \d+; the float model overflows or divides by zero there$/);
  });

  it('an all-zero input and a layer with all-zero weights quantize to valid parameters, and the golden model runs them', async () => {
    const zeros = images(2, () => 0);
    const qg = quantize(graph, await calibrate(graph, zeros, { executor: 'js' }), PRESETS.w8a8!);
    for (const [name, p] of qg.tensors) {
      expect(Number.isFinite(p.scale) && p.scale > 0, name).toBe(true);
      expect(p.lo <= p.zeroPoint && p.zeroPoint <= p.hi, name).toBe(true);
    }
    const out = Object.values(runQuantized(qg, { [graph.inputs[0]!.name]: zeros }).integers)[0]!;
    expect(out.length).toBe(20);
    const dead = withConstant(graph, dense.inputs[1]!, (d) => d.fill(0));
    const qd = quantize(dead, await calibrate(dead, x, { executor: 'js' }), PRESETS.w8a8!);
    const layer = qd.layers.find((l) => l.name === dense.name);
    expect(layer?.kind).toBe('dense');
    if (layer?.kind === 'dense') expect(Array.from(layer.weightScales).every((s) => Number.isFinite(s) && s > 0)).toBe(true);
    expect(Object.values(runQuantized(qd, { [graph.inputs[0]!.name]: x }).integers)[0]!.length).toBe(40);
  });
});
