import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import type { GraphBuilder } from './builder.js';
import type { NodeAttrs } from './graph-attrs.js';
import { broadcastConstantToIr } from './nhwc.js';

/**
 * What the graph-model importer knows of a TF tensor: a run-time tensor (an
 * IR tensor, NCHW for rank 4), or a constant, kept in TF's own layout until
 * an op reads it, since only the op knows how it lines up with the data.
 */
export type GraphValue = { kind: 'tensor'; ir: string } | { kind: 'const'; shape: number[]; data: Float32Array };

export interface TfNode {
  name: string;
  op: string;
  /** Data inputs as tensor keys (`node` for output 0, `node:k` otherwise); control inputs dropped. */
  inputs: string[];
  attrs: NodeAttrs;
}

/** A TF tensor reference (`node`, `node:0`, `node:2`) as the key the importer stores it under. */
export function tensorKey(ref: string): string {
  return ref.endsWith(':0') ? ref.slice(0, -2) : ref;
}

export class GraphContext {
  constructor(
    readonly b: GraphBuilder,
    private readonly values: Map<string, GraphValue>,
  ) {}

  unsupported(node: TfNode, detail: string): UnsupportedOperatorError {
    return new UnsupportedOperatorError(node.name, node.op, detail);
  }

  define(key: string, v: GraphValue): void {
    this.values.set(key, v);
  }

  value(node: TfNode, i: number): GraphValue {
    const key = node.inputs[i];
    if (key === undefined) throw new ModelFormatError(`node '${node.name}' (${node.op}) lacks its input ${i}`);
    const v = this.values.get(key);
    if (!v) throw new ModelFormatError(`node '${node.name}' (${node.op}) reads '${key}', which is not defined before it`);
    return v;
  }

  /** Input `i` as an IR tensor; a constant becomes an IR constant in the IR's layout. */
  tensor(node: TfNode, i: number): string {
    return this.materialize(node.inputs[i]!, this.value(node, i));
  }

  /** The IR tensor of a value; a constant is added to the graph, in the IR's layout. */
  materialize(key: string, v: GraphValue): string {
    if (v.kind === 'tensor') return v.ir;
    const ir = broadcastConstantToIr(v.data, v.shape, v.shape.length);
    return this.b.constant(key, ir.shape, ir.data);
  }

  /** Input `i`, which must be known at import time (weights, axes, shapes). */
  constant(node: TfNode, i: number, what: string): { shape: number[]; data: Float32Array } {
    const v = this.value(node, i);
    if (v.kind === 'tensor') throw this.unsupported(node, `needs a constant ${what} (input ${i}, '${node.inputs[i]}', is computed at run time)`);
    return v;
  }

  ints(node: TfNode, i: number, what: string): number[] {
    return Array.from(this.constant(node, i, what).data);
  }

  rank(ir: string): number {
    return this.b.shape(ir).length;
  }
}
