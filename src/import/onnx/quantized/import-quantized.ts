/**
 * A model quantized elsewhere (ONNX QDQ, or QLinearConv / QLinearMatMul /
 * QLinearAdd operators, or ConvInteger / MatMulInteger with their rescale) as
 * our QuantizedGraph, with the file's own scales, zero points
 * and integer weights: no calibration, no config.
 *
 * The file becomes a float model plus its quantization (`lowerQOperators`,
 * `stripQdq`); the float model is imported and prepared as any other, and the
 * quantizer builds the integer layers from the file (`fileSource`) instead of
 * from calibration. Where the file's arithmetic differs from ours, the result
 * says so in `notes` (printed by `info` and with every command), never
 * silently:
 * - requantization: ONNX rounds the float product acc * S_in * S_w / S_out
 *   once; we use the fixed-point multiplier with TFLite's double rounding
 *   (docs/quantization.md), so an output may differ by one step;
 * - layers our integer kernels cannot represent exactly run as float islands
 *   (dequantize, the float layer, quantize with the file's output parameters),
 *   each named with the reason;
 * - exact rewrites are named too: per-tensor weight scales repeated per
 *   channel, weight zero points folded into the codes (uint8 weights with
 *   zero point 128 become signed int8), int8 activations with a zero point
 *   carried as uint8 codes shifted by 128.
 */
import { onnx } from '../proto.js';
import { ModelFormatError } from '../../../errors.js';
import type { Graph } from '../../../ir/graph.js';
import { isFusable, type Layer } from '../../../ir/layers.js';
import { fuseActivations } from '../../../ir/passes/fuse-activations.js';
import { SIMPLIFY_PASSES, simplify } from '../../../ir/simplify.js';
import { LAYER_DEFAULTS, type LayerQuant, type QuantConfig } from '../../../quant/config.js';
import { isClampActivation, prepareForQuantization } from '../../../quant/prepare.js';
import type { QParams } from '../../../quant/qparams.js';
import { quantizeGraphFrom, type MatmulCodes, type QuantSource } from '../../../quant/quantize-graph.js';
import type { QuantizedGraph } from '../../../quant/quantized-graph.js';
import { roundHalfEven } from '../../../quant/rounding.js';
import { integerFormOf } from '../../../runtime/operators.js';
import { importOnnxModel, type OnnxImportOptions } from '../import-onnx.js';
import { LOWERED_OPS, lowerQOperators } from './lower-qoperators.js';
import { stripQdq, type FileConstant, type FileParams, type FileQuantization } from './strip-qdq.js';

/** Operators that mark an ONNX file as quantized. */
export const QUANTIZED_ONNX_OPS: readonly string[] = ['QuantizeLinear', 'DequantizeLinear', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear', ...LOWERED_OPS];

export function isQuantizedOnnx(model: onnx.IModelProto): boolean {
  return (model.graph?.node ?? []).some((n) => QUANTIZED_ONNX_OPS.includes(n.opType ?? ''));
}

/** The setting every integer layer of an imported model reports (its numbers come from the file, not from these fields). */
export const IMPORTED_SETTING: LayerQuant = { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8 };

export interface ImportedQuantized {
  /** The prepared float graph: the file's float operators with its weights dequantized. */
  graph: Graph;
  quantized: QuantizedGraph;
  /** Where the file's arithmetic and ours differ, and what runs in float: one line each. */
  notes: string[];
}

/** Integer layers with output parameters of their own; the others (pools, data movement) keep their input's. */
const REQUANTIZING = new Set<Layer['op']>(['conv', 'dense', 'activation', 'add', 'sub', 'mul', 'concat']);

const AVERAGES = new Set<Layer['op']>(['avgPool', 'globalAvgPool']);

function passesThrough(layer: Layer): boolean {
  return !REQUANTIZING.has(layer.op);
}

/** Import a quantized ONNX model (decoded; it is rewritten in place). */
export function importQuantizedOnnx(model: onnx.IModelProto, options: OnnxImportOptions = {}): ImportedQuantized {
  lowerQOperators(model);
  const file = stripQdq(model);
  const imported = importOnnxModel(model, options);
  const notes = new Notes();
  const paramsOf = fileParamsReader(file, notes);
  // An activation stays a layer of its own where the file quantizes its input: a lookup table between the file's two tensors, or a clamp between two different grids.
  const keep = (t: string, act: Layer): boolean => {
    const p = paramsOf(t);
    if (p === undefined || act.op !== 'activation') return false;
    const o = paramsOf(act.outputs[0]!);
    return !isClampActivation(act.fn) || o === undefined || !sameParams(p, o);
  };
  const passes = SIMPLIFY_PASSES.map(([name, pass]) => [name, name === 'fuse-activations' ? (g: Graph) => fuseActivations(g, keep) : pass] as const);
  const graph = prepareForQuantization(restoreRemovedRelus(options.simplify === false ? imported : simplify(imported, passes), paramsOf, notes));
  const floatLayers = chooseIntegerLayers(graph, file, paramsOf, notes);
  const config: QuantConfig = {
    name: 'imported',
    default: IMPORTED_SETTING,
    ...(floatLayers.size > 0 ? { layers: Object.fromEntries([...floatLayers].map((n) => [n, 'float' as const])) } : {}),
  };
  const quantized = quantizeGraphFrom(graph, config, fileSource(file, paramsOf, notes));
  if (quantized.layers.some((l) => l.kind === 'conv' || l.kind === 'dense' || l.kind === 'add' || l.kind === 'sub' || l.kind === 'mul' || l.kind === 'concat')) {
    notes.add('requantization', 'requantization: the file rounds the float product acc * S_in * S_w / S_out once (ONNX); quantgpu multiplies by a 31-bit fixed-point multiplier with TFLite\'s double rounding, so an output may differ by one step');
  }
  return { graph, quantized, notes: notes.lines() };
}

/**
 * ONNX Runtime's quantizer removes a ReLU after a Conv, Gemm or Add into the
 * zero point of that output (Z = 0 of uint8: the quantize step saturates
 * negatives to the real 0). The quantized model is unchanged by putting the
 * ReLU back (its codes are never below Z), and the float model of the file
 * then computes the network it was quantized from.
 */
function restoreRemovedRelus(graph: Graph, paramsOf: (t: string) => QParams | undefined, notes: Notes): Graph {
  const layers = graph.layers.map((l) => {
    if (!isFusable(l) || l.activation !== undefined || !REQUANTIZING.has(l.op)) return l;
    const p = paramsOf(l.outputs[0]!);
    if (p === undefined || p.zeroPoint !== p.lo) return l;
    notes.add('relu', 'outputs whose zero point is the bottom of their range (a ReLU removed into it by the quantizer) get the ReLU back in the float model; the integer results are the same', l.name);
    return { ...l, activation: { kind: 'relu' as const } };
  });
  return { ...graph, layers };
}

/** Notes gathered by kind, each kind one line naming its layers or tensors. */
class Notes {
  private readonly byKind = new Map<string, { text: string; names: string[] }>();
  add(kind: string, text: string, name?: string): void {
    const e = this.byKind.get(kind) ?? { text, names: [] };
    if (name !== undefined && !e.names.includes(name)) e.names.push(name);
    this.byKind.set(kind, e);
  }
  lines(): string[] {
    return [...this.byKind.values()].map(({ text, names }) => (names.length === 0 ? text : `${text}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ` (and ${names.length - 8} more)` : ''}`));
  }
}

/** The file's parameters of a run-time tensor as our QParams, or undefined where it has none we can hold. */
function fileParamsReader(file: FileQuantization, notes: Notes): (t: string) => QParams | undefined {
  return (t) => {
    const p = file.params.get(t);
    if (!p) return undefined;
    return toQParams(t, p, notes);
  };
}

function toQParams(t: string, p: FileParams, notes: Notes): QParams | undefined {
  if (p.type === 'uint8') return { scale: p.scale, zeroPoint: p.zeroPoint, bits: 8, scheme: 'affine', lo: 0, hi: 255 };
  if (p.type === 'int8' && p.zeroPoint === 0) return { scale: p.scale, zeroPoint: 0, bits: 8, scheme: 'symmetric', lo: -128, hi: 127 };
  if (p.type === 'int8') {
    // r = S (q - Z) = S ((q + 128) - (Z + 128)): the same values as unsigned codes, exactly.
    notes.add('int8-shift', 'int8 activations with a zero point are carried as uint8 codes shifted by 128 (exact; their integer outputs read 128 higher)', t);
    return { scale: p.scale, zeroPoint: p.zeroPoint + 128, bits: 8, scheme: 'affine', lo: 0, hi: 255 };
  }
  notes.add('wide', 'tensors with int32 codes have no 8-bit form; the layers around them run in float', t);
  return undefined;
}

function sameParams(a: QParams, b: QParams): boolean {
  return a.scale === b.scale && a.zeroPoint === b.zeroPoint && a.scheme === b.scheme;
}

/**
 * Which layers run as integers: those with an integer form whose data inputs
 * and output are quantized in the file (pools and data movement: whose output
 * has no parameters of its own, or the input's), and whose weights are
 * integer codes our 8-bit lanes hold. The others run in float, each named
 * in the notes with its reason where a neighbour is quantized.
 */
function chooseIntegerLayers(graph: Graph, file: FileQuantization, paramsOf: (t: string) => QParams | undefined, notes: Notes): Set<string> {
  const integer = new Map<string, QParams>();
  for (const i of graph.inputs) {
    const p = paramsOf(i.name);
    if (p) integer.set(i.name, p);
  }
  const floatLayers = new Set<string>();
  for (const layer of graph.layers) {
    const form = integerFormOf(layer, graph);
    const out = layer.outputs[0]!;
    const own = paramsOf(out);
    const data = layer.op === 'conv' || layer.op === 'dense' ? [layer.inputs[0]!] : layer.inputs.filter((i) => !graph.constants.has(i));
    const missing = data.find((i) => !integer.has(i));
    let reason: string | undefined;
    if (!form) reason = 'no integer kernel for it';
    else if (missing !== undefined) reason = `its input '${missing}' is not quantized in the file`;
    else if (passesThrough(layer)) {
      const inP = integer.get(data[0]!)!;
      if (own && !sameParams(own, inP)) reason = `the file requantizes its output (scale ${own.scale}, zero point ${own.zeroPoint}; input ${inP.scale}, ${inP.zeroPoint}), which our ${layer.op} kernel does not`;
      // An average leaves the input's grid: where the file keeps it in float, rounding it to that grid would be ours, not the file's.
      else if (!own && AVERAGES.has(layer.op)) reason = 'the file keeps its output in float, and an average is not on its input\'s grid';
    } else if (!own) reason = `its output '${out}' is not quantized in the file`;
    else if (layer.op === 'conv' || layer.op === 'dense') reason = weightCodes(graph, layer, file).reason;
    if (reason === undefined) {
      integer.set(out, form && passesThrough(layer) ? integer.get(data[0]!)! : own!);
      continue;
    }
    floatLayers.add(layer.name);
    if (own) integer.set(out, own);
    const touchesQuantized = data.some((i) => integer.has(i)) || own !== undefined;
    if (touchesQuantized) notes.add(`float:${layer.name}`, `layer '${layer.name}' (${layer.op}) runs in float between dequantize and quantize: ${reason}`);
  }
  return floatLayers;
}

interface WeightCodes {
  weights: Int32Array;
  weightShape: number[];
  scales: Float32Array;
  weightMax: number;
  reason?: undefined;
}

/** The file's weight record of a layer, and whether our import transposed it ([K, N] MatMul weights become [N, K]). */
function weightRecord(layer: Extract<Layer, { op: 'conv' | 'dense' }>, file: FileQuantization): { rec?: FileConstant; transposed: boolean } {
  const name = layer.inputs[1]!;
  const direct = file.constants.get(name);
  if (direct) return { rec: direct, transposed: false };
  const base = name.replace(/__transposed$/, '');
  return base !== name ? { rec: file.constants.get(base), transposed: true } : { transposed: false };
}

/**
 * The layer's weights as signed codes v = q - Z_w per output channel, read
 * back from the dequantized float weights (exact: |v| <= 255 and
 * float32(v * S) / S rounds back to v), or why they cannot be ours.
 */
function weightCodes(graph: Graph, layer: Extract<Layer, { op: 'conv' | 'dense' }>, file: FileQuantization): WeightCodes | { reason: string } {
  const { rec, transposed } = weightRecord(layer, file);
  if (!rec) return { reason: `its weights '${layer.inputs[1]}' are float in the file` };
  if (rec.type === 'int32') return { reason: `its weights are int32 codes, wider than our 8-bit lanes` };
  const w = graph.constants.get(layer.inputs[1]!)!;
  const m = w.shape[0]!;
  const k = w.data.length / m;
  const channelAxis = transposed ? 1 : 0;
  if (rec.axis !== undefined && rec.axis !== channelAxis) return { reason: `its weights are scaled per slice along axis ${rec.axis}, not per output channel` };
  const scales = Float32Array.from({ length: m }, (_, c) => rec.scales[rec.scales.length === 1 ? 0 : c]!);
  const weights = new Int32Array(w.data.length);
  let weightMax = 0;
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < k; i++) {
      const v = roundHalfEven(w.data[c * k + i]! / scales[c]!);
      weights[c * k + i] = v;
      weightMax = Math.max(weightMax, Math.abs(v));
    }
  }
  // Our weight lanes are signed bytes: -128..127.
  if (weightMax > 128 || weights.some((v) => v > 127)) return { reason: `its weight codes minus their zero points span [${Math.min(...weights)}, ${Math.max(...weights)}], beyond a signed byte` };
  return { weights, weightShape: w.shape, scales, weightMax };
}

/** Parameters and integer weights as the file gives them (see the module comment for what is rewritten). */
function fileSource(file: FileQuantization, paramsOf: (t: string) => QParams | undefined, notes: Notes): QuantSource {
  return {
    activation(t, _s, _role, where) {
      const p = paramsOf(t);
      // chooseIntegerLayers only leaves layers whose tensors the file quantizes.
      if (!p) throw new ModelFormatError(`${where}: the file gives it no quantization parameters`);
      return p;
    },
    matmul(graph, layer, _s, inP, where): MatmulCodes {
      const codes = weightCodes(graph, layer, file);
      if (codes.reason !== undefined) throw new ModelFormatError(`${where}: ${codes.reason}`);
      const { rec } = weightRecord(layer, file);
      if (rec!.scales.length === 1 && codes.scales.length > 1) notes.add('per-tensor', 'per-tensor weight scales, repeated per output channel (exact)', layer.name);
      if (rec!.zeroPoints.some((z) => z !== 0)) notes.add('weight-zero', `weight zero points folded into the codes, q - Z_w as signed bytes (exact)`, layer.name);
      return { weights: codes.weights, weightShape: codes.weightShape, weightBits: 8, weightMax: codes.weightMax, weightScales: codes.scales, bias: biasCodes(graph, layer, codes.scales, inP, file, notes) };
    },
  };
}

/**
 * The int32 bias in units of S_in * S_w[c]: the file's codes as they are
 * where its bias scale is float32(S_in * S_w[c]) (as ONNX Runtime's quantizer
 * writes it, and QLinearConv defines it); otherwise rescaled (a float bias
 * quantized, or codes on another scale), and said so.
 */
function biasCodes(graph: Graph, layer: Extract<Layer, { op: 'conv' | 'dense' }>, scales: Float32Array, inP: QParams, file: FileQuantization, notes: Notes): Int32Array {
  const m = scales.length;
  const bias = new Int32Array(m);
  const name = layer.inputs[2];
  if (name === undefined) return bias;
  const rec = file.constants.get(name);
  const real = graph.constants.get(name)!.data;
  const limit = 2 ** 31 - 1;
  for (let c = 0; c < m; c++) {
    const unit = inP.scale * scales[c]!;
    if (rec) {
      const ch = rec.scales.length === 1 ? 0 : c;
      const code = rec.codes[c]! - rec.zeroPoints[ch]!;
      if (rec.scales[ch] === Math.fround(unit)) {
        bias[c] = code;
        continue;
      }
      notes.add('bias-rescaled', 'biases whose scale is not S_in * S_w rescaled to it (rounded half to even)', layer.name);
      bias[c] = Math.max(-limit, Math.min(limit, roundHalfEven((code * rec.scales[ch]!) / unit)));
    } else {
      notes.add('bias-float', 'float biases quantized to int32 in units of S_in * S_w (rounded half to even)', layer.name);
      bias[c] = Math.max(-limit, Math.min(limit, roundHalfEven(real[c]! / unit)));
    }
  }
  return bias;
}
