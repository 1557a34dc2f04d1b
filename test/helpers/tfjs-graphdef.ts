import type { TfjsArtifacts } from '../../src/import/tfjs/index.js';
import { rng } from './tfjs-keras.js';

/**
 * Write a TF.js graph model by hand: GraphDef nodes as TF.js's converter
 * writes them to model.json (attributes as AttrValue JSON, strings base64),
 * constants in the weights manifest. TF.js itself then runs it as the reference.
 */
type Attr = Record<string, unknown>;

export const attr = {
  s: (v: string): Attr => ({ s: Buffer.from(v).toString('base64') }),
  i: (v: number): Attr => ({ i: String(v) }),
  f: (v: number): Attr => ({ f: v }),
  b: (v: boolean): Attr => ({ b: v }),
  type: (v: string): Attr => ({ type: v }),
  ints: (v: number[]): Attr => ({ list: { i: v.map(String) } }),
  strings: (v: string[]): Attr => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  shape: (dims: number[]): Attr => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } }),
};

export class GraphDefBuilder {
  private readonly nodes: object[] = [];
  private readonly weights: Array<{ name: string; shape: number[]; dtype: string }> = [];
  private readonly chunks: Uint8Array[] = [];
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = rng(seed);
  }

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.type('DT_FLOAT'), shape: attr.shape(shape) } });
    return name;
  }

  /** A float constant, given or seeded-random in [-0.5, 0.5) (plus `offset`). */
  const(name: string, shape: number[], values?: number[], offset = 0): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => (values ? values[i]! : this.next() - 0.5 + offset));
    this.addConst(name, shape, 'float32', 'DT_FLOAT', new Uint8Array(data.buffer));
    return name;
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    this.addConst(name, shape, 'int32', 'DT_INT32', new Uint8Array(Int32Array.from(values).buffer));
    return name;
  }

  private addConst(name: string, shape: number[], dtype: string, tfType: string, bytes: Uint8Array): void {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type(tfType), value: { tensor: { dtype: tfType, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    this.weights.push({ name, shape, dtype });
    this.chunks.push(bytes);
  }

  node(name: string, op: string, input: string[], attrs: Record<string, Attr> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: attr.type('DT_FLOAT'), ...attrs } });
    return name;
  }

  artifacts(): TfjsArtifacts {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const data = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      data.set(c, offset);
      offset += c.length;
    }
    const modelJson = {
      format: 'graph-model',
      generatedBy: 'quantgpu tests',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: this.weights }],
    };
    return { modelJson, weightData: data.buffer };
  }
}

/** Conv attributes in NHWC as TF writes them. */
export function convAttrs(strides: number, padding: 'SAME' | 'VALID' | 'EXPLICIT', extra: Record<string, Attr> = {}): Record<string, Attr> {
  return { strides: attr.ints([1, strides, strides, 1]), padding: attr.s(padding), data_format: attr.s('NHWC'), dilations: attr.ints([1, 1, 1, 1]), ...extra };
}
