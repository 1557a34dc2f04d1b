import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import type { Constant } from '../../ir/graph.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import type { Layer } from '../../ir/layers.js';
import type { Dim, Shape } from '../../ir/shape.js';
import { runLayer } from '../../cpu/run-layer.js';
import type { Attributes } from './attributes.js';

/**
 * What the importer knows of a tensor: a run-time tensor (only its shape),
 * or a constant. Integer constants may hold symbols: `Shape(x)` of an input
 * with a symbolic batch gives `['N', 3, 32, 32]`, and the shape arithmetic
 * that exporters write around Reshape folds over such values.
 */
export type Value =
  | { kind: 'tensor'; shape: Shape }
  | { kind: 'float'; dims: number[]; data: Float32Array }
  | { kind: 'int'; dims: number[]; data: Dim[] };

export type ConstValue = Exclude<Value, { kind: 'tensor' }>;

export interface NodeInfo {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Attributes;
  opset: number;
}

export class ImportContext {
  readonly values = new Map<string, Value>();
  readonly layers: Layer[] = [];
  readonly constants = new Map<string, Constant>();
  private readonly layerNames = new Set<string>();
  /** Names that stand for another tensor (Identity, Dropout, Cast to float). */
  private readonly renames = new Map<string, string>();

  alias(name: string, of: string): void {
    const v = this.values.get(of);
    if (!v) throw new ModelFormatError(`'${name}' copies '${of}', which is not defined`);
    this.values.set(name, v);
    if (v.kind === 'tensor') this.renames.set(name, this.resolve(of));
    else this.renames.delete(name);
  }

  resolve(name: string): string {
    return this.renames.get(name) ?? name;
  }

  /** A copy of `source` under the name `name` (graph outputs that would otherwise have no producer). */
  emitCopy(name: string, source: string): void {
    const v = this.values.get(source)!;
    const src = v.kind === 'tensor' || source !== name ? source : `${name}__constant`;
    if (src !== source) this.values.set(src, v);
    this.renames.delete(name);
    this.materialize(src);
    this.layers.push({ name: this.uniqueName(`copy_${name}`), op: 'identity', inputs: [src], outputs: [name] });
    this.values.set(name, { kind: 'tensor', shape: this.shapeOf(v) });
  }

  /** The value of input `i`, or undefined when the input is absent (empty name or past the end). */
  input(node: NodeInfo, i: number): Value | undefined {
    const name = node.inputs[i];
    if (!name) return undefined;
    const v = this.values.get(name);
    if (!v) throw new ModelFormatError(`node '${node.name}' (${node.opType}) reads '${name}', which is not defined before it`);
    return v;
  }

  required(node: NodeInfo, i: number): Value {
    const v = this.input(node, i);
    if (!v) throw new ModelFormatError(`node '${node.name}' (${node.opType}) lacks its input ${i}`);
    return v;
  }

  /** A constant input, as a list of known integers (axes, pads, shapes). */
  constInts(node: NodeInfo, i: number, what: string): number[] | undefined {
    const v = this.input(node, i);
    if (!v) return undefined;
    if (v.kind === 'tensor') {
      throw new UnsupportedOperatorError(node.name, node.opType, `needs a constant ${what} (input ${i}, '${node.inputs[i]}' is computed at run time)`);
    }
    return Array.from(v.data, (d) => {
      if (typeof d !== 'number') throw new UnsupportedOperatorError(node.name, node.opType, `needs a known ${what}, it depends on the symbolic dimension '${d}'`);
      return d;
    });
  }

  /** A constant input that may hold symbols (Reshape's target shape). */
  constDims(node: NodeInfo, i: number, what: string): Dim[] {
    const v = this.required(node, i);
    if (v.kind === 'tensor') {
      throw new UnsupportedOperatorError(node.name, node.opType, `needs a constant ${what} (input ${i}, '${node.inputs[i]}' is computed at run time)`);
    }
    return Array.from(v.data);
  }

  define(name: string, v: Value): void {
    this.values.set(name, v);
  }

  shapeOf(v: Value): Shape {
    return v.kind === 'tensor' ? v.shape : v.dims;
  }

  /** Register the constant behind a name so that layers can read it. */
  private materialize(name: string): void {
    const v = this.values.get(name);
    if (!v || v.kind === 'tensor' || this.constants.has(name)) return;
    if (v.kind === 'float') this.constants.set(name, { shape: v.dims, data: v.data });
    else {
      const data = new Float32Array(v.data.length);
      v.data.forEach((d, i) => {
        if (typeof d !== 'number') throw new ModelFormatError(`constant '${name}' holds the symbolic dimension '${d}' and cannot be used as data`);
        data[i] = d;
      });
      this.constants.set(name, { shape: v.dims, data });
    }
  }

  /**
   * Add a layer. When every input is constant the layer is evaluated now on
   * the CPU and its outputs become constants (constant folding); otherwise
   * its output shapes are inferred and it joins the graph.
   */
  emit(layer: Layer): void {
    layer.inputs = layer.inputs.map((n) => this.resolve(n));
    const ins = layer.inputs.map((n) => {
      const v = this.values.get(n);
      if (!v) throw new ModelFormatError(`layer '${layer.name}' reads '${n}', which is not defined`);
      return v;
    });
    if (ins.every((v) => v.kind !== 'tensor')) {
      const consts = ins as ConstValue[];
      const tensors = consts.map((v, k) => ({ shape: v.dims, data: this.floatData(layer.inputs[k]!, v) }));
      const outs = runLayer(layer, tensors);
      layer.outputs.forEach((o, k) => this.define(o, { kind: 'float', dims: outs[k]!.shape, data: outs[k]!.data }));
      return;
    }
    const shapes = inferLayerShapes(layer, ins.map((v) => this.shapeOf(v)));
    layer.inputs.forEach((n) => this.materialize(n));
    layer.outputs.forEach((o, k) => this.define(o, { kind: 'tensor', shape: shapes[k]! }));
    layer.name = this.uniqueName(layer.name);
    this.layers.push(layer);
  }

  private floatData(name: string, v: ConstValue): Float32Array {
    if (v.kind === 'float') return v.data;
    return Float32Array.from(v.data, (d) => {
      if (typeof d !== 'number') throw new ModelFormatError(`constant '${name}' holds the symbolic dimension '${d}'`);
      return d;
    });
  }

  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.layerNames.has(name); k++) name = `${base}_${k}`;
    this.layerNames.add(name);
    return name;
  }
}
