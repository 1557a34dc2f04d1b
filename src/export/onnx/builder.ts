import { onnx } from '../../import/onnx/proto.js';
import type { Shape } from '../../ir/shape.js';

/** The ONNX opset every file we write declares (HardSwish needs 14, Resize's tf_half_pixel_for_nn ends at 17). */
export const WRITE_OPSET = 17;
/** IR version 10 (ONNX 1.16) reads opsets up to 21. */
const IR_VERSION = 10;

const DT = onnx.TensorProto.DataType;

/** The element types we write: float activations and weights, int64 shapes and axes, 8-bit QDQ tensors, int32 biases. */
export type ElemType = 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8';

const ELEM: Record<ElemType, number> = { float32: DT.FLOAT, float64: DT.DOUBLE, int64: DT.INT64, int32: DT.INT32, int16: DT.INT16, int8: DT.INT8, uint8: DT.UINT8 };

type TypedData = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array;

/** An attribute value: ints and floats are told apart by the wrapper, since JavaScript numbers are both. */
export type AttrValue = { int: number } | { ints: readonly number[] } | { float: number } | { floats: readonly number[] } | { string: string };

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in v) return { name, type: T.INT, i: v.int };
  if ('ints' in v) return { name, type: T.INTS, ints: [...v.ints] };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: [...v.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(v.string) };
}

/** Little-endian bytes of typed data, as ONNX's raw_data holds it (every host we run on is little-endian). */
function rawBytes(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Collects the nodes, initializers and graph inputs and outputs of one ONNX
 * model and encodes it. Names are tracked so that tensors the writer makes
 * up (an activation's input, a shape operand) never collide with the
 * graph's own, which keep their names.
 */
export class OnnxModelBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<string, string>();
  /** Opsets of domains other than the default one that the model's nodes use (QONNX's Quant). */
  private readonly customOpsets = new Map<string, number>();

  constructor(
    private readonly name: string,
    reserved: Iterable<string>,
    /** The default-domain opset the model declares. */
    readonly opset = WRITE_OPSET,
  ) {
    for (const n of reserved) this.used.add(n);
  }

  /** A tensor name not used so far, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: Shape | undefined, elem: ElemType = 'float32'): void {
    this.inputs.push(valueInfo(name, shape, elem));
  }

  output(name: string, shape: Shape | undefined, elem: ElemType = 'float32'): void {
    this.outputs.push(valueInfo(name, shape, elem));
  }

  /** An initializer under the given name (a graph constant keeps its own). */
  initializer(name: string, dims: readonly number[], elem: ElemType, data: TypedData): string {
    this.used.add(name);
    this.initializers.push({ name, dims: [...dims], dataType: ELEM[elem], rawData: rawBytes(data) });
    return name;
  }

  /** A made-up int64 initializer (shapes, axes, pads); returns its name. */
  int64s(base: string, values: readonly number[]): string {
    return this.initializer(this.fresh(base), [values.length], 'int64', BigInt64Array.from(values, (v) => BigInt(v)));
  }

  /** A float32 scalar initializer, shared by every node that needs the same value. */
  floatScalar(value: number): string {
    return this.scalar(value, 'float32');
  }

  /** A float scalar initializer of either width, shared by every node that needs the same value. */
  scalar(value: number, elem: 'float32' | 'float64'): string {
    const key = `${elem}:${Object.is(value, -0) ? '-0' : String(value)}`;
    let name = this.scalars.get(key);
    if (!name) {
      const data = elem === 'float32' ? Float32Array.of(value) : Float64Array.of(value);
      name = this.initializer(this.fresh(`const_${this.scalars.size}`), [], elem, data);
      this.scalars.set(key, name);
    }
    return name;
  }

  /** An integer scalar of a narrow type (a zero point). */
  intScalar(value: number, elem: 'int16' | 'int8' | 'uint8'): string {
    const key = `${elem}:${value}`;
    let name = this.scalars.get(key);
    if (!name) {
      const data = elem === 'int16' ? Int16Array.of(value) : elem === 'int8' ? Int8Array.of(value) : Uint8Array.of(value);
      name = this.initializer(this.fresh(`zero_point_${this.scalars.size}`), [], elem, data);
      this.scalars.set(key, name);
    }
    return name;
  }

  /** Declare that nodes of `domain` follow its opset `version` (an opset_import entry). */
  useOpset(domain: string, version: number): void {
    const had = this.customOpsets.get(domain);
    if (had !== undefined && had !== version) throw new RangeError(`opset of domain '${domain}': version ${version} asked for after ${had}`);
    this.customOpsets.set(domain, version);
  }

  /** A node; `domain` (declared with useOpset) for an operator outside the default ONNX domain. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}, name?: string, domain?: string): void {
    if (domain !== undefined && !this.customOpsets.has(domain)) throw new RangeError(`node ${opType}: domain '${domain}' has no opset declared (useOpset)`);
    for (const o of outputs) this.used.add(o);
    this.nodes.push({
      name: name ?? this.fresh(`${opType}_${this.nodes.length}`),
      opType,
      ...(domain !== undefined ? { domain } : {}),
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).flatMap(([k, v]) => (v === undefined ? [] : [attribute(k, v)])),
    });
  }

  /** The model as ONNX protobuf bytes. */
  encode(producer = 'quantgpu'): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: '', version: this.opset }, ...[...this.customOpsets].map(([domain, version]) => ({ domain, version }))],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

function valueInfo(name: string, shape: Shape | undefined, elem: ElemType): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}
