import type { Tensor } from '../cpu/tensor.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';

/**
 * The index of the first float layer whose fake quantization differs between
 * two quantizations of one graph: its integer form (weights, scales, bias,
 * requantization, table...) or the parameters of a tensor it reads or makes.
 * Layers before it compute the same values under both, so a candidate can be
 * run from there, fed the tensors at the cut from a run of the other.
 * 0 when nothing can be shared; the layer count when they are the same.
 */
export function firstChangedLayer(a: QuantizedGraph, b: QuantizedGraph): number {
  // Each quantization prepares its own copy of the float graph: the same layers, by name and order.
  const layers = a.float.layers;
  if (layers.length !== b.float.layers.length || layers.some((l, i) => l.name !== b.float.layers[i]!.name)) return 0;
  const qa = new Map(a.layers.map((l) => [l.name, l]));
  const qb = new Map(b.layers.map((l) => [l.name, l]));
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (!same(qa.get(l.name), qb.get(l.name), 'layer')) return i;
    for (const t of [...l.inputs, ...l.outputs]) if (!same(a.tensors.get(t), b.tensors.get(t))) return i;
  }
  return layers.length;
}

/**
 * Structural equality of quantized layers and parameters: typed arrays
 * element by element, objects key by key; `skip` names a key left out at the
 * top (a quantized layer's float layer, the same by name).
 */
function same(x: unknown, y: unknown, skip?: string): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return Number.isNaN(x) && Number.isNaN(y);
  if (ArrayBuffer.isView(x) || ArrayBuffer.isView(y)) {
    if (!ArrayBuffer.isView(x) || !ArrayBuffer.isView(y) || x.constructor !== y.constructor) return false;
    const [u, v] = [x as unknown as ArrayLike<number>, y as unknown as ArrayLike<number>];
    if (u.length !== v.length) return false;
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i] && !(Number.isNaN(u[i]) && Number.isNaN(v[i]))) return false;
    return true;
  }
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  if (kx.length !== ky.length) return false;
  return kx.every((k) => k === skip || (Object.prototype.hasOwnProperty.call(y, k) && same((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k])));
}

/** The tensors at one cut of one anchor config's fake-quant run, batch by batch. */
export interface Prefix {
  readonly key: string;
  readonly at: number;
  readonly batches: ReadonlyArray<Readonly<Record<string, Tensor>>>;
  readonly floats: number;
}

/**
 * The last few prefixes computed, bounded in memory: the tensors at a cut
 * over a whole validation split can be hundreds of megabytes, and a search
 * moves through cuts in network order, so a small LRU is what pays.
 */
export class PrefixCache {
  private readonly entries: Prefix[] = [];

  constructor(
    private readonly maxEntries = 3,
    /** Float32 values kept in all, 96M (384 MB) by default. */
    private readonly maxFloats = 96 * 2 ** 20,
  ) {}

  /** Whether a prefix of this many values may be kept at all. */
  fits(floats: number): boolean {
    return floats <= this.maxFloats / 2;
  }

  get(key: string): Prefix | undefined {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1);
    this.entries.push(e!);
    return e;
  }

  put(p: Prefix): void {
    this.entries.push(p);
    let total = this.entries.reduce((s, e) => s + e.floats, 0);
    while (this.entries.length > this.maxEntries || (total > this.maxFloats && this.entries.length > 1)) total -= this.entries.shift()!.floats;
  }
}
