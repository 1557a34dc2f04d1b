/**
 * Operator-form quantized ONNX (QLinearConv, QLinearMatMul, com.microsoft's
 * QLinearAdd) rewritten as the QDQ form that means the same: each operator
 * becomes DequantizeLinear of its inputs, the float operator, and
 * QuantizeLinear of its output with the operator's output scale and zero
 * point. QLinearConv's int32 bias is in units of S_x * S_w (ONNX's
 * definition), so its DequantizeLinear gets the scale float32(S_x * S_w[c]).
 * Consecutive operators then meet as QuantizeLinear/DequantizeLinear pairs,
 * which `stripQdq` reads. Integer operators whose output is an unscaled
 * int32 accumulator (ConvInteger, MatMulInteger) are refused, naming the node.
 */
import { onnx } from '../proto.js';
import { UnsupportedOperatorError } from '../../../errors.js';
import { GraphConstants, floatInitializer } from './constants.js';

/** The quantized operators this module turns into QDQ, and those it refuses. */
export const LOWERED_OPS: readonly string[] = ['QLinearConv', 'QLinearMatMul', 'QLinearAdd'];
const REFUSED: Readonly<Record<string, string>> = {
  ConvInteger: 'is not supported: its output is an unscaled int32 accumulator rescaled by float operators after it (dynamic quantization); quantize the model statically (QDQ or QLinearConv)',
  MatMulInteger: 'is not supported: its output is an unscaled int32 accumulator rescaled by float operators after it (dynamic quantization); quantize the model statically (QDQ or QLinearMatMul)',
  DynamicQuantizeLinear: 'is not supported: it chooses scales at run time; quantize the model statically',
};

export function lowerQOperators(model: onnx.IModelProto): void {
  const g = model.graph!;
  const c = new GraphConstants(g);
  const out: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  (g.node ?? []).forEach((n, i) => {
    const op = n.opType ?? '';
    const name = n.name || `${op}_${n.output?.[0] ?? i}`;
    if (REFUSED[op]) throw new UnsupportedOperatorError(name, op, REFUSED[op]);
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
