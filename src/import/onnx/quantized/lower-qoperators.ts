/**
 * Operator-form quantized ONNX (QLinearConv, QLinearMatMul, com.microsoft's
 * QLinearAdd) rewritten as the QDQ form that means the same: each operator
 * becomes DequantizeLinear of its inputs, the float operator, and
 * QuantizeLinear of its output with the operator's output scale and zero
 * point. QLinearConv's int32 bias is in units of S_x * S_w (ONNX's
 * definition), so its DequantizeLinear gets the scale float32(S_x * S_w[c]).
 * Consecutive operators then meet as QuantizeLinear/DequantizeLinear pairs,
 * which `stripQdq` reads. ConvInteger and MatMulInteger become the same form
 * where a constant rescale follows them (`integerRescales`), and are refused,
 * named, where none does (dynamic quantization).
 */
import { onnx } from '../proto.js';
import { UnsupportedOperatorError } from '../../../errors.js';
import { GraphConstants, floatInitializer } from './constants.js';

/** The quantized operators this module turns into QDQ, and those it refuses. */
export const LOWERED_OPS: readonly string[] = ['QLinearConv', 'QLinearMatMul', 'QLinearAdd'];
const REFUSED: Readonly<Record<string, string>> = {
  DynamicQuantizeLinear: 'is not supported: it chooses scales at run time; quantize the model statically',
};
const INTEGER_OPS: Readonly<Record<string, string>> = { ConvInteger: 'Conv', MatMulInteger: 'MatMul' };

export function lowerQOperators(model: onnx.IModelProto): void {
  const g = model.graph!;
  const c = new GraphConstants(g);
  const out: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const rescales = integerRescales(g, c, inits);
  (g.node ?? []).forEach((n, i) => {
    const op = n.opType ?? '';
    const name = n.name || `${op}_${n.output?.[0] ?? i}`;
    if (REFUSED[op]) throw new UnsupportedOperatorError(name, op, REFUSED[op]);
    if (rescales.dropped.has(n)) return;
    const lowered = rescales.nodes.get(n);
    if (lowered) {
      out.push(...lowered);
      return;
    }
    if (!LOWERED_OPS.includes(op)) {
      out.push(n);
      return;
    }
    const inp = n.input ?? [];
    const y = n.output![0]!;
    const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = [], suffix = opType): string => {
      out.push(onnx.NodeProto.create({ name: `${name}/${suffix}`, opType, input, output: [output], attribute }));
      return output;
    };
    const axis = (v: number): onnx.IAttributeProto[] => [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: v })];
    const dq = (k: number, what: string, attrs: onnx.IAttributeProto[] = []): string => node('DequantizeLinear', [inp[k]!, inp[k + 1]!, inp[k + 2] ?? ''].filter((s, j) => j < 2 || s !== ''), `${y}/${what}`, attrs, `dequantize_${what}`);
    let floatOut: string;
    if (op === 'QLinearConv') {
      const x = dq(0, 'x');
      const w = dq(3, 'w', axis(0));
      const ins = [x, w];
      const b = inp[8];
      if (b) {
        for (const k of [1, 4]) if (!c.has(inp[k])) throw new UnsupportedOperatorError(name, op, `needs constant scales to dequantize its bias; '${inp[k]}' is computed at run time`);
        const xs = c.values(inp[1]!, `node '${name}': x_scale`).data as Float32Array;
        const ws = c.values(inp[4]!, `node '${name}': w_scale`).data as Float32Array;
        const scale = Float32Array.from(ws, (s) => Math.fround(xs[0]! * s));
        const scaleName = `${y}/bias_scale`;
        inits.push(floatInitializer(scaleName, ws.length === 1 ? [] : [ws.length], scale));
        ins.push(node('DequantizeLinear', [b, scaleName], `${y}/b`, axis(0), 'dequantize_b'));
      }
      floatOut = node('Conv', ins, `${y}/float`, (n.attribute ?? []).filter((a) => a.name !== 'axis'), 'conv');
    } else if (op === 'QLinearMatMul') {
      const a = dq(0, 'a');
      // b_scale per column of a 2-D b: the last axis.
      const b = dq(3, 'b', axis(-1));
      floatOut = node('MatMul', [a, b], `${y}/float`, [], 'matmul');
    } else {
      floatOut = node('Add', [dq(0, 'a'), dq(3, 'b')], `${y}/float`, [], 'add');
    }
    const [ys, yz] = op === 'QLinearAdd' ? [inp[6]!, inp[7]] : [inp[6]!, inp[7]];
    node('QuantizeLinear', yz ? [floatOut, ys, yz] : [floatOut, ys], y, [], 'quantize');
  });
  g.node = out;
  g.initializer = [...(g.initializer ?? []), ...inits];
}

/**
 * ConvInteger and MatMulInteger followed by their rescale, Cast to float and
 * Mul by a constant S (per tensor, or per output channel), as statically
 * quantized files write them: the accumulator times S is the float operator
 * on DequantizeLinear(x, S_x, Z_x) and DequantizeLinear(w, S / S_x, Z_w), where
 * S_x is the scale of the QuantizeLinear that made x (1 for a quantized graph
 * input, which then carries the codes minus Z_x). The Cast and the Mul go; the
 * float operator writes the Mul's output. Without that rescale (dynamic
 * quantization: DynamicQuantizeLinear, or scales computed at run time) the
 * node is refused, named.
 */
function integerRescales(g: onnx.IGraphProto, c: GraphConstants, inits: onnx.ITensorProto[]): { nodes: Map<onnx.INodeProto, onnx.INodeProto[]>; dropped: Set<onnx.INodeProto> } {
  const nodes = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  const dropped = new Set<onnx.INodeProto>();
  const all = g.node ?? [];
  const readers = (t: string): onnx.INodeProto[] => all.filter((n) => (n.input ?? []).includes(t));
  const producer = (t: string): onnx.INodeProto | undefined => all.find((n) => (n.output ?? []).includes(t));
  const graphInput = (t: string): boolean => (g.input ?? []).some((v) => v.name === t);
  all.forEach((n, i) => {
    const op = n.opType ?? '';
    const floatOp = INTEGER_OPS[op];
    if (!floatOp) return;
    const name = n.name || `${op}_${n.output?.[0] ?? i}`;
    const refuse = (why: string): never => {
      throw new UnsupportedOperatorError(name, op, `is not supported ${why}; quantgpu reads ${op} followed by Cast to float and Mul by a constant scale, with its input made by a QuantizeLinear of constant scale (static quantization)`);
    };
    const [xq, wq, xz, wz] = n.input ?? [];
    const cast = readers(n.output![0]!);
    if (cast.length !== 1 || cast[0]!.opType !== 'Cast' || Number(cast[0]!.attribute?.find((a) => a.name === 'to')?.i) !== onnx.TensorProto.DataType.FLOAT) refuse('here: its int32 output is not rescaled by a Cast to float');
    const mul = readers(cast[0]!.output![0]!);
    const scaleName = mul.length === 1 && mul[0]!.opType === 'Mul' ? mul[0]!.input!.find((t) => t !== cast[0]!.output![0]) : undefined;
    if (scaleName === undefined || !c.has(scaleName)) refuse('here: its accumulator is not multiplied by a constant scale after the Cast');
    if (!c.has(wq)) refuse(`with weights '${wq}' computed at run time`);
    const q = producer(xq!);
    let xScale: string;
    if (q?.opType === 'QuantizeLinear' && c.has(q.input?.[1])) xScale = q.input![1]!;
    else if (graphInput(xq!)) {
      xScale = `${name}/x_scale`;
      inits.push(floatInitializer(xScale, [], Float32Array.of(1)));
    } else return refuse(`with its input '${xq}' quantized at run time (dynamic quantization)`);
    const sx = (c.values(xScale, `node '${name}': input scale`).data as Float32Array)[0] ?? 1;
    const s = c.values(scaleName!, `node '${name}': rescale`).data as Float32Array;
    const wScale = `${name}/w_scale`;
    inits.push(floatInitializer(wScale, s.length === 1 ? [] : [s.length], Float32Array.from(s, (v) => Math.fround(v / sx))));
    const wDims = c.values(wq!, `node '${name}': weights`).dims;
    // Per output channel: axis 0 of a convolution's weights, the last of a MatMul's [K, N].
    const axis = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: floatOp === 'Conv' ? 0 : wDims.length - 1 })];
    const dq = (input: string[], output: string, attribute: onnx.IAttributeProto[] = []): onnx.INodeProto => onnx.NodeProto.create({ name: `${name}/dequantize_${output}`, opType: 'DequantizeLinear', input, output: [`${name}/${output}`], attribute });
    const x = dq(xz ? [xq!, xScale, xz] : [xq!, xScale], 'x');
    const w = dq(wz ? [wq!, wScale, wz] : [wq!, wScale], 'w', s.length > 1 ? axis : []);
    const float = onnx.NodeProto.create({ name: `${name}/${floatOp.toLowerCase()}`, opType: floatOp, input: [x.output![0]!, w.output![0]!], output: [mul[0]!.output![0]!], attribute: n.attribute ?? [] });
    nodes.set(n, [x, w, float]);
    dropped.add(cast[0]!).add(mul[0]!);
  });
  return { nodes, dropped };
}
