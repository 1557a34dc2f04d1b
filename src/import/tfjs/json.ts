import { ModelFormatError } from '../../errors.js';

/**
 * Typed reads from parsed JSON. model.json files come from many converters
 * and hand edits, so every field is checked where it is read, and a wrong one
 * is a ModelFormatError that says where it sits (`what`).
 */
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObject(v: unknown, what: string): JsonObject {
  if (!isObject(v)) throw new ModelFormatError(`${what} should be a JSON object`);
  return v;
}

export function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ModelFormatError(`${what} should be a JSON array`);
  return v;
}

export function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ModelFormatError(`${what} should be a string`);
  return v;
}

export function asNumber(v: unknown, what: string): number {
  // TF's JSON writes 64-bit integers as strings ("i": "2").
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new ModelFormatError(`${what} should be a number`);
  return n;
}

export function asNumbers(v: unknown, what: string): number[] {
  return asArray(v, what).map((x, i) => asNumber(x, `${what}[${i}]`));
}

/** A number or a list of `n` numbers (Keras accepts `3` for `[3, 3]`). */
export function asPair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = asNumbers(v, what);
  if (a.length === 1) return [a[0]!, a[0]!];
  if (a.length !== 2) throw new ModelFormatError(`${what} should hold 2 numbers, has ${a.length}`);
  return [a[0]!, a[1]!];
}

/** Parse model.json text; anything but a JSON object is a ModelFormatError naming the file. */
export function parseJsonObject(text: string, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${what} is not valid JSON (${(e as Error).message})`);
  }
  return asObject(v, what);
}
