/**
 * A graph (float or quantized) as text, and back: what crosses from Node to
 * a browser page must be a string, and the graphs hold Maps and typed arrays,
 * which JSON drops. Typed arrays travel as base64 of their bytes (little
 * endian, as every WebGPU host is), Maps as their entries. The decoded graph
 * is equal, value for value, to the encoded one: the page runs exactly the
 * integers the golden executor runs.
 */
import { base64ToBytes, bytesToBase64 } from '../io/base64.js';

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;

export function encodeGraph(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, key: string, v: unknown) {
    // JSON.stringify hands the replacer typed arrays and Maps as they are (neither has toJSON).
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const type = v.constructor.name;
      if (!(type in TYPED)) throw new TypeError(`encodeGraph: ${type} at '${key}' is not supported`);
      return { $typed: type, b64: bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (v instanceof Map) return { $map: [...v.entries()] };
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $number: Object.is(v, -0) ? '-0' : String(v) };
    return v;
  });
}

export function decodeGraph<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$typed === 'string' && typeof o.b64 === 'string') {
        const ctor = TYPED[o.$typed as TypedName];
        const bytes = base64ToBytes(o.b64);
        return new ctor(bytes.buffer as ArrayBuffer, 0, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
      }
      if (Array.isArray(o.$map)) return new Map(o.$map as [unknown, unknown][]);
      if (typeof o.$number === 'string') return Number(o.$number);
    }
    return v;
  }) as T;
}
