import { onnx } from '../proto.js';
import { ModelFormatError } from '../../../errors.js';
import { decodeTensor, type DecodedTensor } from '../tensor-proto.js';

const DT = onnx.TensorProto.DataType;

/** The integer element types a quantized ONNX file uses for codes, by ONNX data type. */
export const CODE_TYPES: ReadonlyMap<number, 'uint8' | 'int8' | 'int32'> = new Map([
  [DT.UINT8, 'uint8'],
  [DT.INT8, 'int8'],
  [DT.INT32, 'int32'],
]);

/**
 * The constants of a graph by name: its initializers and the outputs of its
 * Constant nodes (exporters write scales and zero points either way).
 */
export class GraphConstants {
  private readonly protos = new Map<string, onnx.ITensorProto>();

  constructor(graph: onnx.IGraphProto) {
    for (const t of graph.initializer ?? []) if (t.name) this.protos.set(t.name, t);
    // In order: PyTorch writes a bias's zero point as Cast(ConstantOfShape(Constant)), which folds here.
    for (const n of graph.node ?? []) {
      const out = n.output?.[0];
      if (!out) continue;
      if (n.opType === 'Constant') {
        const value = n.attribute?.find((a) => a.name === 'value')?.t;
        if (value) this.protos.set(out, value);
      } else if (n.opType === 'ConstantOfShape' && this.has(n.input?.[0])) {
        const dims = (this.values(n.input![0]!, `node '${n.name}': shape`).data as number[]).map(Number);
        const fill = n.attribute?.find((a) => a.name === 'value')?.t;
        const v = fill ? decodeTensor(fill, `node '${n.name}': value`) : { kind: 'float' as const, data: [0] };
        this.protos.set(out, onnx.TensorProto.create({ dims, dataType: fill?.dataType ?? DT.FLOAT, ...filled(fill?.dataType ?? DT.FLOAT, dims, Number(v.data[0] ?? 0)) }));
      } else if (n.opType === 'Cast' && this.has(n.input?.[0])) {
        const to = Number(n.attribute?.find((a) => a.name === 'to')?.i ?? 0);
        const t = this.values(n.input![0]!, `node '${n.name}': input`);
        if (CODE_TYPES.has(to)) this.protos.set(out, onnx.TensorProto.create({ dims: t.dims, dataType: to, int32Data: Array.from(t.data, (x) => Math.trunc(Number(x))) }));
      }
    }
  }

  has(name: string | undefined): boolean {
    return name !== undefined && name !== '' && this.protos.has(name);
  }

  /** The ONNX data type of a constant. */
  dataType(name: string): number {
    return this.protos.get(name)?.dataType ?? 0;
  }

  /** A constant's values; `what` names it in errors. */
  values(name: string, what: string): DecodedTensor {
    const t = this.protos.get(name);
    if (!t) throw new ModelFormatError(`${what}: '${name}' is not a constant (an initializer or a Constant node)`);
    return decodeTensor(t, `${what} '${name}'`);
  }
}

/** A float32 initializer. */
export function floatInitializer(name: string, dims: readonly number[], data: Float32Array): onnx.TensorProto {
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DT.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  });
}

/** The typed field of a tensor of `count(dims)` copies of `value`. */
function filled(type: number, dims: readonly number[], value: number): Partial<onnx.ITensorProto> {
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Array<number>(count).fill(value);
  return type === DT.FLOAT ? { floatData: values } : type === DT.INT64 ? { int64Data: values } : { int32Data: values };
}
