/**
 * A QDQ model read as a float model plus the quantization it carries.
 *
 * - A DequantizeLinear of a constant (weights, int32 biases) becomes a float
 *   initializer holding float32((q - Z) * S), as ONNX defines it; the codes,
 *   scales and zero points are kept by the constant's name (`FileConstant`).
 * - A QuantizeLinear / DequantizeLinear pair on a run-time tensor x becomes
 *   an Identity, and x keeps the pair's scale and zero point (`FileParams`):
 *   the integer tensor of our quantized graph.
 * - A quantized graph input (uint8 or int8, read by DequantizeLinear) becomes
 *   a float input holding the dequantized values, which our quantize step
 *   turns back into the same codes; a quantized graph output (written by
 *   QuantizeLinear) becomes the float output of the dequantized codes, whose
 *   codes our runs return as that output's integers.
 * What is left is a float model the float importer reads as it reads any other.
 */
import { onnx } from '../proto.js';
import { ModelFormatError, UnsupportedOperatorError } from '../../../errors.js';
import { dataTypeName } from '../tensor-proto.js';
import { CODE_TYPES, GraphConstants, floatInitializer } from './constants.js';
import { nodeName, QDQ_CODES, recordParams, type FileConstant, type FileParams, type FileQuantization } from './file-quantization.js';

const DT = onnx.TensorProto.DataType;

/** Scale and zero point of a QuantizeLinear or DequantizeLinear (inputs 1 and 2), per tensor or per axis. */
function scaleAndZero(c: GraphConstants, n: onnx.INodeProto, name: string, xType?: number): { scales: Float32Array; zeroPoints: Int32Array; type: number } {
  const op = n.opType!;
  const [, s, z] = n.input ?? [];
  if (!c.has(s)) throw new UnsupportedOperatorError(name, op, `needs a constant scale; '${s}' is computed at run time (dynamic quantization is not supported)`);
  const sv = c.values(s!, `node '${name}': scale`);
  const scales = Float32Array.from(sv.data);
  const bad = scales.findIndex((v) => !(v > 0) || !Number.isFinite(v));
  if (bad >= 0) throw new ModelFormatError(`node '${name}' (${op}): scale ${scales[bad]} at element ${bad} is not a positive finite number`);
  if (z !== undefined && z !== '' && !c.has(z)) throw new UnsupportedOperatorError(name, op, `needs a constant zero point; '${z}' is computed at run time`);
  const type = z ? c.dataType(z) : (xType ?? DT.UINT8);
  const zeroPoints = z ? Int32Array.from(c.values(z, `node '${name}': zero point`).data as number[]) : new Int32Array(scales.length);
  if (zeroPoints.length !== scales.length) throw new ModelFormatError(`node '${name}' (${op}): ${scales.length} scales but ${zeroPoints.length} zero points`);
  return { scales, zeroPoints, type };
}

function axisOf(n: onnx.INodeProto, rank: number, count: number, name: string): number | undefined {
  if (count === 1 && rank >= 0) return undefined;
  const a = n.attribute?.find((x) => x.name === 'axis');
  const axis = a ? Number(a.i) : 1;
  const norm = axis < 0 ? axis + rank : axis;
  if (norm < 0 || norm >= rank) throw new ModelFormatError(`node '${name}' (${n.opType}): axis ${axis} is outside a tensor of rank ${rank}`);
  return norm;
}

/**
 * Rewrite `model` (in place) into its float model; return the quantization
 * it held. Refuses, naming the node, what has no integer meaning here: a
 * QuantizeLinear whose codes feed anything but DequantizeLinear, scales
 * computed at run time, codes of types other than uint8, int8 and int32.
 */
export function stripQdq(model: onnx.IModelProto): FileQuantization {
  const g = model.graph!;
  const c = new GraphConstants(g);
  const nodes = g.node ?? [];
  const readers = new Map<string, onnx.INodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const inputs = new Map((g.input ?? []).map((v) => [v.name ?? '', v]));
  const params = new Map<string, FileParams>();
  const constants = new Map<string, FileConstant>();
  const drop = new Set<onnx.INodeProto>();
  const added: onnx.INodeProto[] = [];
  const newInits: onnx.ITensorProto[] = [];
  const identity = (from: string, to: string, name: string): void => {
    added.push(onnx.NodeProto.create({ name, opType: 'Identity', input: [from], output: [to] }));
  };
  const setParams = (t: string, p: FileParams): void => recordParams(params, t, p, 'QuantizeLinear');
  const codeType = (t: number, name: string, op: string): 'uint8' | 'int8' | 'int32' => {
    const k = CODE_TYPES.get(t);
    if (!k) throw new UnsupportedOperatorError(name, op, `with ${dataTypeName(t)} codes is not supported (uint8, int8 and int32 are)`);
    return k;
  };

  // First constants and QuantizeLinear nodes (with the DequantizeLinear nodes that read them), then what DequantizeLinear is left.
  const pass = (n: onnx.INodeProto, i: number, last: boolean): void => {
    const name = nodeName(n, i);
    if (drop.has(n)) return;
    if (!last && n.opType === 'DequantizeLinear' && c.has(n.input?.[0])) {
      // Weights or a bias: dequantized here, the codes kept.
      const x = c.values(n.input![0]!, `node '${name}': input`);
      const xType = c.dataType(n.input![0]!);
      const { scales, zeroPoints } = scaleAndZero(c, n, name, xType);
      const axis = axisOf(n, x.dims.length, scales.length, name);
      const k = codeType(xType, name, 'DequantizeLinear');
      const codes = Int32Array.from(x.data as number[]);
      const inner = axis === undefined ? codes.length : x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const along = axis === undefined ? 1 : x.dims[axis]!;
      if (axis !== undefined && along !== scales.length) throw new ModelFormatError(`node '${name}' (DequantizeLinear): ${scales.length} scales for axis ${axis} of length ${along}`);
      const data = new Float32Array(codes.length);
      for (let e = 0; e < codes.length; e++) {
        const ch = axis === undefined ? 0 : Math.floor(e / inner) % along;
        data[e] = Math.fround((codes[e]! - zeroPoints[ch]!) * scales[ch]!);
      }
      const out = n.output![0]!;
      newInits.push(floatInitializer(out, x.dims, data));
      constants.set(out, { node: name, code: QDQ_CODES[k], dims: x.dims, codes, scales, zeroPoints, ...(axis === undefined ? {} : { axis }) });
      drop.add(n);
      return;
    }
    if (!last && n.opType === 'QuantizeLinear') {
      const x = n.input![0]!;
      if (c.has(x)) throw new UnsupportedOperatorError(name, 'QuantizeLinear', `quantizes the constant '${x}' at run time; store it as integer codes behind a DequantizeLinear`);
      const { scales, zeroPoints, type } = scaleAndZero(c, n, name);
      if (scales.length !== 1) throw new UnsupportedOperatorError(name, 'QuantizeLinear', `with ${scales.length} scales (per-axis activations) is not supported; activations take one scale`);
      const p: FileParams = { scale: scales[0]!, zeroPoint: zeroPoints[0]!, code: QDQ_CODES[codeType(type, name, 'QuantizeLinear')], node: name };
      setParams(x, p);
      const y = n.output![0]!;
      // PyTorch writes Cast(to the codes' own type) between QuantizeLinear and DequantizeLinear: no change to the codes.
      const direct = readers.get(y) ?? [];
      const casts = direct.filter((r) => r.opType === 'Cast' && Number(r.attribute?.find((a) => a.name === 'to')?.i) === type);
      casts.forEach((r) => drop.add(r));
      const through = [...direct.filter((r) => !casts.includes(r)), ...casts.flatMap((r) => readers.get(r.output![0]!) ?? [])];
      for (const r of through) {
        const rName = nodeName(r, nodes.indexOf(r));
        if (r.opType !== 'DequantizeLinear') throw new UnsupportedOperatorError(rName, r.opType ?? '', `reads the integer codes '${y}' of QuantizeLinear '${name}'; only DequantizeLinear may read them (lower integer operators first)`);
        const d = scaleAndZero(c, r, rName, type);
        if (d.scales.length !== 1 || d.scales[0] !== p.scale || d.zeroPoints[0] !== p.zeroPoint) {
          throw new UnsupportedOperatorError(rName, 'DequantizeLinear', `dequantizes '${y}' with scale ${d.scales[0]} and zero point ${d.zeroPoints[0]}, not those of its QuantizeLinear '${name}' (${p.scale}, ${p.zeroPoint})`);
        }
        identity(x, r.output![0]!, `${rName}/identity`);
        drop.add(r);
      }
      // A quantized graph output: given as the float of its codes, under its own name.
      if (outputs.has(y)) {
        identity(x, y, `${name}/identity`);
        const o = (g.output ?? []).find((v) => v.name === y)!;
        if (o.type?.tensorType) o.type.tensorType.elemType = DT.FLOAT;
      }
      drop.add(n);
      return;
    }
    if (last && n.opType === 'DequantizeLinear') {
      const x = n.input![0]!;
      const input = inputs.get(x);
      if (!input) throw new UnsupportedOperatorError(name, 'DequantizeLinear', `reads '${x}', which is neither a constant, a QuantizeLinear's codes nor a graph input`);
      const { scales, zeroPoints, type } = scaleAndZero(c, n, name, input.type?.tensorType?.elemType ?? DT.UINT8);
      if (scales.length !== 1) throw new UnsupportedOperatorError(name, 'DequantizeLinear', `of graph input '${x}' with ${scales.length} scales is not supported`);
      // The input is fed as floats (its dequantized values); the quantize step at our entry gives back its codes.
      setParams(x, { scale: scales[0]!, zeroPoint: zeroPoints[0]!, code: QDQ_CODES[codeType(type, name, 'DequantizeLinear')], node: name });
      if (input.type?.tensorType) input.type.tensorType.elemType = DT.FLOAT;
      identity(x, n.output![0]!, `${name}/identity`);
      drop.add(n);
    }
  };
  nodes.forEach((n, i) => pass(n, i, false));
  nodes.forEach((n, i) => pass(n, i, true));
  g.node = [...nodes.filter((n) => !drop.has(n)), ...added];
  g.initializer = [...(g.initializer ?? []), ...newInits];
  return { params, constants };
}
