import { onnx } from './proto.js';
import { ModelFormatError } from '../../errors.js';
import { decodeTensor, type DecodedTensor } from './tensor-proto.js';

/** Typed access to a node's attributes; a wrong type is a ModelFormatError naming the node. */
export class Attributes {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  constructor(
    private readonly node: string,
    attrs: readonly onnx.IAttributeProto[] | null | undefined,
  ) {
    for (const a of attrs ?? []) if (a.name) this.byName.set(a.name, a);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  private get(name: string, type: onnx.AttributeProto.AttributeType): onnx.IAttributeProto | undefined {
    const a = this.byName.get(name);
    // Old exporters leave `type` unset; trust the field that holds a value then.
    if (a && a.type && a.type !== type) {
      throw new ModelFormatError(`node '${this.node}': attribute '${name}' should be ${onnx.AttributeProto.AttributeType[type]}, is ${onnx.AttributeProto.AttributeType[a.type]}`);
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.get(name, onnx.AttributeProto.AttributeType.INT);
    return a ? Number(a.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.get(name, onnx.AttributeProto.AttributeType.FLOAT);
    return a ? Number(a.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, onnx.AttributeProto.AttributeType.STRING);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, onnx.AttributeProto.AttributeType.INTS);
    return a ? (a.ints ?? []).map(Number) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, onnx.AttributeProto.AttributeType.FLOATS);
    return a ? (a.floats ?? []).map(Number) : undefined;
  }

  tensor(name: string): DecodedTensor | undefined {
    const a = this.get(name, onnx.AttributeProto.AttributeType.TENSOR);
    return a?.t ? decodeTensor(a.t, `node '${this.node}' attribute '${name}'`) : undefined;
  }
}
