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
    for (const n of graph.node ?? []) {
      const value = n.opType === 'Constant' ? n.attribute?.find((a) => a.name === 'value')?.t : undefined;
      if (value && n.output?.[0]) this.protos.set(n.output[0], value);
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
