/**
 * A QONNX model read as a float model plus the quantization it carries, as
 * `stripQdq` reads a QDQ one (see qonnx-op.ts for the operator):
 *
 * - A Quant of a constant (weights, biases) becomes a float initializer
 *   holding the Quant's output, computed in float32 as the spec does; its
 *   integer codes, scales and zero points are kept by the output's name
 *   (`FileConstant`), per tensor or along the one axis its scale varies on.
 * - A Quant of a run-time tensor x becomes an Identity, and x keeps its
 *   scale, zero point and code range (`FileParams`): an integer tensor of our
 *   quantized graph, of 2 to 8 bits.
 *
 * Refused with an UnsupportedOperatorError naming the node: rounding modes
 * other than ROUND (half to even, ours), per-channel activation scales,
 * activations outside 2..8 bits, constants wider than 32 bits, scales, zero
 * points or bit widths computed at run time, non-integer zero points. A
 * bit width that is not a positive integer, or a scale that is not a
 * positive finite number, is a ModelFormatError (the spec requires both).
 */
import { onnx } from '../proto.js';
import { ModelFormatError, UnsupportedOperatorError } from '../../../errors.js';
import { roundHalfEven, saturate } from '../../../quant/rounding.js';
import { GraphConstants, floatInitializer } from './constants.js';
import { nodeName, recordParams, type CodeRange, type FileConstant, type FileParams, type FileQuantization } from './file-quantization.js';
import { intQuantRange, isQonnxQuant } from './qonnx-op.js';

interface QuantNode {
  name: string;
  /** domain.opType, as errors name it. */
  op: string;
  x: string;
  y: string;
  code: CodeRange;
  scale: { data: Float32Array; dims: number[] };
  zeroPoint: { data: Float32Array; dims: number[] };
}

/** The node's inputs and attributes, checked against what quantgpu can carry. */
function readQuant(c: GraphConstants, n: onnx.INodeProto, name: string): QuantNode {
  const op = `${n.domain}.${n.opType}`;
  const [x, s, z, b] = n.input ?? [];
  const y = n.output?.[0];
  if (!x || !s || !z || !b || !y) throw new ModelFormatError(`node '${name}' (${op}): needs the inputs X, scale, zeropt and bitwidth and one output`);
  const attr = (key: string): onnx.IAttributeProto | undefined => n.attribute?.find((a) => a.name === key);
  const mode = attr('rounding_mode')?.s;
  const rounding = mode ? new TextDecoder().decode(mode) : 'ROUND';
  if (rounding.toUpperCase() !== 'ROUND') throw new UnsupportedOperatorError(name, op, `with rounding_mode ${rounding} is not supported (ROUND, half to even, is)`);
  const constant = (t: string, what: string): { data: Float32Array; dims: number[] } => {
    if (!c.has(t)) throw new UnsupportedOperatorError(name, op, `needs a constant ${what}; '${t}' is computed at run time`);
    const v = c.values(t, `node '${name}': ${what}`);
    return { data: Float32Array.from(v.data), dims: v.dims };
  };
  const scale = constant(s, 'scale');
  const bad = scale.data.findIndex((v) => !(v > 0) || !Number.isFinite(v));
  if (bad >= 0) throw new ModelFormatError(`node '${name}' (${op}): scale ${scale.data[bad]} at element ${bad} is not a positive finite number`);
  const zeroPoint = constant(z, 'zero point');
  const fraction = zeroPoint.data.find((v) => !Number.isInteger(v));
  if (fraction !== undefined) throw new UnsupportedOperatorError(name, op, `with the non-integer zero point ${fraction} is not supported (integer codes need an integer zero point)`);
  const bitwidth = constant(b, 'bitwidth').data;
  if (bitwidth.length !== 1 || !Number.isInteger(bitwidth[0]) || bitwidth[0]! < 1) throw new ModelFormatError(`node '${name}' (${op}): bitwidth [${Array.from(bitwidth).join(', ')}] is not one positive integer`);
  const bits = bitwidth[0]!;
  const signed = Number(attr('signed')?.i ?? 1) !== 0;
  const narrow = Number(attr('narrow')?.i ?? 0) !== 0;
  return { name, op, x, y, code: { bits, signed, narrow }, scale, zeroPoint };
}

/**
 * The axis a per-channel parameter varies along (its rank is X's, every other
 * dimension 1), undefined for one value; anything else is refused.
 */
function channelAxis(q: QuantNode, p: { data: Float32Array; dims: number[] }, xDims: readonly number[], what: string): number | undefined {
  if (p.data.length === 1) return undefined;
  const varying = p.dims.flatMap((d, i) => (d === 1 ? [] : [i]));
  if (p.dims.length !== xDims.length || varying.length !== 1 || p.dims[varying[0]!] !== xDims[varying[0]!]) {
    throw new UnsupportedOperatorError(q.name, q.op, `with a ${what} of shape [${p.dims.join(', ')}] for X of shape [${xDims.join(', ')}] is not supported (one value, or one per slice along a single axis, of X's rank)`);
  }
  return varying[0]!;
}

/** The constant's codes and its float values, by the spec's float32 steps; `axis` indexes its scales and zero points. */
function quantizeConstant(q: QuantNode, x: Float32Array, dims: number[]): { constant: FileConstant; values: Float32Array } {
  const sAxis = channelAxis(q, q.scale, dims, 'scale');
  const zAxis = channelAxis(q, q.zeroPoint, dims, 'zero point');
  if (zAxis !== undefined && zAxis !== sAxis) throw new UnsupportedOperatorError(q.name, q.op, `with zero points along axis ${zAxis} and scales ${sAxis === undefined ? 'per tensor' : `along axis ${sAxis}`} is not supported`);
  const axis = sAxis;
  const along = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? x.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = Float32Array.from({ length: along }, (_, k) => q.scale.data[q.scale.data.length === 1 ? 0 : k]!);
  const zeroPoints = Int32Array.from({ length: along }, (_, k) => q.zeroPoint.data[q.zeroPoint.data.length === 1 ? 0 : k]!);
  const { lo, hi } = intQuantRange(q.code.bits, q.code.signed, q.code.narrow);
  const codes = new Int32Array(x.length);
  const values = new Float32Array(x.length);
  for (let e = 0; e < x.length; e++) {
    const k = axis === undefined ? 0 : Math.floor(e / inner) % along;
    const s = scales[k]!;
    const z = zeroPoints[k]!;
    const code = roundHalfEven(saturate(Math.fround(Math.fround(x[e]! / s) + z), lo, hi));
    codes[e] = code;
    values[e] = Math.fround((code - z) * s);
  }
  return { constant: { node: q.name, code: q.code, dims, codes, scales, zeroPoints, ...(axis === undefined ? {} : { axis }) }, values };
}

/**
 * Rewrite `model` (in place) into its float model; return the quantization
 * its Quant nodes held.
 */
export function stripQuant(model: onnx.IModelProto): FileQuantization {
  const g = model.graph!;
  const c = new GraphConstants(g);
  const params = new Map<string, FileParams>();
  const constants = new Map<string, FileConstant>();
  const newInits: onnx.ITensorProto[] = [];
  const kept: onnx.INodeProto[] = [];
  (g.node ?? []).forEach((n, i) => {
    if (!isQonnxQuant(n)) {
      kept.push(n);
      return;
    }
    const q = readQuant(c, n, nodeName(n, i));
    if (c.has(q.x)) {
      // Weights or a bias: rounded here, the codes kept. Their width is checked where a layer reads them.
      if (q.code.bits > 32) throw new UnsupportedOperatorError(q.name, q.op, `with ${q.code.bits}-bit codes of constant '${q.x}' is not supported (32 bits at most)`);
      // QONNX reads a signed 1-bit Quant as bipolar (+-1), which no range of ours holds.
      if (q.code.bits < 2) throw new UnsupportedOperatorError(q.name, q.op, `with ${q.code.bits}-bit (bipolar) codes of constant '${q.x}' is not supported (2 bits at least)`);
      const v = c.values(q.x, `node '${q.name}': X`);
      if (v.kind !== 'float') throw new ModelFormatError(`node '${q.name}' (${q.op}): X '${q.x}' is not a float tensor`);
      const { constant, values } = quantizeConstant(q, v.data, v.dims);
      newInits.push(floatInitializer(q.y, v.dims, values));
      constants.set(q.y, constant);
      return;
    }
    if (q.scale.data.length !== 1 || q.zeroPoint.data.length !== 1) throw new UnsupportedOperatorError(q.name, q.op, `of the run-time tensor '${q.x}' with ${q.scale.data.length} scales and ${q.zeroPoint.data.length} zero points (per-channel activations) is not supported; activations take one scale`);
    if (q.code.bits < 2 || q.code.bits > 8) throw new UnsupportedOperatorError(q.name, q.op, `with ${q.code.bits}-bit codes of the run-time tensor '${q.x}' is not supported (quantgpu's integer activations take 2 to 8 bits)`);
    recordParams(params, q.x, { scale: q.scale.data[0]!, zeroPoint: q.zeroPoint.data[0]!, code: q.code, node: q.name }, q.op);
    kept.push(onnx.NodeProto.create({ name: `${q.name}/identity`, opType: 'Identity', input: [q.x], output: [q.y] }));
  });
  g.node = kept;
  g.initializer = [...(g.initializer ?? []), ...newInits];
  return { params, constants };
}
