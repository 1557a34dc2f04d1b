import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/cpu/tensor.js';
import { onnx } from '../../src/import/onnx/proto.js';
import { decodeTensor } from '../../src/import/onnx/tensor-proto.js';
import { importQuantizedOnnx, type ImportedQuantized } from '../../src/import/onnx/quantized/import-quantized.js';
import { ONNX_TESTDATA } from './onnx-testdata.js';

/** One of ONNX's quantized-operator cases as a model: its first input fed, the others (scales, zero points, weights) frozen to the case's values. */
export interface QuantizedCase {
  id: string;
  imported: ImportedQuantized;
  /** The fed input as floats: an integer input's dequantized values (our quantize step gives its codes back). */
  input: Tensor;
  inputName: string;
  /** The expected output: its values, and whether they are integer codes (a QuantizeLinear's) or floats. */
  expected: { name: string; data: number[]; codes: boolean };
}

/** The case's model with every graph input but the first turned into an initializer holding the case's data. */
export function frozenCaseModel(id: string): { model: onnx.ModelProto; fed: onnx.ITensorProto; output: onnx.ITensorProto } {
  const dir = join(ONNX_TESTDATA, id);
  const model = onnx.ModelProto.decode(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
  const set = join(dir, 'test_data_set_0');
  const read = (prefix: string): onnx.TensorProto[] =>
    readdirSync(set)
      .filter((f) => f.startsWith(prefix))
      .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
      .map((f) => onnx.TensorProto.decode(new Uint8Array(readFileSync(join(set, f)))));
  const inputs = read('input_');
  const g = model.graph!;
  const names = (g.input ?? []).map((i) => i.name ?? '');
  inputs.slice(1).forEach((t, k) => g.initializer!.push({ ...t, name: names[k + 1]! }));
  g.input = g.input!.slice(0, 1);
  return { model, fed: { ...inputs[0]!, name: names[0]! }, output: read('output_')[0]! };
}

export function loadQuantizedCase(id: string): QuantizedCase {
  const { model, fed, output } = frozenCaseModel(id);
  const x = decodeTensor(fed, `${id} input`);
  const outType = model.graph!.output![0]!.type?.tensorType?.elemType ?? onnx.TensorProto.DataType.FLOAT;
  const inputName = fed.name!;
  // The fed input's scale and zero point: inputs 1 and 2 of the node reading it (QLinearConv, QLinearMatMul, DequantizeLinear alike).
  const reader = model.graph!.node!.find((n) => n.input![0] === inputName)!;
  const init = (name: string): number => Number(decodeTensor(model.graph!.initializer!.find((t) => t.name === name)!, name).data[0]);
  const imported = importQuantizedOnnx(model);
  let data = Float32Array.from(x.data as ArrayLike<number>);
  if (x.kind === 'int') {
    const [scale, zeroPoint] = [init(reader.input![1]!), init(reader.input![2]!)];
    data = Float32Array.from(x.data as number[], (q) => (q - zeroPoint) * scale);
  }
  const y = decodeTensor(output, `${id} output`);
  return {
    id,
    imported,
    input: { shape: x.dims, data },
    inputName,
    expected: { name: model.graph!.output![0]!.name!, data: Array.from(y.data as ArrayLike<number>), codes: outType !== onnx.TensorProto.DataType.FLOAT },
  };
}
