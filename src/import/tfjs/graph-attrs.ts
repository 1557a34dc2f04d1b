import { ModelFormatError } from '../../errors.js';
import { asArray, asNumber, isObject, type JsonObject } from './json.js';

/**
 * A TensorFlow NodeDef's `attr`, as TF.js writes it to JSON: each attribute
 * is an AttrValue with one field set: `s` (bytes, base64), `i` (int64 as a
 * string), `f`, `b`, `type`, `shape`, `tensor`, or `list` of one of those.
 * Typed reads; a wrong type is a ModelFormatError naming the node.
 */
export class NodeAttrs {
  constructor(
    private readonly node: string,
    private readonly attrs: JsonObject,
  ) {}

  has(name: string): boolean {
    return isObject(this.attrs[name]);
  }

  private field(name: string, key: string): unknown {
    const a = this.attrs[name];
    if (!isObject(a)) return undefined;
    return a[key];
  }

  private what(name: string): string {
    return `node '${this.node}': attribute '${name}'`;
  }

  string(name: string, fallback: string): string {
    const s = this.field(name, 's');
    if (s === undefined) return fallback;
    if (typeof s !== 'string') throw new ModelFormatError(`${this.what(name)} should be a base64 string`);
    return decodeBase64(s, this.what(name));
  }

  int(name: string, fallback: number): number {
    const i = this.field(name, 'i');
    return i === undefined ? fallback : asNumber(i, this.what(name));
  }

  float(name: string, fallback: number): number {
    const f = this.field(name, 'f');
    return f === undefined ? fallback : asNumber(f, this.what(name));
  }

  bool(name: string, fallback: boolean): boolean {
    const b = this.field(name, 'b');
    if (b === undefined) return fallback;
    if (typeof b !== 'boolean') throw new ModelFormatError(`${this.what(name)} should be true or false`);
    return b;
  }

  /** A dtype such as 'DT_FLOAT'. */
  type(name: string, fallback: string): string {
    const t = this.field(name, 'type');
    return typeof t === 'string' ? t : fallback;
  }

  ints(name: string): number[] | undefined {
    const list = this.field(name, 'list');
    if (!isObject(list)) return undefined;
    return asArray(list.i ?? [], this.what(name)).map((v, k) => asNumber(v, `${this.what(name)}[${k}]`));
  }

  strings(name: string): string[] | undefined {
    const list = this.field(name, 'list');
    if (!isObject(list)) return undefined;
    return asArray(list.s ?? [], this.what(name)).map((v) => {
      if (typeof v !== 'string') throw new ModelFormatError(`${this.what(name)} should list base64 strings`);
      return decodeBase64(v, this.what(name));
    });
  }

  /** A TensorShapeProto: sizes (-1 unknown), or undefined for an unknown rank. */
  shape(name: string): number[] | undefined {
    const s = this.field(name, 'shape');
    if (!isObject(s) || s.unknownRank === true) return undefined;
    return asArray(s.dim ?? [], this.what(name)).map((d, k) => (isObject(d) && d.size !== undefined ? asNumber(d.size, `${this.what(name)}.dim[${k}]`) : -1));
  }

  /** An inline TensorProto (Const nodes whose value is not in the weights manifest). */
  tensor(name: string): JsonObject | undefined {
    const t = this.field(name, 'tensor');
    return isObject(t) ? t : undefined;
  }
}

function decodeBase64(s: string, what: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
  } catch {
    throw new ModelFormatError(`${what} is not valid base64`);
  }
}
