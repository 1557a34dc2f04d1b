import { ModelFormatError, QuantConfigError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import { layerSetting, type LayerQuant, type LayerSetting, type QuantConfig } from './config.js';
import { quantizeMultiplier } from './fixed-point.js';
import { activationParams, clampedParams, weightRange, type QParams } from './qparams.js';
import type { QLayer, QuantizedGraph, Requant } from './quantized-graph.js';
import { roundHalfEven } from './rounding.js';
import { activationFn } from '../cpu/activation.js';
import type { LayerRefinement } from './refine/refinement.js';
import { integerFormOf } from '../runtime/operators.js';
import { GraphIndex } from '../ir/passes/graph-index.js';
import { correctedBias, expectedInput, weightInputMeans, type AnalyticBiasCorrection } from './bias-correction.js';

/** The clipping range of a tensor for a layer setting (from calibration statistics). */
export type RangeOf = (tensor: string, setting: LayerQuant) => { lo: number; hi: number };

/** Per-output-channel (or per-tensor, repeated) symmetric thresholds of a weight tensor [M, ...]. */
export type WeightThresholds = (w: Float32Array, outChannels: number, setting: LayerQuant) => Float32Array;

const POOLS = new Set<Layer['op']>(['maxPool', 'avgPool', 'globalAvgPool', 'globalMaxPool']);

function requantOf(multipliers: ArrayLike<number>): Requant {
  const m0 = new Int32Array(multipliers.length);
  const shift = new Int32Array(multipliers.length);
  for (let i = 0; i < multipliers.length; i++) {
    const q = quantizeMultiplier(multipliers[i]!);
    m0[i] = q.m0;
    shift[i] = q.shift;
  }
  return { m0, shift };
}

/**
 * Quantize a prepared float graph (see `prepareForQuantization`) with a
 * config: integer weights and biases, requantization multipliers, lookup
 * tables and clamp bounds; quantize/dequantize steps where integer and
 * float layers meet. Refuses configs whose int32 accumulation could overflow.
 */
export function quantizeGraph(
  graph: Graph,
  config: QuantConfig,
  rangeOf: RangeOf,
  weightThresholds: WeightThresholds,
  /** Learned weight codes and bias corrections by layer name (`refine`); checked by the caller (`checkRefinement`). */
  refinement?: ReadonlyMap<string, LayerRefinement>,
): QuantizedGraph {
  return quantizeGraphFrom(graph, config, calibratedSource(rangeOf, weightThresholds, refinement));
}

/** The integer form of a convolution or dense layer's constants: codes, per-channel scales, int32 bias. */
export interface MatmulCodes {
  /** Integer weights of shape `weightShape` [M, ...], within [-weightMax, weightMax]. */
  weights: Int32Array;
  weightShape: number[];
  weightBits: number;
  /** The largest |weight| the codes may hold (the accumulation bound uses it). */
  weightMax: number;
  weightScales: Float32Array;
  /** int32 bias in units of S_w[c] * S_in. */
  bias: Int32Array;
}

/**
 * Where a quantized graph's numbers come from: calibration statistics and a
 * config (`calibratedSource`), or a quantized model file that holds its own
 * scales, zero points and integer weights (src/import/onnx/quantized/).
 */
export interface QuantSource {
  /**
   * The parameters of integer tensor `t`, read by a layer set to `setting`:
   * `input` where an integer layer reads a float tensor (a quantize step),
   * `output` where a layer writes it, `logit` for the network's outputs.
   */
  activation(t: string, setting: LayerQuant, role: 'input' | 'output' | 'logit', where: string): QParams;
  /** `inputMean`, where given, is E[x] per weight element: analytic bias correction asks the source to fold the rounding's expected error into the bias. */
  matmul(graph: Graph, layer: Extract<Layer, { op: 'conv' | 'dense' }>, setting: LayerQuant, inP: QParams, where: string, inputMean?: InputMean): MatmulCodes;
}

/** Parameters from calibrated ranges, weights from thresholds (or what `refine` learned): the quantizer's own choice. */
export function calibratedSource(rangeOf: RangeOf, weightThresholds: WeightThresholds, refinement?: ReadonlyMap<string, LayerRefinement>): QuantSource {
  return {
    activation: (t, s, role, where) =>
      role === 'input'
        ? activationParams(rangeOf(t, s), s.activationBits, s.scheme, where)
        : // Logits are never clipped: a clipped top class ties with the runners-up and argmax picks by index.
          activationParams(rangeOf(t, role === 'logit' ? { ...s, calibrator: 'max' } : s), s.activationBits, s.scheme, where, s.activationFractionalBits),
    matmul: (graph, layer, s, inP, where, inputMean) => matmulCodes(graph, layer, s, inP, weightThresholds, where, inputMean, refinement?.get(layer.name)),
  };
}

/** `quantizeGraph` with the tensor parameters and integer weights of `source`. */
export function quantizeGraphFrom(graph: Graph, config: QuantConfig, source: QuantSource): QuantizedGraph {
  const tensors = new Map<string, QParams>();
  const settings = new Map<string, LayerSetting>();
  const layers: QLayer[] = [];
  const isInt = new Map<string, boolean>(); // by float-graph layer name
  for (const l of graph.layers) {
    const s = layerSetting(config, l.name);
    if (s !== 'float' && s.scheme !== 'pow2') {
      const offset = (['weightFractionalBits', 'biasFractionalBits', 'activationFractionalBits'] as const).find((k) => s[k] !== undefined);
      if (offset) throw new QuantConfigError(`layer '${l.name}': ${offset} needs scheme pow2 (it is ${s.scheme})`);
    }
    settings.set(l.name, s);
    // The operator table decides which layers have an integer form; the rest run as float islands.
    isInt.set(l.name, s !== 'float' && integerFormOf(l, graph) !== undefined);
  }
  const producer = new Map<string, Layer>();
  for (const l of graph.layers) for (const o of l.outputs) producer.set(o, l);
  // The network's outputs, and what a final Softmax reads.
  const logits = new Set(graph.outputs.map((o) => o.name));
  for (const o of graph.outputs) {
    const p = producer.get(o.name);
    if (p?.op === 'softmax') logits.add(p.inputs[0]!);
  }
  const intTensor = (t: string): boolean => tensors.has(t);
  const analytic: AnalyticBiasCorrection = { corrected: [], skipped: [] };
  const idx = new GraphIndex(graph);

  /** Make sure an integer version of float tensor `t` exists, quantized for `setting`. */
  const needInt = (t: string, setting: LayerQuant): void => {
    if (tensors.has(t)) return;
    tensors.set(t, source.activation(t, setting, 'input', `tensor '${t}'`));
    layers.push({ kind: 'quantize', name: `quantize:${t}`, inputs: [t], outputs: [t] });
  };
  const floats = new Set<string>([...graph.inputs.map((i) => i.name)]);
  /** Make sure a float version of tensor `t` exists. */
  const needFloat = (t: string): void => {
    if (floats.has(t) || graph.constants.has(t)) return;
    layers.push({ kind: 'dequantize', name: `dequantize:${t}`, inputs: [t], outputs: [t] });
    floats.add(t);
  };

  for (const layer of graph.layers) {
    const setting = settings.get(layer.name)!;
    const where = `layer '${layer.name}' (${layer.op})`;
    if (!isInt.get(layer.name)) {
      layer.inputs.forEach(needFloat);
      layers.push({ kind: 'float', name: layer.name, inputs: layer.inputs, outputs: layer.outputs, layer });
      layer.outputs.forEach((o) => floats.add(o));
      continue;
    }
    const s = setting as LayerQuant;
    const dataInputs = layer.op === 'conv' || layer.op === 'dense' ? [layer.inputs[0]!] : layer.inputs;
    for (const i of dataInputs) if (!intTensor(i)) needInt(i, s);
    const out = layer.outputs[0]!;
    const inP = tensors.get(layer.inputs[0]!)!;
    const ownParams = (): QParams => {
      const p = source.activation(out, s, logits.has(out) ? 'logit' : 'output', `tensor '${out}'`);
      const a = 'activation' in layer ? layer.activation : undefined;
      if (a?.kind === 'relu') return clampedParams(p, 0, Infinity);
      if (a?.kind === 'clip') return clampedParams(p, a.min, a.max);
      return p;
    };
    const base = { name: layer.name, inputs: dataInputs, outputs: [out] };
    switch (layer.op) {
      case 'conv':
      case 'dense': {
        const outP = ownParams();
        tensors.set(out, outP);
        let inputMean: InputMean | undefined;
        if (s.biasCorrection === 'analytic') {
          // QDQ export writes a layer's bias only where the float layer has one: a correction needs one to live in.
          const channels = layer.inputs[2] === undefined ? 'it has no bias to carry the correction' : expectedInput(graph, layer, idx);
          const w = graph.constants.get(layer.inputs[1]!);
          const known = typeof channels === 'string' ? channels : weightInputMeans(graph, layer, w!.shape, channels);
          if (typeof known === 'function') {
            inputMean = known;
            analytic.corrected.push(layer.name);
          } else analytic.skipped.push({ layer: layer.name, reason: known });
        }
        layers.push(matmulLayer(layer, source.matmul(graph, layer, s, inP, where, inputMean), inP, outP, where, base));
        break;
      }
      case 'activation': {
        const outP = ownParams();
        tensors.set(out, outP);
        const f = activationFn(layer.fn);
        const table = new Int32Array(inP.hi - inP.lo + 1);
        for (let q = inP.lo; q <= inP.hi; q++) {
          const y = f(inP.scale * (q - inP.zeroPoint));
          table[q - inP.lo] = Math.min(outP.hi, Math.max(outP.lo, roundHalfEven(y / outP.scale) + outP.zeroPoint));
        }
        layers.push({ kind: 'lut', ...base, table });
        break;
      }
      case 'add':
      case 'sub':
      case 'mul': {
        const outP = ownParams();
        tensors.set(out, outP);
        const [a, b] = [tensors.get(layer.inputs[0]!)!, tensors.get(layer.inputs[1]!)!];
        if (layer.op === 'mul') {
          layers.push({ kind: 'mul', ...base, leftShift: 0, inputRequant: [requantOf([1]), requantOf([1])], outputRequant: requantOf([(a.scale * b.scale) / outP.scale]) });
        } else {
          // TFLite's scheme: both inputs to a common fixed-point scale 2*max(Sa, Sb) / 2^leftShift, then one requantization.
          const leftShift = Math.max(a.bits, b.bits) <= 8 ? 20 : 14;
          const twiceMax = 2 * Math.max(a.scale, b.scale);
          layers.push({
            kind: layer.op,
            ...base,
            leftShift,
            inputRequant: [requantOf([a.scale / twiceMax]), requantOf([b.scale / twiceMax])],
            outputRequant: requantOf([twiceMax / (2 ** leftShift * outP.scale)]),
          });
        }
        break;
      }
      case 'concat': {
        const outP = ownParams();
        tensors.set(out, outP);
        layers.push({ kind: 'concat', ...base, axis: layer.axis, inputRequant: layer.inputs.map((i) => requantOf([tensors.get(i)!.scale / outP.scale])) });
        break;
      }
      default: {
        // Pools and data movement keep the input's parameters: max, average and copies never leave its range.
        tensors.set(out, inP);
        if (POOLS.has(layer.op)) layers.push({ kind: layer.op as 'maxPool', ...base, inputs: [layer.inputs[0]!], layer });
        else {
          const padValue = layer.op === 'pad' ? Math.min(inP.hi, Math.max(inP.lo, roundHalfEven(layer.value / inP.scale) + inP.zeroPoint)) : undefined;
          layers.push({ kind: 'move', ...base, inputs: [layer.inputs[0]!], layer, ...(padValue !== undefined ? { padValue } : {}) });
        }
      }
    }
  }
  const outputs = graph.outputs.map((o) => {
    if (intTensor(o.name) && !floats.has(o.name)) {
      needFloat(o.name);
      return { ...o, integer: o.name };
    }
    // A float tail (Softmax, say): the digest covers the integers that fed it.
    const p = producer.get(o.name);
    const fed = p?.inputs.find((i) => intTensor(i));
    return fed ? { ...o, integer: fed } : { ...o };
  });
  const corrections = analytic.corrected.length + analytic.skipped.length > 0 ? { analyticBiasCorrection: analytic } : {};
  return { name: graph.name, config, float: graph, inputs: graph.inputs, outputs, layers, tensors, settings, constants: graph.constants, ...corrections };
}

/** E[x] of the input element that weight element i of output channel o multiplies (analytic bias correction). */
export type InputMean = (o: number, i: number) => number;

/** Integer weights, per-channel scales and int32 bias of a layer, from its float constants and the config's weight thresholds. */
function matmulCodes(
  graph: Graph,
  layer: Extract<Layer, { op: 'conv' | 'dense' }>,
  s: LayerQuant,
  inP: QParams,
  weightThresholds: WeightThresholds,
  where: string,
  inputMean?: InputMean,
  learned?: LayerRefinement,
): MatmulCodes {
  const w = graph.constants.get(layer.inputs[1]!)!;
  const floatBias = withLearnedCorrection(layer.inputs[2] ? graph.constants.get(layer.inputs[2])!.data : undefined, learned?.biasCorrection, w.shape[0]!, where);
  for (const [name, data] of [[layer.inputs[1]!, w.data], [layer.inputs[2], floatBias]] as const) {
    const at = data === undefined ? -1 : data.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) throw new ModelFormatError(`${where}: its constant '${name}' holds ${data![at]} at element ${at}; weights and biases must be finite to quantize`);
  }
  const m = w.shape[0]!;
  const k = w.data.length / m;
  const qmax = weightRange(s.weightBits);
  const scales = weightScales(w.data, m, s, weightThresholds);
  const weights = new Int32Array(w.data.length);
  if (learned?.weights) {
    if (learned.weights.length !== weights.length) throw new QuantConfigError(`${where}: the refinement holds ${learned.weights.length} weight codes for its ${weights.length} weights`);
    for (let i = 0; i < weights.length; i++) {
      const code = learned.weights[i]!;
      if (Math.abs(code) > qmax) throw new QuantConfigError(`${where}: the refinement's weight code ${code} at ${i} is outside the ${s.weightBits}-bit range +-${qmax}`);
      weights[i] = code;
    }
  } else {
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < k; i++) weights[c * k + i] = Math.min(qmax, Math.max(-qmax, roundHalfEven(w.data[c * k + i]! / scales[c]!)));
    }
  }
  // Analytic bias correction: the expected error of the rounded weights leaves the bias.
  const bias: ArrayLike<number> | undefined = inputMean && floatBias ? correctedBias(floatBias, w.data, weights, scales, inputMean) : floatBias;
  const biasMax = 2 ** (s.biasBits - 1) - 1;
  const qBias = new Int32Array(m);
  for (let c = 0; c < m; c++) {
    const sb = scales[c]! * inP.scale;
    if (bias && s.biasFractionalBits !== undefined) {
      // The bias on its own Qm.n grid, saturated at its bits, then on the accumulator's (finer or equal) grid.
      const own = Math.min(biasMax, Math.max(-biasMax, roundHalfEven(bias[c]! * 2 ** s.biasFractionalBits)));
      qBias[c] = roundHalfEven((own * 2 ** -s.biasFractionalBits) / sb);
    } else if (bias) qBias[c] = Math.min(biasMax, Math.max(-biasMax, roundHalfEven(bias[c]! / sb)));
  }
  return { weights, weightShape: w.shape, weightBits: s.weightBits, weightMax: qmax, weightScales: scales, bias: qBias };
}

/** The integer layer: requantization multipliers S_w[c] * S_in / S_out, after checking that int32 accumulation cannot overflow. */
function matmulLayer(
  layer: Extract<Layer, { op: 'conv' | 'dense' }>,
  codes: MatmulCodes,
  inP: QParams,
  outP: QParams,
  where: string,
  base: { name: string; inputs: string[]; outputs: string[] },
): QLayer {
  const m = codes.weightScales.length;
  const k = codes.weights.length / m;
  const multipliers = new Float64Array(m);
  let biasPeak = 0;
  for (let c = 0; c < m; c++) {
    biasPeak = Math.max(biasPeak, Math.abs(codes.bias[c]!));
    multipliers[c] = (codes.weightScales[c]! * inP.scale) / outP.scale;
  }
  // int32 accumulation must not overflow (docs/quantization.md eq. 10): |w| * |q - Z| * K plus the bias.
  const actMax = Math.max(inP.hi - inP.zeroPoint, inP.zeroPoint - inP.lo);
  const bound = codes.weightMax * actMax * k + biasPeak;
  if (bound >= 2 ** 31) {
    throw new QuantConfigError(`${where}: ${codes.weightBits}-bit weights x ${inP.bits}-bit activations over K=${k} can overflow int32 accumulation (bound ${bound} >= 2^31); lower a bitwidth`);
  }
  return {
    kind: layer.op,
    ...base,
    layer,
    weightShape: codes.weightShape,
    weights: codes.weights,
    weightBits: codes.weightBits,
    weightScales: codes.weightScales,
    bias: codes.bias,
    requant: requantOf(multipliers),
  };
}

/**
 * The grid scale of each output channel of a weight tensor [M, ...] under a
 * setting: threshold / qmax from the configured calibrator, or a power of
 * two for pow2. What nearest rounding and AdaRound both round onto.
 */
export function weightScales(w: Float32Array, m: number, s: LayerQuant, weightThresholds: WeightThresholds): Float32Array {
  const qmax = weightRange(s.weightBits);
  const thresholds = weightThresholds(w, m, s);
  const scales = new Float32Array(m);
  for (let c = 0; c < m; c++) {
    let t = thresholds[c]!;
    if (s.scheme === 'pow2') t = qmax * 2 ** -(s.weightFractionalBits ?? Math.floor(Math.log2(qmax / Math.max(t, 1e-30))));
    scales[c] = t > 0 ? t / qmax : 1;
  }
  return scales;
}

/** The float bias with a learned correction added (a layer without a bias gets the correction as its bias). */
function withLearnedCorrection(bias: Float32Array | undefined, correction: Float32Array | undefined, m: number, where: string): Float32Array | undefined {
  if (correction === undefined) return bias;
  if (correction.length !== m) throw new QuantConfigError(`${where}: the refinement holds ${correction.length} bias corrections for its ${m} output channels`);
  return Float32Array.from(correction, (d, c) => (bias?.[c] ?? 0) + d);
}
