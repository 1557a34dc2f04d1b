import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import { asArray, asNumber, isObject, type JsonObject } from './json.js';

/**
 * A TensorProto written inside a node (JSON of the protobuf): TF.js moves
 * constants to the weights, but hand-made or older graphs keep small ones
 * inline, as `floatVal`/`intVal`/`boolVal` lists (one value fills the whole
 * tensor) or raw little-endian `tensorContent`.
 */
export function inlineTensor(t: JsonObject, what: string): { shape: number[]; data: Float32Array } {
  const dims = isObject(t.tensorShape) ? asArray(t.tensorShape.dim ?? [], `${what}: tensorShape.dim`) : [];
  const shape = dims.map((d, i) => asNumber(isObject(d) ? (d.size ?? 0) : d, `${what}: dim ${i}`));
  const count = shape.reduce((a, b) => a * b, 1);
  const dtype = typeof t.dtype === 'string' ? t.dtype : 'DT_FLOAT';
  if (typeof t.tensorContent === 'string') return { shape, data: rawContent(t.tensorContent, dtype, count, what) };
  const list = t.floatVal ?? t.intVal ?? t.int64Val ?? t.boolVal ?? t.doubleVal;
  const values = list === undefined ? [] : asArray(list, what).map((v) => (typeof v === 'boolean' ? Number(v) : asNumber(v, what)));
  if (values.length === 0 && count > 0) throw new ModelFormatError(`${what} holds no values`);
  if (values.length !== count && values.length !== 1) throw new ModelFormatError(`${what} holds ${values.length} values for shape [${shape.join(',')}]`);
  const data = new Float32Array(count);
  values.length === 1 ? data.fill(values[0]!) : data.set(values);
  return { shape, data };
}

function rawContent(b64: string, dtype: string, count: number, what: string): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    throw new ModelFormatError(`${what}: tensorContent is not valid base64`);
  }
  const size = dtype === 'DT_FLOAT' || dtype === 'DT_INT32' ? 4 : 0;
  if (size === 0) throw new UnsupportedOperatorError(what, 'Const', `of type ${dtype} with raw content is not supported`);
  if (bytes.length !== count * size) throw new ModelFormatError(`${what}: tensorContent has ${bytes.length} bytes for ${count} values`);
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: count }, (_, i) => (dtype === 'DT_FLOAT' ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true)));
}
