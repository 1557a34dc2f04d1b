/**
 * A model quantized elsewhere (ONNX QDQ, or QLinearConv / QLinearMatMul /
 * QLinearAdd operators, or ConvInteger / MatMulInteger with their rescale, or
 * QONNX's Quant of any bit width from 2 to 8) as our QuantizedGraph, with the
 * file's own scales, zero points, integer weights and bit widths: no
 * calibration, no config.
 *
 * The file becomes a float model plus its quantization (`lowerQOperators`,
 * `stripQdq`, `stripQuant`); the float model is imported and prepared as any other, and the
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
import { LAYER_DEFAULTS, type Bits, type LayerQuant, type QuantConfig } from '../../../quant/config.js';
import { isClampActivation, prepareForQuantization } from '../../../quant/prepare.js';
import type { QParams } from '../../../quant/qparams.js';
import { quantizeGraphFrom, type MatmulCodes, type QuantSource } from '../../../quant/quantize-graph.js';
import type { QuantizedGraph } from '../../../quant/quantized-graph.js';
import { roundHalfEven } from '../../../quant/rounding.js';
import { integerFormOf } from '../../../runtime/operators.js';
import { importOnnxModel, type OnnxImportOptions } from '../import-onnx.js';
import { LOWERED_OPS, lowerQOperators } from './lower-qoperators.js';
import { mergeQuantization, type FileConstant, type FileParams, type FileQuantization } from './file-quantization.js';
import { intQuantRange, isQonnxQuant } from './qonnx-op.js';
import { stripQdq } from './strip-qdq.js';
import { stripQuant } from './strip-quant.js';

/** Operators that mark an ONNX file as quantized. */
export const QUANTIZED_ONNX_OPS: readonly string[] = ['QuantizeLinear', 'DequantizeLinear', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear', ...LOWERED_OPS];

/** Whether a model is quantized: QDQ or integer operators, or QONNX's Quant (in one of its domains). */
export function isQuantizedOnnx(model: onnx.IModelProto): boolean {
  return (model.graph?.node ?? []).some((n) => QUANTIZED_ONNX_OPS.includes(n.opType ?? '') || isQonnxQuant(n));
}

/**
 * The setting an integer layer of an imported model reports where the file's
 * codes are 8 bits wide; narrower ones (QONNX) report their own bit widths.
 * The numbers come from the file, not from these fields.
 */
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
  const file = mergeQuantization(stripQdq(model), stripQuant(model));
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
  const { floatLayers, bits } = chooseIntegerLayers(graph, file, paramsOf, notes);
  const overrides: Record<string, Partial<LayerQuant> | 'float'> = { ...Object.fromEntries(bits), ...Object.fromEntries([...floatLayers].map((n) => [n, 'float' as const])) };
  const config: QuantConfig = {
    name: 'imported',
    default: IMPORTED_SETTING,
    ...(Object.keys(overrides).length > 0 ? { layers: overrides } : {}),
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

/**
 * Unsigned codes are affine, signed ones with Z = 0 symmetric; a narrow
 * range (QONNX) is the same scheme with lo or hi one code in. The lanes hold
 * 8 bits, so wider codes (QDQ's int32) leave the tensor in float.
 */
function toQParams(t: string, p: FileParams, notes: Notes): QParams | undefined {
  const { bits, signed, narrow } = p.code;
  if (bits > 8) {
    notes.add('wide', `tensors with codes wider than 8 bits (int32) have no form on our 8-bit lanes; the layers around them run in float`, t);
    return undefined;
  }
  const b = bits as Bits;
  const { lo, hi } = intQuantRange(bits, signed, narrow);
  if (!signed) return { scale: p.scale, zeroPoint: p.zeroPoint, bits: b, scheme: 'affine', lo, hi };
  if (p.zeroPoint === 0) return { scale: p.scale, zeroPoint: 0, bits: b, scheme: 'symmetric', lo, hi };
  // r = S (q - Z) = S ((q + 2^(b-1)) - (Z + 2^(b-1))): the same values as unsigned codes, exactly.
  const half = 2 ** (bits - 1);
  notes.add('int8-shift', 'signed activations with a zero point are carried as unsigned codes shifted by 2^(b-1) (128 for int8; exact; their integer outputs read that much higher)', t);
  return { scale: p.scale, zeroPoint: p.zeroPoint + half, bits: b, scheme: 'affine', lo: lo + half, hi: hi + half };
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
function chooseIntegerLayers(graph: Graph, file: FileQuantization, paramsOf: (t: string) => QParams | undefined, notes: Notes): { floatLayers: Set<string>; bits: Map<string, Partial<LayerQuant>> } {
  const integer = new Map<string, QParams>();
  for (const i of graph.inputs) {
    const p = paramsOf(i.name);
    if (p) integer.set(i.name, p);
  }
  const floatLayers = new Set<string>();
  // The bit widths of integer layers whose codes are not 8 bits wide (QONNX): their weights', their output's.
  const bits = new Map<string, Partial<LayerQuant>>();
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
    let weightBits = IMPORTED_SETTING.weightBits;
    if (reason === undefined && (layer.op === 'conv' || layer.op === 'dense')) {
      const codes = weightCodes(graph, layer, file);
      reason = codes.reason;
      if (codes.reason === undefined) weightBits = codes.weightBits;
    }
    if (reason === undefined) {
      const outP = form && passesThrough(layer) ? integer.get(data[0]!)! : own!;
      integer.set(out, outP);
      if (weightBits !== IMPORTED_SETTING.weightBits || outP.bits !== IMPORTED_SETTING.activationBits) bits.set(layer.name, { weightBits, activationBits: outP.bits });
      continue;
    }
    floatLayers.add(layer.name);
    if (own) integer.set(out, own);
    const touchesQuantized = data.some((i) => integer.has(i)) || own !== undefined;
    if (touchesQuantized) notes.add(`float:${layer.name}`, `layer '${layer.name}' (${layer.op}) runs in float between dequantize and quantize: ${reason}`);
  }
  return { floatLayers, bits };
}

interface WeightCodes {
  weights: Int32Array;
  weightShape: number[];
  scales: Float32Array;
  weightMax: number;
  /** The file's bit width, or the narrowest signed one above it that holds q - Z_w (unsigned or offset codes). */
  weightBits: Bits;
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
  if (rec.code.bits > 8) return { reason: `its weights are ${rec.code.bits}-bit codes, wider than our 8-bit lanes` };
  const w = graph.constants.get(layer.inputs[1]!)!;
  const m = w.shape[0]!;
  const k = w.data.length / m;
  const channelAxis = transposed ? 1 : 0;
  if (rec.axis !== undefined && rec.axis !== channelAxis) return { reason: `its weights are scaled per slice along axis ${rec.axis}, not per output channel` };
  const scales = Float32Array.from({ length: m }, (_, c) => rec.scales[rec.scales.length === 1 ? 0 : c]!);
  const weights = new Int32Array(w.data.length);
  let min = 0;
  let max = 0;
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < k; i++) {
      const v = roundHalfEven(w.data[c * k + i]! / scales[c]!);
      weights[c * k + i] = v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  const weightMax = Math.max(-min, max);
  // Our weight lanes are signed: -2^(b-1)..2^(b-1)-1 at b bits, a signed byte at most.
  let weightBits = Math.max(2, rec.code.bits);
  while (weightBits <= 8 && (min < -(2 ** (weightBits - 1)) || max > 2 ** (weightBits - 1) - 1)) weightBits++;
  if (weightBits > 8) return { reason: `its weight codes minus their zero points span [${min}, ${max}], beyond a signed byte` };
  return { weights, weightShape: w.shape, scales, weightMax, weightBits: weightBits as Bits };
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
      if (codes.weightBits !== rec!.code.bits) notes.add('wider-weights', `weights whose codes minus their zero points need more signed bits than the file's (unsigned or offset codes) are carried at that width (exact)`, layer.name);
      return { weights: codes.weights, weightShape: codes.weightShape, weightBits: codes.weightBits, weightMax: codes.weightMax, weightScales: codes.scales, bias: biasCodes(graph, layer, codes.scales, inP, file, notes) };
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
