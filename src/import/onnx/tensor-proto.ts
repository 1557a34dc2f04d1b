import { onnx } from './proto.js';
import { ModelFormatError } from '../../errors.js';
import { halfToFloat } from '../../util/half.js';

/** An ONNX tensor decoded to JavaScript numbers: floats as Float32Array, integers and booleans as plain numbers. */
export type DecodedTensor =
  | { kind: 'float'; dims: number[]; data: Float32Array }
  | { kind: 'int'; dims: number[]; data: number[] };

const DT = onnx.TensorProto.DataType;

export function dataTypeName(t: number): string {
  return DT[t] ?? `type ${t}`;
}

/** Whether tensors of this ONNX data type hold floats (decoded to float32) or integers. */
export function dataTypeKind(t: number): 'float' | 'int' | undefined {
  switch (t) {
    case DT.FLOAT:
    case DT.DOUBLE:
    case DT.FLOAT16:
    case DT.BFLOAT16:
      return 'float';
    case DT.INT8:
    case DT.INT16:
    case DT.INT32:
    case DT.INT64:
    case DT.UINT8:
    case DT.UINT16:
    case DT.UINT32:
    case DT.UINT64:
    case DT.BOOL:
      return 'int';
    default:
      return undefined;
  }
}

function bfloat16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, b << 16);
  return view.getFloat32(0);
}

/** Decode a TensorProto (raw_data or typed fields, little-endian as ONNX stores it). */
export function decodeTensor(t: onnx.ITensorProto, what: string): DecodedTensor {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const kind = dataTypeKind(type);
  if (!kind) throw new ModelFormatError(`${what}: tensor data type ${dataTypeName(type)} is not supported`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new ModelFormatError(`${what}: weights stored in external files are not supported; save the model with its weights inside`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  let values: ArrayLike<number>;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width = byteWidth(type);
    if (raw.byteLength !== count * width) {
      throw new ModelFormatError(`${what}: raw data holds ${raw.byteLength} bytes, the shape [${dims.join(',')}] of ${dataTypeName(type)} needs ${count * width}`);
    }
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = readScalar(view, i * width, type);
    values = out;
  } else {
    values = typedField(t, type);
    if (values.length !== count) {
      throw new ModelFormatError(`${what}: holds ${values.length} values, the shape [${dims.join(',')}] needs ${count}`);
    }
  }
  if (kind === 'float') return { kind, dims, data: Float32Array.from(values) };
  return { kind, dims, data: Array.from(values) };
}

function byteWidth(type: number): number {
  switch (type) {
    case DT.DOUBLE:
    case DT.INT64:
    case DT.UINT64:
      return 8;
    case DT.FLOAT:
    case DT.INT32:
    case DT.UINT32:
      return 4;
    case DT.FLOAT16:
    case DT.BFLOAT16:
    case DT.INT16:
    case DT.UINT16:
      return 2;
    default:
      return 1;
  }
}

function readScalar(v: DataView, off: number, type: number): number {
  switch (type) {
    case DT.FLOAT: return v.getFloat32(off, true);
    case DT.DOUBLE: return v.getFloat64(off, true);
    case DT.FLOAT16: return halfToFloat(v.getUint16(off, true));
    case DT.BFLOAT16: return bfloat16ToFloat(v.getUint16(off, true));
    case DT.INT8: return v.getInt8(off);
    case DT.UINT8:
    case DT.BOOL: return v.getUint8(off);
    case DT.INT16: return v.getInt16(off, true);
    case DT.UINT16: return v.getUint16(off, true);
    case DT.INT32: return v.getInt32(off, true);
    case DT.UINT32: return v.getUint32(off, true);
    case DT.INT64: return Number(v.getBigInt64(off, true));
    case DT.UINT64: return Number(v.getBigUint64(off, true));
    default: throw new ModelFormatError(`data type ${dataTypeName(type)} is not supported`);
  }
}

/** The typed repeated fields of TensorProto; float16 travels as raw bits in int32_data. */
function typedField(t: onnx.ITensorProto, type: number): number[] {
  switch (type) {
    case DT.FLOAT: return (t.floatData ?? []).map(Number);
    case DT.DOUBLE: return (t.doubleData ?? []).map(Number);
    case DT.FLOAT16: return (t.int32Data ?? []).map((h) => halfToFloat(Number(h)));
    case DT.BFLOAT16: return (t.int32Data ?? []).map((h) => bfloat16ToFloat(Number(h)));
    case DT.INT64: return (t.int64Data ?? []).map(Number);
    case DT.UINT32:
    case DT.UINT64: return (t.uint64Data ?? []).map(Number);
    default: return (t.int32Data ?? []).map(Number);
  }
}

/** Decode a serialized TensorProto file (the `.pb` files of ONNX's test data). */
export function decodeTensorFile(bytes: Uint8Array, what: string): DecodedTensor & { name: string } {
  let proto: onnx.TensorProto;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new ModelFormatError(`${what}: not an ONNX TensorProto (${(e as Error).message})`);
  }
  return { ...decodeTensor(proto, what), name: proto.name ?? '' };
}
